import Experiments
import Foundation
import XCTest

final class ConfigTests: XCTestCase {
    func testPlaceholder() {}
}

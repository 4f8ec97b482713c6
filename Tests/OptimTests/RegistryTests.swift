import Foundation
import TestSupport
import XCTest
@testable import Optim

/// The registry is collected at build time (the RegistrationCollector plugin) from the optimizer files'
/// `static let registration`; these tests check the collected list against the files themselves.
final class RegistryTests: XCTestCase {
    /// Sources/Optim.
    var optimSources: URL { Repository.url("Sources/Optim") }

    /// Every source file that declares a registration (a declaration line, not a comment) is in the
    /// registry, once: a file the build missed would be an optimizer no config could name.
    func testEveryFileWithARegistrationIsRegistered() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: optimSources.path).filter { $0.hasSuffix(".swift") }
        var declaring = 0
        for file in files {
            let text = try String(contentsOf: optimSources.appendingPathComponent(file), encoding: .utf8)
            declaring += text.split(separator: "\n").filter {
                let line = $0.drop { $0 == " " }
                return line.hasPrefix("static let registration") || line.hasPrefix("public static let registration")
            }.count
        }
        XCTAssertGreaterThanOrEqual(declaring, 9, "the paper's optimizers alone have nine files with a registration")
        XCTAssertEqual(registeredOptimizers.count, declaring,
                       "registeredOptimizers (collected by the build) and the files declaring `static let registration` disagree")
    }

    /// Names are unique, and the paper's optimizers come first, in the order of its tables (`position`).
    func testNamesAreUniqueAndThePaperOrderComesFirst() {
        XCTAssertEqual(Set(optimizerNames).count, optimizerNames.count, "a name is claimed twice: \(optimizerNames)")
        let paper = ["sgd", "sgdm", "adam", "amsgrad", "adamw", "adabound", "padam", "yogi", "radam", "adabelief",
                     "adamomentum", "adai", "adaiw", "adaiv2"]
        XCTAssertEqual(Array(optimizerNames.prefix(paper.count)), paper)
        let positions = registeredOptimizers.map(\.position)
        XCTAssertEqual(positions, positions.sorted(), "registeredOptimizers is not in position order")
        for r in registeredOptimizers where !paper.contains(r.variants[0].name) {
            XCTAssertGreaterThanOrEqual(r.position, 100, "\(r.variants[0].name): additions take positions from 100 on")
        }
    }
}

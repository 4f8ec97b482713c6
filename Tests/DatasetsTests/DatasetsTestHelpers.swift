import Foundation
import TestSupport
import XCTest

/// The package root (`Repository.root`).
let packageRoot: String = Repository.root.path

/// The path of a real data file or folder (`ptb`, `cifar-10-batches-bin`, ...) in the first of the places
/// `RealData` searches; fails the test loudly (it does not skip) when none holds it.
func realDataPath(_ relative: String, file: StaticString = #filePath, line: UInt = #line) -> String? {
    if let path = RealData.path(relative) { return path }
    XCTFail(RealData.missingMessage(relative), file: file, line: line)
    return nil
}

/// A fresh empty directory (`makeTemporaryDirectory(_ label:)`), removed when the test ends.
func makeTemporaryDirectory(_ test: XCTestCase) -> String {
    let path = try! makeTemporaryDirectory("datasets-test")
    test.addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
    return path
}

func writeFile(_ path: String, _ bytes: [UInt8]) {
    FileManager.default.createFile(atPath: path, contents: Data(bytes))
}

func writeFile(_ path: String, _ text: String) {
    FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
}

/// Raw CIFAR records: the label bytes then 3,072 pixel bytes filled by `pixel(record, index)`.
func cifarBytes(labels: [[UInt8]], pixel: (Int, Int) -> UInt8 = { r, i in UInt8((r * 7 + i) % 256) }) -> [UInt8] {
    var bytes: [UInt8] = []
    for (r, label) in labels.enumerated() {
        bytes += label
        for i in 0..<3072 { bytes.append(pixel(r, i)) }
    }
    return bytes
}

/// Asserts that `body` throws an error whose message contains every fragment.
func assertThrowsMessage<T>(_ body: @autoclosure () throws -> T, contains fragments: [String],
                            file: StaticString = #filePath, line: UInt = #line) {
    do {
        _ = try body()
        XCTFail("expected an error containing \(fragments)", file: file, line: line)
    } catch {
        let message = "\(error)"
        for fragment in fragments where !message.contains(fragment) {
            XCTFail("error message lacks \"\(fragment)\": \(message)", file: file, line: line)
        }
    }
}

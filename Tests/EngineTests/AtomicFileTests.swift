import Engine
import Foundation
import XCTest

final class AtomicFileTests: XCTestCase {
    func testAProducerWritesTheTemporaryFileAndAFailedOneLeavesNothing() throws {
        let directory = NSTemporaryDirectory() + "atomic-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/out.txt"
        try AtomicFile.write(to: path) { temporary in try "made\n".write(toFile: temporary, atomically: false, encoding: .utf8) }
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "made\n")
        struct Failed: Error {}
        XCTAssertThrowsError(try AtomicFile.write(to: path) { temporary in
            try "half".write(toFile: temporary, atomically: false, encoding: .utf8)
            throw Failed()
        }) { XCTAssert($0 is Failed, "\($0)") }
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "made\n")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory), ["out.txt"])
        XCTAssertThrowsError(try AtomicFile.write("x", to: directory + "/missing/x.txt")) { error in
            let e = error as? AtomicFile.WriteError
            XCTAssertEqual(e?.step, .directory)
            XCTAssertEqual(e?.systemReason, "No such file or directory")
            XCTAssertEqual(e?.description, "cannot write \(directory)/missing/x.txt: the directory \(directory)/missing does not exist")
        }
    }
}

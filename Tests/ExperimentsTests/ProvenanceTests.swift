import Experiments
import Foundation
import TestSupport
import XCTest

/// The commit in a run's provenance is the one the binary was built from, stamped by the BuildStamp plugin.
final class ProvenanceTests: XCTestCase {
    /// `swift test` builds right before it runs, so the stamp must equal what git says of the checkout now:
    /// HEAD, "-dirty" when tracked files of the sources differ from it, "unknown" outside a git checkout.
    func testStampedCommitIsTheCheckoutsCommitAtBuildTime() throws {
        let root = Repository.root.path
        let expected: String
        if let head = git(["-C", root, "rev-parse", "HEAD"]), !head.isEmpty {
            let changes = git(["-C", root, "status", "--porcelain", "--untracked-files=no", "--", "Sources", "Plugins", "Package.swift"]) ?? ""
            expected = changes.isEmpty ? head : head + "-dirty"
        } else {
            expected = "unknown"
        }
        XCTAssertEqual(Provenance.gitCommit(), expected)
        XCTAssertEqual(Provenance.record(attempts: []).gitCommit, expected)
    }

    private func git(_ arguments: [String]) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git"] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return process.terminationStatus == 0 ? String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) : nil
    }
}

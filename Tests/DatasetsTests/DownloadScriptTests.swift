import Foundation
import TestSupport
import XCTest

/// Offline checks of scripts/download-data.sh: argument handling, the offline message, md5 checks,
/// a full PTB install from a local mirror archive built from the real files, and idempotence.
final class DownloadScriptTests: XCTestCase {
    let script = packageRoot + "/scripts/download-data.sh"

    /// Runs the script with `arguments` and an optional mirror; returns exit status and stdout + stderr.
    func runScript(_ arguments: [String], mirror: String? = nil) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [script] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment["ADAI_DATA_MIRROR"] = mirror
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, output)
    }

    /// A URL where nothing listens, standing in for having no network.
    let offline = "http://127.0.0.1:9"

    func testArgumentHandling() throws {
        let none = try runScript([])
        XCTAssertEqual(none.status, 2)
        XCTAssertTrue(none.output.contains("usage: scripts/download-data.sh cifar10|cifar100|ptb|all [DIR]"), none.output)
        let unknown = try runScript(["mnist"])
        XCTAssertEqual(unknown.status, 2)
        XCTAssertTrue(unknown.output.contains("error: unknown data set 'mnist'"), unknown.output)
        XCTAssertEqual(try runScript(["ptb", "a", "b"]).status, 2)
    }

    func testFailsClearlyWhenOffline() throws {
        let directory = makeTemporaryDirectory(self)
        let result = try runScript(["cifar100", directory], mirror: offline)
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.output.contains("error: could not download \(offline)/cifar-100-binary.tar.gz"), result.output)
        XCTAssertTrue(result.output.contains("Are you offline?"), result.output)
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory + "/cifar-100-binary"))
    }

    func testRejectsAnArchiveWithTheWrongMD5() throws {
        let mirror = makeTemporaryDirectory(self), directory = makeTemporaryDirectory(self)
        writeFile(mirror + "/cifar-10-binary.tar.gz", "not the official archive")
        let result = try runScript(["cifar10", directory], mirror: "file://" + mirror)
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.output.contains("md5 mismatch"), result.output)
        XCTAssertTrue(result.output.contains("expected c32a1d4ab5d03f1284b67883e8d87530"), result.output)
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory + "/.downloads/cifar-10-binary.tar.gz"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory + "/cifar-10-batches-bin"))
    }

    func testInstallsPTBFromAMirrorAndIsIdempotent() throws {
        guard let ptb = realDataPath("ptb") else { return }
        let mirror = makeTemporaryDirectory(self), directory = makeTemporaryDirectory(self)
        // The official archive's layout: simple-examples/data/ptb.*.txt.
        let staging = mirror + "/simple-examples/data"
        try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: true)
        for name in ["ptb.train.txt", "ptb.valid.txt", "ptb.test.txt"] {
            try FileManager.default.copyItem(atPath: ptb + "/" + name, toPath: staging + "/" + name)
        }
        let tar = Process()
        tar.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        tar.arguments = ["tar", "-czf", mirror + "/simple-examples.tgz", "-C", mirror, "./simple-examples"]
        try tar.run()
        tar.waitUntilExit()
        XCTAssertEqual(tar.terminationStatus, 0)

        let first = try runScript(["ptb", directory], mirror: "file://" + mirror)
        XCTAssertEqual(first.status, 0, first.output)
        XCTAssertTrue(first.output.contains("PTB ready in"), first.output)
        XCTAssertEqual(FileManager.default.contents(atPath: directory + "/ptb/ptb.train.txt"),
                       FileManager.default.contents(atPath: ptb + "/ptb.train.txt"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory + "/.downloads"))
        // Again, with no network: nothing to do.
        let second = try runScript(["ptb", directory], mirror: offline)
        XCTAssertEqual(second.status, 0, second.output)
        XCTAssertTrue(second.output.contains("PTB already present in"), second.output)
    }

    func testLeavesCIFARInPlaceWhenAlreadyPresent() throws {
        let directory = makeTemporaryDirectory(self)
        let folder = directory + "/cifar-10-batches-bin"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for name in (1...5).map({ "data_batch_\($0).bin" }) + ["test_batch.bin"] {
            FileManager.default.createFile(atPath: folder + "/" + name, contents: nil)
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: folder + "/" + name))
            try handle.truncate(atOffset: 30_730_000)  // sparse: official size, no disk used
            try handle.close()
        }
        let result = try runScript(["cifar10", directory], mirror: offline)
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertTrue(result.output.contains("CIFAR-10 already present in"), result.output)
        // One file too short: the script must download again (and here fail, being offline).
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: folder + "/test_batch.bin"))
        try handle.truncate(atOffset: 3_073_000)
        try handle.close()
        XCTAssertEqual(try runScript(["cifar10", directory], mirror: offline).status, 1)
    }
}

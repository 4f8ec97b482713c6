import Experiments
import Foundation
import TestSupport
import XCTest

/// The trainer as users run it: a separate `adai-bench train` process, killed and resumed.
final class ProcessResumeTests: XCTestCase {
    private var directory: String!

    override func setUpWithError() throws { directory = try makeTemporaryDirectory("process") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: directory) }

    private func metricsRows(_ path: String) -> Int {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").count - 1
    }

    /// Waits until the run has finished its first epoch, then stops the process with `signal` part-way into the second.
    private func interruptDuringSecondEpoch(_ binary: String, _ arguments: [String], metrics: String, signal: Int32) throws -> Process {
        let process = try startAdaiBench(binary, arguments)
        let deadline = Date().addingTimeInterval(300)
        while metricsRows(metrics) < 1 && process.isRunning && Date() < deadline { usleep(20_000) }
        XCTAssertTrue(process.isRunning, "the run ended before it could be interrupted")
        let epochSeconds = try MetricsTable.read(path: metrics).column("epoch_seconds")?.first ?? 1
        usleep(useconds_t(epochSeconds * 0.4 * 1e6))
        kill(process.processIdentifier, signal)
        process.waitUntilExit()
        return process
    }

    func testKilledWithSIGKILLDuringTheSecondEpochAndResumedGivesTheSameMetrics() throws {
        guard let binary = adaiBenchExecutable() else { return }
        let config = "\(directory!)/tiny.json"
        try tinyConfigJSON(epochs: 3, train: 512).write(toFile: config, atomically: true, encoding: .utf8)
        let run = "tiny/sgdm-lr0.05-wd0.0005/seed-1/metrics.csv"

        let reference = try startAdaiBench(binary, ["train", "--config", config, "--results", "\(directory!)/reference"])
        reference.waitUntilExit()
        XCTAssertEqual(reference.terminationStatus, 0)

        let killed = try interruptDuringSecondEpoch(binary, ["train", "--config", config, "--results", "\(directory!)/killed"],
                                                    metrics: "\(directory!)/killed/\(run)", signal: SIGKILL)
        XCTAssertEqual(killed.terminationReason, .uncaughtSignal)
        XCTAssertLessThan(metricsRows("\(directory!)/killed/\(run)"), 3, "the kill should land before the last epoch")

        let resumed = try startAdaiBench(binary, ["train", "--config", config, "--results", "\(directory!)/killed", "--resume"])
        resumed.waitUntilExit()
        XCTAssertEqual(resumed.terminationStatus, 0)
        XCTAssertEqual(try metricsWithoutTiming("\(directory!)/killed/\(run)"),
                       try metricsWithoutTiming("\(directory!)/reference/\(run)"))
    }

    func testSIGINTCheckpointsMarksInterruptedAndExitsNonZero() throws {
        guard let binary = adaiBenchExecutable() else { return }
        let config = "\(directory!)/tiny.json"
        try tinyConfigJSON(epochs: 3, train: 512).write(toFile: config, atomically: true, encoding: .utf8)
        let runDirectory = "\(directory!)/results/tiny/sgdm-lr0.05-wd0.0005/seed-1"
        let process = try interruptDuringSecondEpoch(binary, ["train", "--config", config, "--results", "\(directory!)/results"],
                                                     metrics: "\(runDirectory)/metrics.csv", signal: SIGINT)
        XCTAssertEqual(process.terminationReason, .exit)
        XCTAssertNotEqual(process.terminationStatus, 0)
        let record = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(runDirectory)/run.json"))) as! [String: Any]
        XCTAssertEqual(record["status"] as? String, "interrupted")
        XCTAssertTrue(FileManager.default.fileExists(atPath: "\(runDirectory)/checkpoint/trainer.json"))
    }
}

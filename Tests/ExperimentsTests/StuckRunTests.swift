@testable import Experiments
import Foundation
import RunFormat
import TestSupport
import XCTest

/// The run killed after its last epoch's checkpoint but before run.json said `completed` (commit 784f2f3 fixed it):
/// every later `train --resume` and `sweep` trained nothing and left it `running`, and the sweep exited 1 forever.
final class StuckRunTests: XCTestCase {
    private var directory: String!

    override func setUpWithError() throws { directory = try makeTemporaryDirectory("stuck") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: directory) }

    private func text(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }

    func testARunKilledAfterItsLastCheckpointIsFinishedOnResume() throws {
        guard let binary = adaiBenchExecutable() else { return }
        let config = "\(directory!)/tiny.json"
        try tinyConfigJSON(epochs: 3).write(toFile: config, atomically: true, encoding: .utf8)
        let id = "tiny/sgdm-lr0.05-wd0.0005/seed-1"
        let log = "\(directory!)/log"
        let train = ["train", "--config", config, "--max-steps", "2"]
        XCTAssertEqual(try runAdaiBench(binary, train + ["--results", "\(directory!)/reference"], log: log).terminationStatus, 0, text(log))

        let results = "\(directory!)/results", run = "\(results)/\(id)"
        let killed = try runAdaiBench(binary, train + ["--results", results], environment: ["ADAI_BENCH_KILL_AT": "checkpoint-written:3"], log: log)
        XCTAssertEqual(killed.terminationReason, .uncaughtSignal, text(log))
        let trainer = try XCTUnwrap(try RunDirectory(run).readTrainerState())
        XCTAssertEqual(trainer.nextEpoch, 3)
        XCTAssertEqual(RunDirectory(run).status(), .running)

        // Resumed: nothing left to train, so the run is finished from what the checkpoint holds.
        let resumed = try runAdaiBench(binary, train + ["--results", results, "--resume"], log: log)
        XCTAssertEqual(resumed.terminationStatus, 0, text(log))
        XCTAssertEqual(RunDirectory(run).status(), .completed, text(log))
        let record = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(run)/run.json"))) as! [String: Any]
        let reference = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(directory!)/reference/\(id)/run.json"))) as! [String: Any]
        XCTAssertEqual(record["epochsCompleted"] as? Int, 3)
        XCTAssertEqual(record["final"] as? NSDictionary, reference["final"] as? NSDictionary)
        XCTAssertEqual(record["best"] as? NSDictionary, reference["best"] as? NSDictionary)
        XCTAssertEqual(try metricsWithoutTiming("\(run)/metrics.csv"), try metricsWithoutTiming("\(directory!)/reference/\(id)/metrics.csv"))
        XCTAssertEqual(text("\(results)/tiny/curves.csv").split(separator: "\n").count, 4)
    }

    /// Killed after an epoch's metrics row, before its checkpoint: the next process goes back to the checkpoint's
    /// rows at once (no row without its checkpoint stays visible to readers), and the run ends with each epoch once.
    func testAMetricsRowWithoutItsCheckpointIsDroppedOnResume() throws {
        guard let binary = adaiBenchExecutable() else { return }
        let config = "\(directory!)/tiny.json"
        try tinyConfigJSON(epochs: 2).write(toFile: config, atomically: true, encoding: .utf8)
        let run = RunDirectory("\(directory!)/results/tiny/sgdm-lr0.05-wd0.0005/seed-1")
        let log = "\(directory!)/log"
        let train = ["train", "--config", config, "--max-steps", "2", "--resume", "--results", "\(directory!)/results"]
        // Epoch 1's row, no checkpoint: the next process starts over and removes the row before its first step.
        XCTAssertEqual(try runAdaiBench(binary, train, environment: ["ADAI_BENCH_KILL_AT": "metrics-written:1"], log: log).terminationReason, .uncaughtSignal)
        XCTAssertEqual(try MetricsTable.read(path: run.metricsCSV).rows.count, 1)
        XCTAssertNil(try run.readTrainerState())
        XCTAssertEqual(try runAdaiBench(binary, train, environment: ["ADAI_BENCH_KILL_AT": "step:1"], log: log).terminationReason, .uncaughtSignal)
        XCTAssertFalse(FileManager.default.fileExists(atPath: run.metricsCSV))
        // Epoch 2's row after epoch 1's checkpoint: the next process keeps epoch 1's row only.
        XCTAssertEqual(try runAdaiBench(binary, train, environment: ["ADAI_BENCH_KILL_AT": "metrics-written:2"], log: log).terminationReason, .uncaughtSignal)
        XCTAssertEqual(try MetricsTable.read(path: run.metricsCSV).column("epoch"), [1, 2])
        XCTAssertEqual(try run.readTrainerState()?.nextEpoch, 1)
        XCTAssertEqual(try runAdaiBench(binary, train, environment: ["ADAI_BENCH_KILL_AT": "step:1"], log: log).terminationReason, .uncaughtSignal)
        XCTAssertEqual(try MetricsTable.read(path: run.metricsCSV).column("epoch"), [1])
        XCTAssertEqual(try runAdaiBench(binary, train, log: log).terminationStatus, 0, text(log))
        XCTAssertEqual(try MetricsTable.read(path: run.metricsCSV).column("epoch"), [1, 2])
        XCTAssertEqual(run.status(), .completed)
        XCTAssertEqual(try run.readAttempts().map(\.status), [.failed, .failed, .failed, .failed, .completed])
    }

    /// The same window inside a sweep: the worker is killed there, and the next sweep counts the run done and exits 0.
    func testASweepCountsARunKilledAfterItsLastCheckpointDone() throws {
        guard let binary = adaiBenchExecutable() else { return }
        let config = "\(directory!)/sweep.json"
        try tinySweepJSON(epochs: 2, sweep: #"{"seeds": [1], "optimizers": ["sgdm"]}"#).write(toFile: config, atomically: true, encoding: .utf8)
        let log = "\(directory!)/log"
        let results = "\(directory!)/results"
        let sweep = ["sweep", "--config", config, "--results", results, "--max-steps", "2", "--threads", "1"]
        let killed = try runAdaiBench(binary, sweep, environment: ["ADAI_BENCH_KILL_AT": "checkpoint-written:2"], log: log)
        XCTAssertEqual(killed.terminationStatus, 1, text(log))
        XCTAssertTrue(text(log).contains("ended with signal 9"), text(log))
        for _ in 0..<2 {
            let again = try runAdaiBench(binary, sweep, log: log)
            XCTAssertEqual(again.terminationStatus, 0, text(log))
        }
        let run = "\(results)/tiny/sgdm-lr0.05-wd0.0005/seed-1"
        XCTAssertEqual(RunDirectory(run).status(), .completed)
        let attempts = try RunDirectory(run).readAttempts()
        XCTAssertEqual(attempts.map(\.status), [.failed, .completed], "\(attempts)")
        XCTAssertEqual(attempts.last?.fromEpoch, 2)
        XCTAssertTrue(text(log).hasSuffix("sweep tiny: 1 done, 0 running elsewhere, 0 failed, 0 left — `adai-bench collect \(results)/tiny` summarises them\n"), text(log))
    }
}

import Engine
import Experiments
import Foundation
import RunFormat
import TestSupport
import XCTest

final class TrainerTests: XCTestCase {
    private var directory: String!

    override func setUpWithError() throws { directory = try makeTemporaryDirectory("trainer") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: directory) }

    private func options(maxSteps: Int? = nil, resume: Bool = false) -> TrainOptions {
        var o = TrainOptions()
        o.results = directory
        o.maxSteps = maxSteps
        o.resume = resume
        o.liveProgress = false
        o.log = { _ in }
        return o
    }

    func testTrainingWritesMetricsRunRecordAndCurves() throws {
        let config = try parseConfig(tinyConfigJSON(epochs: 2))
        let outcomes = try ExperimentRunner(config: config, options: options()).run()
        XCTAssertEqual(outcomes.map(\.1), [.completed])
        let run = "\(directory!)/tiny/sgdm-lr0.05-wd0.0005/seed-1"
        let metrics = try MetricsTable.read(path: "\(run)/metrics.csv")
        XCTAssertEqual(metrics.columns, MetricsTable.classificationColumns)
        XCTAssertEqual(metrics.column("epoch"), [1, 2])
        assertClose(metrics.column("lr"), [0.05, 0.05], accuracy: 1e-12)  // the milestone (epoch 2) is the third epoch
        let record = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(run)/run.json"))) as! [String: Any]
        XCTAssertEqual(record["status"] as? String, "completed")
        XCTAssertEqual(record["epochsCompleted"] as? Int, 2)
        XCTAssertEqual((record["final"] as? [String: Any])?["value"] as? Double, metrics.column("test_error")!.last)
        XCTAssertNotNil((record["provenance"] as? [String: Any])?["gitCommit"])
        let curves = try String(contentsOfFile: "\(directory!)/tiny/curves.csv", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(curves.count, 3)
        XCTAssertTrue(curves[0].hasPrefix("optimizer,lr,weight_decay,seed,epoch,epoch_lr,train_loss"))
        // No temporary files are left behind by the atomic writes.
        let leftovers = FileManager.default.enumerator(atPath: "\(directory!)/tiny")!.compactMap { $0 as? String }.filter { $0.contains(".tmp-") }
        XCTAssertEqual(leftovers, [])
        // A finished run is never overwritten without --resume, and skipped with it.
        XCTAssertThrowsError(try ExperimentRunner(config: config, options: options()).run()) { error in
            XCTAssertTrue("\(error)".contains("already holds a completed run; pass --resume"), "\(error)")
        }
        XCTAssertEqual(try ExperimentRunner(config: config, options: options(resume: true)).run().map(\.1), [.completed])
    }

    func testMaxStepsLimitsEachEpochAndStopsCleanly() throws {
        let config = try parseConfig(tinyConfigJSON(epochs: 2))
        let outcomes = try ExperimentRunner(config: config, options: options(maxSteps: 2)).run()
        XCTAssertEqual(outcomes.map(\.1), [.completed])
        let run = "\(directory!)/tiny/sgdm-lr0.05-wd0.0005/seed-1"
        let metrics = try MetricsTable.read(path: "\(run)/metrics.csv")
        XCTAssertEqual(metrics.rows.count, 2)
        let trainer = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(run)/checkpoint/trainer.json"))) as! [String: Any]
        XCTAssertEqual(trainer["nextEpoch"] as? Int, 2)
        XCTAssertEqual(trainer["stepInEpoch"] as? Int, 0)
    }

    func testADivergedRunIsRecordedAndTheNextRunStarts() throws {
        let config = try parseConfig(tinyConfigJSON(epochs: 2, optimizers: #"""
            [{"name": "adam", "lr": 1e38}, {"name": "sgdm", "lr": 0.05}]
            """#))
        let outcomes = try ExperimentRunner(config: config, options: options(maxSteps: 3)).run()
        XCTAssertEqual(outcomes.map(\.1), [.diverged, .completed])
        let run = "\(directory!)/tiny/adam-lr1e+38-wd0/seed-1"
        let record = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(run)/run.json"))) as! [String: Any]
        XCTAssertEqual(record["status"] as? String, "diverged")
        let diverged = record["diverged"] as? [String: Int]
        XCTAssertEqual(diverged?["epoch"], 1)
        XCTAssertNotNil(diverged?["step"])
    }

    func testMissingDataDirectoryNamesTheDownloadCommand() throws {
        let json = tinyConfigJSON().replacingOccurrences(of: #""synthetic": {"train": 384, "test": 128, "seed": 3}"#,
                                                         with: #""dir": "\#(directory!)/no-such-data""#)
        XCTAssertThrowsError(try ExperimentRunner(config: try parseConfig(json), options: options()).run()) { error in
            XCTAssertTrue("\(error)".contains("scripts/download-data.sh cifar10"), "\(error)")
        }
    }

    func testAtomicWriteLeavesNoPartialFile() throws {
        let path = "\(directory!)/file.txt"
        try AtomicFile.write("first\n", to: path)
        try AtomicFile.write("second\n", to: path)
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "second\n")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory), ["file.txt"])
        XCTAssertThrowsError(try AtomicFile.write("x", to: "\(directory!)/missing/file.txt")) { error in
            XCTAssertTrue("\(error)".contains("the directory \(directory!)/missing does not exist"), "\(error)")
        }
    }

    /// Resuming an interrupted run (checkpoint mid-epoch) gives the same metrics as an uninterrupted run.
    func testResumeAfterInterruptionIsExact() throws {
        let config = try parseConfig(tinyConfigJSON(epochs: 3))
        let reference = try makeTemporaryDirectory("reference")
        defer { try? FileManager.default.removeItem(atPath: reference) }
        var o = options()
        o.results = reference
        try ExperimentRunner(config: config, options: o).run()

        // Interrupt during the second epoch through the same flag SIGINT sets, then resume.
        var interruptedOptions = options()
        interruptedOptions.interruptAt = (epoch: 1, step: 2)
        let interrupted = try ExperimentRunner(config: config, options: interruptedOptions).run()
        XCTAssertEqual(interrupted.map(\.1), [.interrupted])
        let resumed = try ExperimentRunner(config: config, options: options(resume: true)).run()
        XCTAssertEqual(resumed.map(\.1), [.completed])
        let id = "tiny/sgdm-lr0.05-wd0.0005/seed-1/metrics.csv"
        assertClose(try MetricsTable.read(path: "\(directory!)/\(id)").column("lr"), [0.05, 0.05, 0.005], accuracy: 1e-12)
        XCTAssertEqual(try metricsWithoutTiming("\(directory!)/\(id)"), try metricsWithoutTiming("\(reference)/\(id)"))
    }
}

func assertClose(_ a: [Double]?, _ b: [Double], accuracy: Double, file: StaticString = #filePath, line: UInt = #line) {
    guard let a else { return XCTFail("no values", file: file, line: line) }
    XCTAssertEqual(a.count, b.count, file: file, line: line)
    for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: accuracy, file: file, line: line) }
}

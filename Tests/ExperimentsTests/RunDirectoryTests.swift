@testable import Experiments
import Engine
import Foundation
import RunFormat
import TestSupport
import XCTest

/// The run-directory contract: run.json's legal moves, and the provenance of every attempt.
final class RunDirectoryTests: XCTestCase {
    private var directory: String!

    override func setUpWithError() throws { directory = try makeTemporaryDirectory("rundir") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: directory) }

    private func record(_ status: RunStatus, epochs: Int, of planned: Int = 3) -> RunRecord {
        RunRecord(experiment: "tiny", runId: "sgdm-lr0.1-wd0/seed-1", dataset: "cifar10", model: "resnet-tiny", optimizer: "sgdm",
                  lr: 0.1, weightDecay: 0, seed: 1, epochsPlanned: planned, epochsCompleted: epochs, status: status, metric: "test_error")
    }

    private func message(_ body: () throws -> Void) -> String {
        do { try body(); return "no error" } catch { return "\(error)" }
    }

    func testOnlyLegalMovesAreWritten() throws {
        let run = RunDirectory("\(directory!)/run")
        try FileManager.default.createDirectory(atPath: run.path, withIntermediateDirectories: true)
        XCTAssertNil(run.status())
        // The stuck state (a run killed after its last checkpoint, left `running` with every epoch done) cannot be written.
        XCTAssertEqual(message { try run.write(record(.running, epochs: 3)) },
                       "refusing to write \(run.runJSON): status running with all 3 epochs done (the run is completed); this is a bug of adai-bench, please report it")
        XCTAssertEqual(message { try run.write(record(.completed, epochs: 2)) },
                       "refusing to write \(run.runJSON): status completed with 2 of 3 epochs done; this is a bug of adai-bench, please report it")
        XCTAssertNil(run.status())
        for status: RunStatus in [.running, .interrupted, .failed, .running] { try run.write(record(status, epochs: 1)) }
        try run.write(record(.completed, epochs: 3))
        XCTAssertEqual(run.status(), .completed)
        for status in RunStatus.allCases {
            XCTAssertEqual(message { try run.write(record(status, epochs: status == .completed ? 3 : 1)) },
                           "refusing to write \(run.runJSON) as \(status.rawValue): it is already completed, and a finished run is never rewritten; delete the run directory to train it again")
        }
        // A damaged run.json is named with the field and what to do.
        try #"{"status": "done"}"#.write(toFile: run.runJSON, atomically: true, encoding: .utf8)
        XCTAssertTrue(message { _ = try run.readRecord() }.hasPrefix("\(run.runJSON) is damaged (field 'dataset' is missing)"), message { _ = try run.readRecord() })
    }

    /// Every attempt's threads, CPU and OpenBLAS kernel are in run.json and attempts.json; a resume on another
    /// CPU or kernel is said in one line (stderr in the CLI) and in the attempt's note, one with other threads is not.
    func testEveryAttemptIsRecordedAndAResumeOnAnotherCPUIsNoted() throws {
        let config = try parseConfig(tinyConfigJSON(epochs: 3))
        var warnings: [String] = []
        var o = TrainOptions()
        o.results = directory
        o.maxSteps = 3
        o.liveProgress = false
        o.log = { _ in }
        o.warn = { warnings.append($0) }
        o.interruptAt = (epoch: 0, step: 2)
        XCTAssertEqual(try ExperimentRunner(config: config, options: o).run().map(\.1), [.interrupted])
        let run = RunDirectory("\(directory!)/tiny/sgdm-lr0.05-wd0.0005/seed-1")
        o.resume = true
        o.interruptAt = (epoch: 1, step: 1)
        XCTAssertEqual(try ExperimentRunner(config: config, options: o).run().map(\.1), [.interrupted])
        XCTAssertEqual(warnings, [])

        // Pretend the first two attempts ran on another machine, one with other threads only.
        var record = try XCTUnwrap(try run.readRecord())
        var attempts = try XCTUnwrap(record.provenance?.attempts)
        XCTAssertEqual(attempts.count, 2)
        XCTAssertEqual(attempts.map(\.fromEpoch), [0, 0])
        XCTAssertEqual(attempts.map(\.fromStep), [0, 2])
        XCTAssertEqual(attempts[0].threads, Parallel.threadCount)
        XCTAssertEqual(attempts[0].openblasCore, BLASInfo.coreName)
        XCTAssertEqual(attempts[0].cpu, Provenance.cpuModel())
        attempts[1].threads += 3
        record.provenance?.attempts = attempts
        try run.write(record)
        o.interruptAt = (epoch: 2, step: 1)
        XCTAssertEqual(try ExperimentRunner(config: config, options: o).run().map(\.1), [.interrupted])
        XCTAssertEqual(warnings, [], "other threads do not change the numbers")

        record = try XCTUnwrap(try run.readRecord())
        record.provenance?.attempts?[2].cpu = "Some Other CPU"
        record.provenance?.attempts?[2].openblasCore = "Prescott"
        try run.write(record)
        o.interruptAt = nil
        XCTAssertEqual(try ExperimentRunner(config: config, options: o).run().map(\.1), [.completed])
        let expected = "resumed on another machine than the previous attempt (CPU \"Some Other CPU\" → \"\(Provenance.cpuModel())\", OpenBLAS kernel Prescott → \(BLASInfo.coreName)): the numbers from here on can differ in the last bits from an uninterrupted run's"
        XCTAssertEqual(warnings, ["warning: \(run.path): \(expected)"])
        let log = try run.readAttempts()
        XCTAssertEqual(log.map(\.note), [nil, nil, nil, expected])
        XCTAssertEqual(log.map(\.status), [.interrupted, .interrupted, .interrupted, .completed])
        XCTAssertEqual(log.map(\.fromEpoch), [0, 0, 1, 2])
        XCTAssertEqual(try XCTUnwrap(try run.readRecord()).provenance?.attempts?.count, 4)
        XCTAssertEqual(log.last?.environment, try XCTUnwrap(try run.readRecord()).provenance?.attempts?.last)
    }
}

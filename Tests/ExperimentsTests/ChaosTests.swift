@testable import Experiments
import Foundation
import RunFormat
import TestSupport
import XCTest

/// A small seeded generator for the random moments of the chaos tests (SplitMix64).
struct ChaosRandom {
    private(set) var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [a, b).
    mutating func uniform(_ a: Double, _ b: Double) -> Double { a + (b - a) * Double(next() >> 11) / Double(1 << 53) }

    /// The seed of a chaos test: ADAI_BENCH_CHAOS_SEED when set (to replay a failure), else a fresh one; printed.
    static func seeded(_ test: String) -> ChaosRandom {
        let given = ProcessInfo.processInfo.environment["ADAI_BENCH_CHAOS_SEED"].flatMap { UInt64($0) }
        let seed = given ?? UInt64.random(in: 1..<(1 << 48))
        print("\(test): chaos seed \(seed) (replay with ADAI_BENCH_CHAOS_SEED=\(seed))")
        return ChaosRandom(seed: seed)
    }
}

/// Real `train` and `sweep` processes SIGKILLed at random moments and at every named boundary of a run's files
/// (`ADAI_BENCH_KILL_AT`), then resumed: each ends completed exactly once with the metrics of an uninterrupted run.
/// Cost: about 1.5 minutes of the debug build on 2 cores (tiny synthetic configs, 3 steps per epoch).
final class ChaosTests: XCTestCase {
    private var directory: String!

    override func setUpWithError() throws { directory = try makeTemporaryDirectory("chaos") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: directory) }

    private func text(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }

    /// curves.csv without its timing columns, as sorted lines.
    private func curvesWithoutTiming(_ path: String) -> [String] {
        let lines = text(path).split(separator: "\n").map(String.init)
        guard let header = lines.first?.split(separator: ",").map(String.init) else { return [] }
        let keep = header.indices.filter { !MetricsTable.timingColumns.contains(header[$0]) }
        return lines.map { line in
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            return keep.map { String(fields[$0]) }.joined(separator: ",")
        }.sorted()
    }

    /// The run of `results` is completed once, with the reference's metrics and curves.
    private func assertFinishedLikeReference(_ results: String, reference: String, id: String, label: String,
                                             file: StaticString = #filePath, line: UInt = #line) throws {
        let run = RunDirectory("\(results)/\(id)")
        XCTAssertEqual(run.status(), .completed, label, file: file, line: line)
        XCTAssertEqual(try metricsWithoutTiming(run.metricsCSV), try metricsWithoutTiming("\(reference)/\(id)/metrics.csv"), label, file: file, line: line)
        XCTAssertEqual(try run.readRecord()?.final, try RunDirectory("\(reference)/\(id)").readRecord()?.final, label, file: file, line: line)
        XCTAssertEqual(curvesWithoutTiming("\(results)/tiny/curves.csv"), curvesWithoutTiming("\(reference)/tiny/curves.csv"), label, file: file, line: line)
        let attempts = try run.readAttempts()
        XCTAssertEqual(attempts.filter { $0.status == .completed }.count, 1, "\(label): \(attempts)", file: file, line: line)
    }

    func testTrainKilledAtRandomMomentsAndAtEveryBoundaryResumesToTheSameMetrics() throws {
        guard let binary = adaiBenchExecutable() else { return }
        var random = ChaosRandom.seeded("train chaos")
        let config = "\(directory!)/tiny.json"
        try tinyConfigJSON(epochs: 3).write(toFile: config, atomically: true, encoding: .utf8)
        let id = "tiny/sgdm-lr0.05-wd0.0005/seed-1"
        let log = "\(directory!)/log"
        // 3 epochs of 3 steps: step 9 is the last one.
        let train = ["train", "--config", config, "--max-steps", "3", "--resume"]
        let reference = "\(directory!)/reference"
        let began = Date()
        XCTAssertEqual(try runAdaiBench(binary, train + ["--results", reference], log: log).terminationStatus, 0, text(log))
        let referenceSeconds = Date().timeIntervalSince(began)

        var kills: [String] = []
        // One run killed at every named boundary of its files in turn, each kill in the process that resumed
        // from the previous one (so `:1` is that process's first time there): epoch 1 ends and is checkpointed,
        // then epoch 2 and epoch 3 are each killed at every boundary, among them the last step (step 3 of
        // epoch 3) and right after the last checkpoint (the stuck-run window).
        let chain = ["checkpoint-written:1", "step:2", "metrics-written:1", "checkpoint-model-written:1", "checkpoint-written:1",
                     "step:3", "metrics-written:1", "checkpoint-model-written:1", "checkpoint-written:1"]
        let chained = "\(directory!)/boundaries"
        for boundary in chain {
            let killed = try runAdaiBench(binary, train + ["--results", chained], environment: ["ADAI_BENCH_KILL_AT": boundary], log: log)
            XCTAssertEqual(killed.terminationReason, .uncaughtSignal, "\(boundary): \(text(log))")
            kills.append(boundary)
        }
        XCTAssertEqual(try RunDirectory("\(chained)/\(id)").readTrainerState()?.nextEpoch, 3)
        XCTAssertEqual(try runAdaiBench(binary, train + ["--results", chained], log: log).terminationStatus, 0, text(log))
        try assertFinishedLikeReference(chained, reference: reference, id: id, label: "boundaries")
        // After run.json says completed, before curves.csv has the last epoch.
        let last = "\(directory!)/record-written"
        XCTAssertEqual(try runAdaiBench(binary, train + ["--results", last], environment: ["ADAI_BENCH_KILL_AT": "record-written:3"], log: log).terminationReason,
                       .uncaughtSignal, text(log))
        kills.append("record-written:3")
        XCTAssertEqual(try runAdaiBench(binary, train + ["--results", last], log: log).terminationStatus, 0, text(log))
        try assertFinishedLikeReference(last, reference: reference, id: id, label: "record-written")

        // Random moments: one run killed again and again, each time somewhere in the first half of a whole run's time.
        let results = "\(directory!)/random"
        for _ in 0..<3 {
            let delay = random.uniform(0.05, 0.5) * referenceSeconds
            let process = try startAdaiBench(binary, train + ["--results", results], log: log)
            let deadline = Date().addingTimeInterval(delay)
            while process.isRunning && Date() < deadline { usleep(10_000) }
            guard process.isRunning else { break }  // it finished first
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            kills.append(String(format: "after %.2f s", delay))
        }
        XCTAssertEqual(try runAdaiBench(binary, train + ["--results", results], log: log).terminationStatus, 0, text(log))
        try assertFinishedLikeReference(results, reference: reference, id: id, label: "random kills")
        print("train chaos: \(kills.count) SIGKILLs (\(kills.joined(separator: ", "))), each resumed to the reference's metrics")
        XCTAssertGreaterThanOrEqual(kills.count, 10)
    }

    /// A diverging run killed after it saw the non-finite loss, before run.json said so: the resume diverges at the same step.
    func testDivergenceKilledBeforeItIsRecordedIsRecordedOnResume() throws {
        guard let binary = adaiBenchExecutable() else { return }
        let config = "\(directory!)/diverge.json"
        try tinyConfigJSON(epochs: 2, optimizers: #"[{"name": "adam", "lr": 1e38}]"#).write(toFile: config, atomically: true, encoding: .utf8)
        let log = "\(directory!)/log"
        let train = ["train", "--config", config, "--max-steps", "3", "--resume"]
        XCTAssertEqual(try runAdaiBench(binary, train + ["--results", "\(directory!)/reference"], log: log).terminationStatus, 0, text(log))
        let killed = try runAdaiBench(binary, train + ["--results", "\(directory!)/killed"], environment: ["ADAI_BENCH_KILL_AT": "divergence-seen"], log: log)
        XCTAssertEqual(killed.terminationReason, .uncaughtSignal, text(log))
        XCTAssertEqual(try runAdaiBench(binary, train + ["--results", "\(directory!)/killed"], log: log).terminationStatus, 0, text(log))
        let id = "tiny/adam-lr1e+38-wd0/seed-1"
        let record = try XCTUnwrap(try RunDirectory("\(directory!)/killed/\(id)").readRecord())
        XCTAssertEqual(record.status, .diverged)
        XCTAssertEqual(record.diverged, try RunDirectory("\(directory!)/reference/\(id)").readRecord()?.diverged)
        XCTAssertNotNil(record.diverged)
    }

    /// A sweep worker killed holding the lock before its attempt, or after training before it closed its attempt.
    func testSweepWorkerKilledAroundItsLockAndAttempt() throws {
        guard let binary = adaiBenchExecutable() else { return }
        let config = "\(directory!)/sweep.json"
        try tinySweepJSON(epochs: 1, sweep: #"{"seeds": [1], "optimizers": ["sgdm"]}"#).write(toFile: config, atomically: true, encoding: .utf8)
        let log = "\(directory!)/log"
        for point in ["lock-taken", "trained"] {
            let results = "\(directory!)/\(point)"
            let sweep = ["sweep", "--config", config, "--results", results, "--max-steps", "2", "--threads", "1"]
            XCTAssertEqual(try runAdaiBench(binary, sweep, environment: ["ADAI_BENCH_KILL_AT": point], log: log).terminationStatus,
                           point == "trained" ? 0 : 1, "\(point): \(text(log))")
            XCTAssertEqual(try runAdaiBench(binary, sweep, log: log).terminationStatus, 0, "\(point): \(text(log))")
            let run = RunDirectory("\(results)/tiny/sgdm-lr0.05-wd0.0005/seed-1")
            XCTAssertEqual(run.status(), .completed, point)
            let attempts = try run.readAttempts()
            XCTAssertEqual(attempts.map(\.status), [.completed], "\(point): \(attempts)")
            XCTAssertTrue(attempts.allSatisfy { $0.endedAt != nil }, "\(point): \(attempts)")
        }
    }

    /// SIGKILL to the whole process group of a local sweep at 3 random moments, then the same command again:
    /// every run completes exactly once, with the metrics (and curves.csv) of an uninterrupted sweep.
    func testSweepKilledThreeTimesEndsLikeAnUninterruptedOne() throws {
        guard let executable = adaiBenchExecutable() else { return }
        var random = ChaosRandom.seeded("sweep chaos")
        let config = "\(directory!)/sweep.json"
        try tinySweepJSON(epochs: 2).write(toFile: config, atomically: true, encoding: .utf8)
        let grid = try ExperimentConfig.load(path: config).sweepGrid()
        func arguments(_ results: String) -> [String] {
            ["sweep", "--config", config, "--results", results, "--workers", "2", "--threads", "2", "--max-steps", "3"]
        }
        let reference = "\(directory!)/reference", results = "\(directory!)/results"
        let began = Date()
        let referencePid = try ChildProcess.spawn(executable, arguments(reference), outputFile: "\(directory!)/reference.log")
        XCTAssertEqual(ChildProcess.wait(referencePid), .exited(0))
        let referenceSeconds = Date().timeIntervalSince(began)

        let log = "\(directory!)/killed.log"
        var kills: [String] = []
        for _ in 0..<3 {
            let delay = random.uniform(0.15, 0.45) * referenceSeconds
            let pid = try ChildProcess.spawn(executable, arguments(results), newProcessGroup: true, outputFile: log)
            let deadline = Date().addingTimeInterval(delay)
            var exited = false
            while Date() < deadline {
                var status: Int32 = 0
                if waitpid(pid, &status, WNOHANG) == pid { exited = true; break }
                // Kill before the last run finishes, so that every kill lands in an unfinished sweep.
                if grid.states(results: results).filter(\.isDone).count >= grid.runs.count - 1 { break }
                usleep(20_000)
            }
            XCTAssertFalse(exited, "the sweep ended before kill \(kills.count + 1): \(text(log))")
            if exited { break }
            XCTAssertEqual(kill(-pid, SIGKILL), 0)
            XCTAssertEqual(ChildProcess.wait(pid), .signaled(SIGKILL))
            kills.append(String(format: "after %.2f s", Date().timeIntervalSince(deadline) + delay))
            usleep(200_000)  // the workers (in the killed group) are reaped by init
            XCTAssertFalse(grid.states(results: results).contains(where: \.isRunning), "a killed worker still holds its lock")
        }
        XCTAssertEqual(kills.count, 3)
        let again = try ChildProcess.spawn(executable, arguments(results), outputFile: log)
        XCTAssertEqual(ChildProcess.wait(again), .exited(0), text(log))
        var resumed = 0
        for spec in grid.runs {
            let run = spec.runDirectory(results: results)
            XCTAssertEqual(run.status(), .completed, spec.id)
            let attempts = try run.readAttempts()
            XCTAssertEqual(attempts.filter { $0.status == .completed }.count, 1, "\(spec.id): \(attempts)")
            if attempts.contains(where: { $0.fromEpoch > 0 }) { resumed += 1 }
            XCTAssertEqual(try metricsWithoutTiming(run.metricsCSV), try metricsWithoutTiming(spec.runDirectory(results: reference).metricsCSV), spec.id)
        }
        XCTAssertEqual(curvesWithoutTiming("\(results)/tiny/curves.csv"), curvesWithoutTiming("\(reference)/tiny/curves.csv"))
        print("sweep chaos: \(kills.count) SIGKILLs of the process group (\(kills.joined(separator: ", "))); \(resumed) of \(grid.runs.count) runs resumed from a checkpoint")
    }
}

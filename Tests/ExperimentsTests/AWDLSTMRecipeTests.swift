import Engine
@testable import Experiments
import Foundation
import NN
import RunFormat
import TestSupport
import XCTest

/// The AWD-LSTM recipe (AWDLSTMTask.swift, the AdaMomentum authors' main.py): sequence lengths from the
/// seed, exact resume at any step and across the switch from SGD to ASGD, thread-count invariance,
/// and the config keys' messages.
final class AWDLSTMRecipeTests: XCTestCase {
    private var directory: String!

    override func setUpWithError() throws { directory = try makeTemporaryDirectory("awd-recipe") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: directory) }

    /// A tiny AWD-LSTM on synthetic PTB: bptt 8, log window 3, the lr divided at epoch 3.
    static func configJSON(epochs: Int = 5, optimizer: String = #"{"name": "sgd", "lr": 30, "weightDecay": 1.2e-6}"#,
                           nonmono: Int = 1, seeds: String = "[2]") -> String {
        """
        {"name": "awd-tiny",
         "dataset": {"name": "ptb", "synthetic": {"train": 40, "test": 12, "seed": 5}},
         "model": {"name": "awd-lstm-tiny"},
         "training": {"epochs": \(epochs), "batchSize": 4, "evalBatchSize": 3, "bptt": 8, "clipNorm": 0.25, "seeds": \(seeds),
                      "nonmono": \(nonmono), "logInterval": 3,
                      "schedule": {"kind": "multistep", "milestones": [3], "gamma": 0.1}},
         "optimizers": [\(optimizer)]}
        """
    }

    private func options(_ results: String? = nil, resume: Bool = false, interruptAt: (epoch: Int, step: Int)? = nil) -> TrainOptions {
        var o = TrainOptions()
        o.results = results ?? directory
        o.resume = resume
        o.liveProgress = false
        o.log = { _ in }
        o.interruptAt = interruptAt
        return o
    }

    private func runDirectory(_ results: String, _ config: ExperimentConfig) -> RunDirectory {
        config.runs[0].runDirectory(results: results)
    }

    private func task(_ config: ExperimentConfig, seed: Int) throws -> AWDLanguageModelTask {
        var c = config
        c.training.seeds = [seed]
        let runner = ExperimentRunner(config: c, options: options())
        let data = try runner.loadData()
        let trainer = try RunTrainer(run: c.runs[0], data: data, options: options(), experimentDirectory: runner.experimentDirectory,
                                     attempts: [])
        return try XCTUnwrap(trainer.task as? AWDLanguageModelTask)
    }

    /// main.py's draw: lengths are a function of (seed, epoch); at least 5; the windows tile the stream
    /// up to steps − 2; the mean length is 0.95·bptt + 0.05·bptt/2 (checked on the full-size bptt 70).
    func testSeedsDetermineTheSequenceLengths() throws {
        let config = try parseConfig(Self.configJSON())
        let a = try task(config, seed: 2), b = try task(config, seed: 2), c = try task(config, seed: 3)
        XCTAssertEqual(a.sequenceLengths(epoch: 0), b.sequenceLengths(epoch: 0))
        XCTAssertEqual(a.sequenceLengths(epoch: 4), b.sequenceLengths(epoch: 4))
        XCTAssertNotEqual(a.sequenceLengths(epoch: 0), a.sequenceLengths(epoch: 1))
        XCTAssertNotEqual(a.sequenceLengths(epoch: 0), c.sequenceLengths(epoch: 0))
        for epoch in 0..<5 {
            let lengths = a.sequenceLengths(epoch: epoch)
            XCTAssertTrue(lengths.allSatisfy { $0 >= 5 })
            XCTAssertGreaterThanOrEqual(lengths.reduce(0, +), a.train.steps - 2)
            XCTAssertLessThan(lengths.dropLast().reduce(0, +), a.train.steps - 2)
            let last = a.window(epoch: epoch, step: lengths.count - 1)
            XCTAssertEqual(last.start + last.length, a.train.steps - 1, "the last window ends at the stream's last target")
        }
        var full = config
        full.training.bptt = 70
        full.training.batchSize = 1
        let big = try task(full, seed: 2)
        let drawn = (0..<400).flatMap { big.sequenceLengths(epoch: $0).dropLast() }
        let mean = Double(drawn.reduce(0, +)) / Double(drawn.count)
        // 0.95·70 + 0.05·35 = 68.25; the standard error of the mean over these draws is below 0.2.
        XCTAssertEqual(mean, 68.25, accuracy: 1.0, "\(drawn.count) draws")
        let short = Double(drawn.filter { $0 < 52 }.count) / Double(drawn.count)
        XCTAssertEqual(short, 0.05, accuracy: 0.02, "share of lengths drawn around bptt/2")
    }

    /// The SGD run switches to ASGD within the run; interrupted at steps before the switch, in the
    /// epoch after it and later, and resumed, every run ends with the uninterrupted run's metrics.
    func testResumeBeforeAndAfterTheSwitchToASGDIsExact() throws {
        let config = try parseConfig(Self.configJSON(epochs: 6))
        let reference = try makeTemporaryDirectory("awd-reference")
        defer { try? FileManager.default.removeItem(atPath: reference) }
        XCTAssertEqual(try ExperimentRunner(config: config, options: options(reference)).run().map(\.1), [.completed])
        let state = try XCTUnwrap(try runDirectory(reference, config).readTrainerState())
        let since = try XCTUnwrap(state.recipe?.asgdSince, "the SGD run did not switch to ASGD in 6 epochs; the test needs a switch")
        XCTAssertLessThan(since, 5, "the switch must leave epochs after it")
        let expected = try metricsWithoutTiming("\(runDirectory(reference, config).path)/metrics.csv")
        let lr = try XCTUnwrap(MetricsTable.read(path: "\(runDirectory(reference, config).path)/metrics.csv").column("lr"))
        // main.py: lr / 10 after epoch 3 (milestone 3), back to 30 at the switch, then / 10 at the milestones that follow.
        let expectedLr = (0..<6).map { e -> Double in
            if e >= since { return e >= 3 && since <= 3 ? 30 * 0.1 : 30 }
            return e >= 3 ? 30 * 0.1 : 30
        }
        XCTAssertEqual(lr, expectedLr)
        let optimizerState = try SafetensorsArchive.read(contentsOf: URL(fileURLWithPath: runDirectory(reference, config).optimizerFile(generation: state.generation)))
        XCTAssertEqual(optimizerState.metadata["optimizer"], "asgd")

        let t = try task(config, seed: 2)
        for (epoch, step) in [(0, 2), (since - 1, 1), (since, 1), (since, t.stepCount(epoch: since) - 1), (5, 2)] where epoch < 6 {
            let results = try makeTemporaryDirectory("awd-resume")
            defer { try? FileManager.default.removeItem(atPath: results) }
            XCTAssertEqual(try ExperimentRunner(config: config, options: options(results, interruptAt: (epoch, step))).run().map(\.1),
                           [.interrupted], "interrupt at epoch \(epoch), step \(step)")
            let saved = try XCTUnwrap(try runDirectory(results, config).readTrainerState())
            XCTAssertEqual(saved.recipe?.asgdSince, epoch >= since ? since : nil)
            XCTAssertEqual(try ExperimentRunner(config: config, options: options(results, resume: true)).run().map(\.1), [.completed])
            XCTAssertEqual(try metricsWithoutTiming("\(runDirectory(results, config).path)/metrics.csv"), expected,
                           "resumed from epoch \(epoch), step \(step)")
        }
    }

    /// Real `train` processes SIGKILLed (ADAI_BENCH_KILL_AT) at every file boundary of the epoch that switches
    /// SGD to ASGD and of the epoch after it, each kill in the process that resumed from the previous one, then
    /// resumed to the end: the run ends with the uninterrupted run's metrics and final record.
    func testSGDKilledAroundItsSwitchToASGDResumesToTheSameMetrics() throws {
        guard let binary = adaiBenchExecutable() else { return }
        let config = "\(directory!)/awd.json"
        try Self.configJSON(epochs: 6).write(toFile: config, atomically: true, encoding: .utf8)
        let parsed = try parseConfig(Self.configJSON(epochs: 6))
        let log = "\(directory!)/log"
        func text(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }
        let train = ["train", "--config", config, "--resume"]
        let reference = "\(directory!)/reference"
        XCTAssertEqual(try runAdaiBench(binary, train + ["--results", reference], log: log).terminationStatus, 0, text(log))
        let since = try XCTUnwrap(try runDirectory(reference, parsed).readTrainerState()?.recipe?.asgdSince, "no switch to ASGD")
        XCTAssertGreaterThanOrEqual(since, 2)
        XCTAssertLessThan(since, 6)
        let results = "\(directory!)/killed"
        let chain = ["checkpoint-written:\(since - 1)",  // the last checkpoint before the switch
                     "metrics-written:1", "checkpoint-model-written:1",  // the switch's epoch, its checkpoint not yet whole
                     "checkpoint-written:1",  // the switch's checkpoint, before run.json
                     "step:2", "metrics-written:1", "checkpoint-written:1"]  // the first ASGD epoch
        var switched: [Bool] = []
        for point in chain {
            let killed = try runAdaiBench(binary, train + ["--results", results], environment: ["ADAI_BENCH_KILL_AT": point], log: log)
            XCTAssertEqual(killed.terminationReason, .uncaughtSignal, "\(point): \(text(log))")
            switched.append(try runDirectory(results, parsed).readTrainerState()?.recipe?.asgdSince == since)
        }
        // The checkpoint holds the switch from the switch's own checkpoint on, not before.
        XCTAssertEqual(switched, [false, false, false, true, true, true, true])
        XCTAssertEqual(try runAdaiBench(binary, train + ["--results", results], log: log).terminationStatus, 0, text(log))
        let run = runDirectory(results, parsed), ref = runDirectory(reference, parsed)
        XCTAssertEqual(try metricsWithoutTiming(run.metricsCSV), try metricsWithoutTiming(ref.metricsCSV))
        XCTAssertEqual(try run.readRecord()?.final, try ref.readRecord()?.final)
        XCTAssertEqual(try run.readTrainerState()?.recipe?.monitored, try ref.readTrainerState()?.recipe?.monitored)
    }

    /// Adam never switches; interrupted in every epoch at several steps, the resumed run is exact, and
    /// main.py's logged train perplexity is exp of the last complete window's mean.
    func testResumeAtAnyStepIsExactAndTheLogWindowIsMainPys() throws {
        let config = try parseConfig(Self.configJSON(epochs: 2, optimizer: #"{"name": "adam", "lr": 0.003, "weightDecay": 1.2e-6}"#))
        let reference = try makeTemporaryDirectory("awd-reference")
        defer { try? FileManager.default.removeItem(atPath: reference) }
        try ExperimentRunner(config: config, options: options(reference)).run()
        let expected = try metricsWithoutTiming("\(runDirectory(reference, config).path)/metrics.csv")
        XCTAssertNil(try runDirectory(reference, config).readTrainerState()?.recipe?.asgdSince)
        let t = try task(config, seed: 2)
        let steps = t.stepCount(epoch: 0)
        XCTAssertGreaterThan(steps, 7, "the log window needs at least two complete windows in the epoch")
        for step in [1, 3, 4, steps - 1] {
            let results = try makeTemporaryDirectory("awd-resume")
            defer { try? FileManager.default.removeItem(atPath: results) }
            _ = try ExperimentRunner(config: config, options: options(results, interruptAt: (1, step))).run()
            _ = try ExperimentRunner(config: config, options: options(results, resume: true)).run()
            XCTAssertEqual(try metricsWithoutTiming("\(runDirectory(results, config).path)/metrics.csv"), expected, "step \(step)")
        }
        // The window: main.py logs at batches 3, 6, … (0-based, > 0); the first window holds 4 batches, later ones 3.
        var stepLosses: [Double] = []
        var o = options(try makeTemporaryDirectory("awd-steps"))
        o.stepRecords.logEvery = 1
        try ExperimentRunner(config: config, options: o).run()
        let lines = try String(contentsOfFile: runDirectory(o.results, config).stepsCSV, encoding: .utf8).split(separator: "\n").dropFirst()
        for line in lines {
            let f = line.split(separator: ",")
            if f[0] == "2" { stepLosses.append(Double(f[4])!) }
        }
        XCTAssertEqual(stepLosses.count, t.stepCount(epoch: 1))
        let lastLogged = (stepLosses.count - 1) / 3 * 3
        let window = stepLosses[(lastLogged - (lastLogged == 3 ? 3 : 2))...lastLogged]
        let table = try MetricsTable.read(path: "\(runDirectory(reference, config).path)/metrics.csv")
        XCTAssertEqual(try XCTUnwrap(table.column("train_ppl_window"))[1], Foundation.exp(window.reduce(0, +) / 3), accuracy: 1e-5)
        try? FileManager.default.removeItem(atPath: o.results)
    }

    /// The same run on 1 and 2 threads gives the same metrics.
    func testSameNumbersOnAnyThreadCount() throws {
        let config = try parseConfig(Self.configJSON(epochs: 2))
        var metrics: [[String]] = []
        for threads in [1, 2] {
            Parallel.setThreadCount(threads)
            defer { Parallel.setThreadCount(nil) }
            let results = try makeTemporaryDirectory("awd-threads")
            defer { try? FileManager.default.removeItem(atPath: results) }
            try ExperimentRunner(config: config, options: options(results)).run()
            metrics.append(try metricsWithoutTiming("\(runDirectory(results, config).path)/metrics.csv"))
        }
        XCTAssertEqual(metrics[0], metrics[1])
    }

    func testBadRecipeSettingsAreErrorsWithMessages() {
        XCTAssertEqual(configProblems(Self.configJSON(nonmono: 0)), ["training.nonmono: must be >= 1, got 0"])
        XCTAssertEqual(configProblems(Self.configJSON().replacingOccurrences(of: #""kind": "multistep", "milestones": [3], "gamma": 0.1"#,
                                                                            with: #""kind": "cosine", "tMax": 5"#)),
                       [#"training.schedule: the AWD-LSTM recipe divides the lr at fixed epochs (main.py --when): use "multistep" or "constant", not "cosine""#])
        XCTAssertEqual(configProblems(tinyConfigJSON().replacingOccurrences(of: #""batchSize": 64"#, with: #""nonmono": 3, "batchSize": 64"#)),
                       [#"training.nonmono: belongs to the AWD-LSTM recipe (models awd-lstm-1layer, -2layer, -3layer, -tiny), not to "resnet-tiny""#])
    }
}

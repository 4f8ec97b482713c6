import Engine
@testable import Experiments
import Foundation
import TestSupport
import XCTest

/// `adai-bench bench --compare-gemm-threading` and `--compare-reductions`: both settings timed,
/// alternating, and the engine's setting restored; too few steps to alternate is refused with a message.
final class BenchTests: XCTestCase {
    /// The LSTM at its smallest, 4 steps: two of each setting when they alternate.
    private func tinyBenchmark() -> ModelBenchmark {
        var benchmark = ModelBenchmark(model: "lstm-tiny")
        benchmark.batch = 4
        benchmark.bptt = 5
        benchmark.steps = 4
        return benchmark
    }

    func testComparisonTimesBothThreadingsAndRestoresTheSetting() throws {
        Parallel.setThreadCount(2)
        defer { Parallel.setThreadCount(nil) }
        var benchmark = tinyBenchmark()
        benchmark.compareGEMMThreading = true
        let result = try benchmark.run()
        XCTAssertEqual(Set(result.byThreading.keys), [.split, .openBLAS])
        for (setting, times) in result.byThreading {
            XCTAssertEqual(times.train.count, 2, "\(setting)")
            XCTAssertEqual(times.infer.count, 2, "\(setting)")
        }
        XCTAssertEqual(result.trainSeconds.count, 4)
        XCTAssertEqual(Parallel.gemmThreading, .split)

        benchmark.compareGEMMThreading = false
        XCTAssertTrue(try benchmark.run().byThreading.isEmpty)
    }

    func testComparisonWithOneStepIsRefused() throws {
        guard let executable = adaiBenchExecutable() else { return }
        let directory = try makeTemporaryDirectory("bench")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let log = "\(directory)/bench.log"
        let pid = try ChildProcess.spawn(executable, ["bench", "--model", "lstm-tiny", "--steps", "1", "--compare-gemm-threading"],
                                         outputFile: log)
        XCTAssertEqual(ChildProcess.wait(pid), .exited(64))
        let output = try String(contentsOfFile: log, encoding: .utf8)
        XCTAssertTrue(output.hasPrefix("error: --compare-gemm-threading alternates the settings step by step: give --steps 2 or more (6 or more for stable medians)\n"), output)
    }

    func testReductionComparisonTimesBothOrdersAndRestoresTheFixedOrder() throws {
        Parallel.setThreadCount(2)
        defer { Parallel.setThreadCount(nil) }
        var benchmark = tinyBenchmark()
        benchmark.compareReductions = true
        let result = try benchmark.run()
        XCTAssertEqual(Set(result.byReductionOrder.keys), [.fixed, .threadCountDependent])
        for (order, times) in result.byReductionOrder {
            XCTAssertEqual(times.train.count, 2, "\(order)")
            XCTAssertEqual(times.infer.count, 2, "\(order)")
        }
        XCTAssertEqual(result.trainSeconds.count, 4)
        XCTAssertTrue(result.byThreading.isEmpty)
        XCTAssertEqual(Parallel.reductionOrder, .fixed)
    }

    /// The AWD-LSTMs are timed at the window given by --bptt (70 by default, main.py's), in tokens.
    func testAWDLSTMBenchTakesItsWindow() throws {
        guard let executable = adaiBenchExecutable() else { return }
        let directory = try makeTemporaryDirectory("bench")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let log = "\(directory)/awd.log"
        let pid = try ChildProcess.spawn(executable, ["bench", "--model", "awd-lstm-tiny", "--batch", "2", "--bptt", "5", "--steps", "1",
                                                      "--threads", "1", "--json"], outputFile: log)
        XCTAssertEqual(ChildProcess.wait(pid), .exited(0))
        let output = try String(contentsOfFile: log, encoding: .utf8)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any], output)
        XCTAssertEqual(object["bptt"] as? Int, 5)
        XCTAssertEqual(object["unit"] as? String, "tokens")
        let perSecond = try XCTUnwrap(object["train_per_second"] as? Double)
        let median = try XCTUnwrap(object["train_step_seconds_median"] as? Double)
        XCTAssertEqual(perSecond * median, 10, accuracy: 1e-6, "2 sequences × 5 tokens per step")
    }

    func testReductionComparisonWithOneStepIsRefused() throws {
        guard let executable = adaiBenchExecutable() else { return }
        let directory = try makeTemporaryDirectory("bench")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for (index, (arguments, message)) in [
            (["--steps", "1", "--compare-reductions"],
             "error: --compare-reductions alternates the reduction orders step by step: give --steps 2 or more (8 or more for stable medians)\n"),
            (["--steps", "4", "--compare-reductions", "--compare-gemm-threading"],
             "error: --compare-reductions and --compare-gemm-threading each alternate one setting: give only one of them\n"),
            (["--bptt", "0"], "error: --bptt must be at least 1, got 0\n"),
        ].enumerated() {
            let log = "\(directory)/bench-\(index).log"
            let pid = try ChildProcess.spawn(executable, ["bench", "--model", "lstm-tiny"] + arguments, outputFile: log)
            XCTAssertEqual(ChildProcess.wait(pid), .exited(64), "\(arguments)")
            let output = try String(contentsOfFile: log, encoding: .utf8)
            XCTAssertTrue(output.hasPrefix(message), output)
        }
    }
}

import Experiments
import Foundation
import RunFormat
import TestSupport
import XCTest

/// A config for a tiny, fast experiment on synthetic CIFAR-10 data.
func tinyConfigJSON(name: String = "tiny", epochs: Int = 3, optimizers: String = #"[{"name": "sgdm", "lr": 0.05, "weightDecay": 5e-4}]"#,
                    train: Int = 384, test: Int = 128) -> String {
    """
    {"name": "\(name)",
     "dataset": {"name": "cifar10", "synthetic": {"train": \(train), "test": \(test), "seed": 3}},
     "model": {"name": "resnet-tiny"},
     "training": {"epochs": \(epochs), "batchSize": 64, "evalBatchSize": 128, "seeds": [1],
                  "schedule": {"kind": "multistep", "milestones": [2], "gamma": 0.1}},
     "optimizers": \(optimizers)}
    """
}

func parseConfig(_ json: String) throws -> ExperimentConfig {
    try ExperimentConfig.parse(Data(json.utf8), file: "test.json")
}

/// The problems a config is rejected with (fails the test when it is accepted).
func configProblems(_ json: String, file: StaticString = #filePath, line: UInt = #line) -> [String] {
    do {
        _ = try parseConfig(json)
        XCTFail("the config was accepted", file: file, line: line)
        return []
    } catch let error as ConfigError {
        return error.problems
    } catch {
        XCTFail("unexpected error \(error)", file: file, line: line)
        return []
    }
}

/// The metrics.csv of a run with its timing columns removed, as text lines.
func metricsWithoutTiming(_ path: String) throws -> [String] {
    let table = try MetricsTable.read(path: path)
    let keep = table.columns.indices.filter { !MetricsTable.timingColumns.contains(table.columns[$0]) }
    let text = try String(contentsOfFile: path, encoding: .utf8)
    return text.split(separator: "\n").map { line in
        let fields = line.split(separator: ",", omittingEmptySubsequences: false)
        return keep.map { String(fields[$0]) }.joined(separator: ",")
    }
}

/// The adai-bench executable built beside the test bundle (fails the test when it is not there).
func adaiBenchExecutable(file: StaticString = #filePath, line: UInt = #line) -> String? {
    let (path, expected) = builtExecutable("adai-bench", besideBundleOf: ConfigTests.self)
    if path == nil {
        XCTFail("adai-bench was not built next to the tests (\(expected)); run `swift build` before `swift test`", file: file, line: line)
    }
    return path
}

/// Starts `adai-bench` with `arguments` and extra environment (ADAI_BENCH_KILL_AT is cleared unless given);
/// its output is appended to `log`, or dropped when `log` is nil.
func startAdaiBench(_ binary: String, _ arguments: [String], environment: [String: String] = [:], log: String? = nil) throws -> Process {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: binary)
    p.arguments = arguments
    var env = ProcessInfo.processInfo.environment
    env["ADAI_BENCH_KILL_AT"] = nil
    env.merge(environment) { $1 }
    p.environment = env
    if let log {
        if !FileManager.default.fileExists(atPath: log) { FileManager.default.createFile(atPath: log, contents: nil) }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        handle.seekToEndOfFile()
        p.standardOutput = handle
        p.standardError = handle
    } else {
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
    }
    try p.run()
    return p
}

/// Runs `adai-bench` to its end (see `startAdaiBench`) and returns the finished process.
@discardableResult
func runAdaiBench(_ binary: String, _ arguments: [String], environment: [String: String] = [:], log: String) throws -> Process {
    let p = try startAdaiBench(binary, arguments, environment: environment, log: log)
    p.waitUntilExit()
    return p
}

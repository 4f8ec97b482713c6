import Experiments
import Foundation
import NN
import TestSupport
import XCTest

/// Same seed, same numbers, on any number of threads, as users run it: `adai-bench train` on the
/// quick-start config (configs/quickstart.json, Adai, 2 epochs) gives bit-identical metrics.csv (timing
/// columns removed) on 1, 2, 3 and 4 threads, also while other processes keep every core busy (so the
/// engine's helper threads start late and parts run on other threads than planned), and a run killed
/// on 2 threads and resumed on 3 ends with the uninterrupted run's metrics.
///
/// The runs use the release build when it is at least as new as every source file (CI builds it
/// before `swift test`: about 10 s a run on 2 cores), else the debug build beside the tests (about
/// 80 s a run).
final class ThreadCountProcessTests: XCTestCase {
    private var directory: String!
    private var load: [Process] = []

    override func setUpWithError() throws { directory = try makeTemporaryDirectory("threads") }
    override func tearDownWithError() throws {
        stopLoad()
        try? FileManager.default.removeItem(atPath: directory)
    }

    static let root = Repository.root
    static let config = root.appendingPathComponent("configs/quickstart.json").path
    static let run = "quickstart/adai-lr1-wd0.0005/seed-1/metrics.csv"

    /// The release adai-bench if it is up to date with the sources, else the debug one beside the tests.
    private func executable() -> String? {
        guard let debug = adaiBenchExecutable() else { return nil }
        let release = URL(fileURLWithPath: debug).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("release/adai-bench").path
        func modified(_ path: String) -> Date? {
            (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date
        }
        guard let built = modified(release) else { return debug }
        let sources = Self.root.appendingPathComponent("Sources").path
        let newest = (FileManager.default.enumerator(atPath: sources)?.allObjects as? [String] ?? [])
            .compactMap { modified("\(sources)/\($0)") }.max() ?? .distantFuture
        return built >= newest ? release : debug
    }

    private func arguments(threads: Int, results: String) -> [String] {
        ["train", "--config", Self.config, "--optimizer", "adai", "--epochs", "2", "--threads", String(threads),
         "--results", results]
    }

    /// Trains to the end and returns metrics.csv without its timing columns.
    private func train(_ binary: String, threads: Int, results: String) throws -> [String] {
        let p = try startAdaiBench(binary, arguments(threads: threads, results: results))
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, "train on \(threads) threads failed")
        return try metricsWithoutTiming("\(results)/\(Self.run)")
    }

    /// One busy process per core (plus one), each spinning in a shell loop until `stopLoad`.
    private func startLoad() throws {
        for _ in 0...ProcessInfo.processInfo.activeProcessorCount {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/sh")
            p.arguments = ["-c", "while :; do :; done"]
            try p.run()
            load.append(p)
        }
    }

    private func stopLoad() {
        for p in load where p.isRunning { kill(p.processIdentifier, SIGKILL) }
        for p in load { p.waitUntilExit() }
        load = []
    }

    func testQuickStartMetricsAreIdenticalOnOneToFourThreadsAlsoUnderLoad() throws {
        guard let binary = executable() else { return }
        let reference = try train(binary, threads: 1, results: "\(directory!)/t1")
        XCTAssertEqual(reference.count, 3, "a header and two epochs")
        for threads in [2, 3, 4] {
            XCTAssertEqual(try train(binary, threads: threads, results: "\(directory!)/t\(threads)"), reference,
                           "\(threads) threads against 1")
        }
        try startLoad()
        for threads in [1, 2, 3, 4] {
            XCTAssertEqual(try train(binary, threads: threads, results: "\(directory!)/loaded\(threads)"), reference,
                           "\(threads) threads with every core busy against 1 thread on a quiet machine")
        }
    }

    /// `model grad` of every zoo model (loss, logits, every gradient, every buffer: the whole file) is
    /// byte-identical on 1, 2 and 4 threads: a training-mode pass on the first 4 CIFAR-10 test images (the
    /// LSTM: 4 PTB windows of 6 steps) from the real data (`RealData`: $ADAI_BENCH_DATA, data/, ../shared/data),
    /// weights from `model init`.
    func testEveryZooModelsGradIsByteIdenticalOnOneTwoAndFourThreads() throws {
        guard let binary = executable() else { return }
        guard let cifar = RealData.folder(holding: "cifar-10-batches-bin") else {
            return XCTFail(RealData.missingMessage("cifar-10-batches-bin"))
        }
        guard let ptb = RealData.folder(holding: "ptb") else { return XCTFail(RealData.missingMessage("ptb")) }
        // Every full-size model of the zoo, as the model files register them (ModelRegistryTests checks the
        // collected list against the files).
        let models = ModelZoo.names
        XCTAssertFalse(models.isEmpty, "the zoo lists no model")
        func succeed(_ arguments: [String]) throws {
            let p = try startAdaiBench(binary, arguments)
            p.waitUntilExit()
            XCTAssertEqual(p.terminationStatus, 0, arguments.joined(separator: " "))
        }
        for model in models {
            let weights = "\(directory!)/\(model).safetensors"
            try succeed(["model", "init", "--model", model, "--seed", "3", "--out", weights])
            let lm = ModelZoo.isLanguageModel(model)
            var outputs: [Data] = []
            for threads in [1, 2, 4] {
                let out = "\(directory!)/\(model)-\(threads).safetensors"
                try succeed(["model", "grad", "--model", model, "--weights", weights, "--dataset", lm ? "ptb" : "cifar10",
                             "--data-dir", lm ? ptb : cifar, "--first", "4", "--bptt", "6",
                             "--threads", String(threads), "--out", out])
                outputs.append(try Data(contentsOf: URL(fileURLWithPath: out)))
            }
            XCTAssertGreaterThan(outputs[0].count, 1_000, model)
            for (threads, output) in zip([2, 4], outputs.dropFirst()) {
                XCTAssertTrue(output == outputs[0], "\(model): model grad on \(threads) threads differs from 1 thread in "
                              + "\(zip(output, outputs[0]).filter { $0 != $1 }.count) of \(output.count) bytes")
            }
        }
    }

    func testARunKilledOnTwoThreadsAndResumedOnThreeEndsWithTheUninterruptedMetrics() throws {
        guard let binary = executable() else { return }
        let reference = try train(binary, threads: 2, results: "\(directory!)/reference")

        let results = "\(directory!)/killed", metrics = "\(results)/\(Self.run)"
        let process = try startAdaiBench(binary, arguments(threads: 2, results: results))
        func rows() -> Int { ((try? String(contentsOfFile: metrics, encoding: .utf8)) ?? "").split(separator: "\n").count - 1 }
        let deadline = Date().addingTimeInterval(600)
        while rows() < 1 && process.isRunning && Date() < deadline { usleep(20_000) }
        XCTAssertTrue(process.isRunning, "the run ended before it could be killed")
        let epochSeconds = try MetricsTable.read(path: metrics).column("epoch_seconds")?.first ?? 1
        usleep(useconds_t(epochSeconds * 0.4 * 1e6))  // part-way into the second epoch
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationReason, .uncaughtSignal)
        XCTAssertEqual(rows(), 1, "the kill should land in the second epoch")

        let resumed = try startAdaiBench(binary, arguments(threads: 3, results: results) + ["--resume"])
        resumed.waitUntilExit()
        XCTAssertEqual(resumed.terminationStatus, 0)
        XCTAssertEqual(try metricsWithoutTiming(metrics), reference)
    }
}

import Experiments
import Foundation
import RunFormat
import TestSupport
import XCTest

/// The training loop as a whole against the paper's PyTorch pipeline: the paper's ResNet18 trained by
/// `ExperimentRunner` on real CIFAR-10 images with the real augmentation (shuffle, pad-and-crop, flip, drawn
/// from the run's seed), Adai and SGD-M, every step's batch loss held to a twin that replayed the same
/// batches in PyTorch with the paper's model class and the official Adai / torch.optim.SGD
/// (Fixtures/twin-resnet18.json, written by scripts/fixtures/make_twin_fixture.py).
///
/// Settings: batch 8 (the debug build trains 2 × 10 steps), learning rates below the paper's (Adai 0.01,
/// SGD-M 0.001, weight decay 5e-4). At these rates the update is still large enough to matter for the
/// loss, yet the float32 trajectories stay on the exact one for the first steps (see below).
///
/// Tolerance (error model). The exact trajectory for these batches is PyTorch's float64 replay (L64).
/// Any float32 implementation leaves it by rounding that grows along the trajectory; PyTorch's own
/// float32 replay (L32) measures that growth for this very trajectory, and ResNet18 at initialisation
/// is very sensitive: in the fixture, |L32 − L64| is ~1e-7 for the first steps and then grows by
/// ~10× a step until the two are different trajectories (~1e-2 of the loss by step 5–8, for both
/// optimizers; at lr 0 it stays at ~1e-7, so the growth is the updates', not the data's). Ours is
/// another float32 implementation with other summation orders and a rounding of its own (Winograd
/// F(4×4, 3×3) in the backward pass; Adai divides by 1 − β₁-products near 0.001, which magnifies the
/// relative rounding of every element), so its distance from L64 is of the same kind but larger:
/// measured ours/PyTorch ratios, step by step before saturation, were ≤ 2 for SGD-M and up to 15
/// (batch 8) and 28 (batch 32, same rates) for Adai at the step where the growth starts. At step t we
/// allow
///     |ours_t − L64_t| ≤ min(K · max_{s ≤ t} |L32_s − L64_s| + F · ulp(L64_t),  cap_t)
/// with K = 50 (above the largest measured ratio; the running maximum because one draw of L32 can land
/// close to L64 by chance), F = 16 float32 ulps of the loss (step 1 has no history: the forward pass
/// and the log-softmax round differently in each implementation; measured: ≤ 2 ulps), and
/// cap_t = max(0.1 · L64_t, 2 · |L32_t − L64_t|): once the float32 runs have left the exact trajectory
/// the check is only that ours stays within the spread of runs that see the same batches.
///
/// What that checks: step 1 (the paper's model, the weights, the crop, flip and normalisation of the
/// first batch) to ~1e-5 of the loss; step 2 (the gradient and one update of each optimizer) and, for
/// SGD-M, steps 3–4 (momentum) to ~1e-5; Adai's step 3 to ~5e-3; every step's batch (indices, crop
/// offsets, flips) and lr exactly; later losses within the cap. `testAllowanceSeparatesRoundingFromAWrongStep`
/// keeps that true of the fixture.
///
/// Cost: 2 × 10 steps of ResNet18 at batch 8 and two evaluations of 16 test images, in the debug build:
/// 79 s on a quiet 2-core machine (the suite's most expensive test after the thread-count ones).
final class TwinTrainingTests: XCTestCase {
    static let k = 50.0
    static let floorUlps = 16.0
    /// Losses from here on (relative) are rounding-level checks: the fixture must keep at least the first
    /// `tightSteps` steps of every run below it.
    static let tightRelative = 1e-4
    static let tightSteps = 2

    struct Fixture: Decodable {
        struct Data: Decodable { var train_records: Int; var test_records: Int }
        struct Run: Decodable {
            struct Optimizer: Decodable { var name: String; var lr: Double; var weightDecay: Double }
            var optimizer: Optimizer
            var lr: [Double]
            var batches: [BatchRecord]
            var pytorch_float32: [Double]
            var pytorch_float64: [Double]
        }
        var paper_commit: String
        var data: Data
        var model: String
        var seed: Int
        var batch_size: Int
        var steps: Int
        var runs: [Run]
    }

    static func loadFixture() throws -> Fixture {
        let url = Repository.url("Tests/ExperimentsTests/Fixtures/twin-resnet18.json")
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw TrainError("fixture \(url.path) is missing; run scripts/fixtures/make_twin_fixture.py")
        }
        return try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }

    /// The allowance of step `t` (0-based) of a run, from the fixture's float32/float64 spread.
    static func allowance(_ run: Fixture.Run, step t: Int) -> Double {
        let spread = (0...t).map { abs(run.pytorch_float32[$0] - run.pytorch_float64[$0]) }.max()!
        let exact = run.pytorch_float64[t]
        let cap = max(0.1 * exact, 2 * abs(run.pytorch_float32[t] - exact))
        return min(k * spread + floorUlps * Double(Float(exact).ulp), cap)
    }

    /// Writes the first `records` records of the real `name` into `folder` (byte-exact prefixes: the same
    /// for the official files and the project's subset).
    private func copyPrefix(_ name: String, records: Int, into folder: String) throws {
        let relative = "cifar-10-batches-bin/\(name)"
        guard let path = RealData.path(relative) else { throw TrainError(RealData.missingMessage(relative)) }
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let size = records * 3073
        guard bytes.count >= size else { throw TrainError("\(path) holds fewer than \(records) records; the twin fixture needs them") }
        try bytes.prefix(size).write(to: URL(fileURLWithPath: "\(folder)/\(name)"))
    }

    func testResNet18FollowsThePaperPyTorchTwinStepByStep() throws {
        let fixture = try Self.loadFixture()
        let work = try makeTemporaryDirectory("twin")
        defer { try? FileManager.default.removeItem(atPath: work) }
        let data = "\(work)/data/cifar-10-batches-bin"
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        try copyPrefix("data_batch_1.bin", records: fixture.data.train_records, into: data)
        try copyPrefix("test_batch.bin", records: fixture.data.test_records, into: data)
        let optimizers = fixture.runs.map { #"{"name": "\#($0.optimizer.name)", "lr": \#($0.optimizer.lr), "weightDecay": \#($0.optimizer.weightDecay)}"# }
        let config = try ExperimentConfig.parse(Data("""
            {"name": "twin",
             "dataset": {"name": "cifar10", "dir": "\(data)", "allowPartial": true},
             "model": {"name": "\(fixture.model)"},
             "training": {"epochs": 1, "batchSize": \(fixture.batch_size), "evalBatchSize": \(fixture.data.test_records), "seeds": [\(fixture.seed)]},
             "optimizers": [\(optimizers.joined(separator: ", "))]}
            """.utf8), file: "twin.json")
        var options = TrainOptions()
        options.results = "\(work)/results"
        options.maxSteps = fixture.steps
        options.liveProgress = false
        options.log = { _ in }
        options.warn = { _ in }
        options.stepRecords = StepRecordOptions(logEvery: 1, batchesFile: "batches.jsonl")
        XCTAssertEqual(try ExperimentRunner(config: config, options: options).run().map(\.1), fixture.runs.map { _ in .completed })

        for (r, run) in fixture.runs.enumerated() {
            let name = config.optimizers[r].name
            let directory = try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: "\(work)/results/twin")
                .first { $0.hasPrefix("\(name)-lr") })
            let runDirectory = "\(work)/results/twin/\(directory)/seed-\(fixture.seed)"
            // The same batches: example indices, crop offsets and flips drawn from the seed.
            let batches = try BatchRecord.read(path: "\(runDirectory)/batches.jsonl")
            XCTAssertEqual(batches, run.batches, "\(name): the batches drawn differ from those the twin replayed")
            let rows = try String(contentsOfFile: "\(runDirectory)/steps.csv", encoding: .utf8).split(separator: "\n").dropFirst()
                .map { $0.split(separator: ",").map(String.init) }
            XCTAssertEqual(rows.count, fixture.steps)
            for (t, row) in rows.enumerated() where t < run.pytorch_float64.count {
                XCTAssertEqual(Double(row[3])!, run.lr[t], accuracy: 1e-12 * run.lr[t], "\(name) step \(t + 1): lr")
                let ours = Double(row[4])!, exact = run.pytorch_float64[t]
                let allowed = Self.allowance(run, step: t)
                XCTAssertLessThanOrEqual(abs(ours - exact), allowed,
                                         "\(name) step \(t + 1): loss \(ours) vs PyTorch float64 \(exact) (float32 \(run.pytorch_float32[t])); "
                                         + "allowed \(allowed) (\(Self.k) × PyTorch's float32 spread so far + \(Self.floorUlps) ulps, at most the cap)")
            }
        }
    }

    /// The allowance is tight enough to see a wrong step: PyTorch's own float32 replay passes it, and on the
    /// first `tightSteps` steps of every run (the forward pass, the first update) it is below
    /// `tightRelative` of the loss, so a step that differs by more (another init, crop, normalisation,
    /// gradient or update rule) fails.
    func testAllowanceSeparatesRoundingFromAWrongStep() throws {
        let fixture = try Self.loadFixture()
        for run in fixture.runs {
            XCTAssertEqual(run.pytorch_float64.count, fixture.steps)
            XCTAssertEqual(run.pytorch_float32.count, fixture.steps)
            for t in 0..<fixture.steps {
                XCTAssertLessThanOrEqual(abs(run.pytorch_float32[t] - run.pytorch_float64[t]), Self.allowance(run, step: t))
            }
            for t in 0..<Self.tightSteps {
                XCTAssertLessThan(Self.allowance(run, step: t), Self.tightRelative * run.pytorch_float64[t],
                                  "\(run.optimizer.name) step \(t + 1)")
            }
        }
    }
}

import Engine
@testable import Experiments
import Foundation
import NN
import Optim
import RunFormat
import TestSupport
import XCTest

/// Checkpoints written by an older version of the code still resume, with every state buffer where
/// the update reads it, to the metrics the run would have reached without a stop.
///
/// Fixtures/legacy-checkpoint was written by commit 76c30d1, before the optimizers' state was
/// renamed from buffer indices to names: `interrupted/` holds three runs (adai, amsgrad, sgdm: every
/// kind of buffer, `beta1_prod` starting at 1 included) stopped one step into their second and last
/// epoch, with their checkpoints; `complete/` the metrics of the same runs trained without a stop,
/// on the machine that wrote them (an AVX-512 host). See Fixtures/legacy-checkpoint/README.md.
///
/// `complete/` holds our own binary's numbers from one CPU, so it is compared within a tolerance
/// (below); what must hold exactly is checked against the old files themselves, which any CPU reads
/// to the same bits: each buffer by name and value, and the re-saved state against the old file.
final class LegacyCheckpointTests: XCTestCase {
    static let fixture = Repository.path("Tests/ExperimentsTests/Fixtures/legacy-checkpoint")
    static let configJSON = tinyConfigJSON(name: "legacy", epochs: 2, optimizers: #"""
        [{"name": "adai", "lr": 0.5, "weightDecay": 5e-4}, {"name": "amsgrad", "lr": 0.01, "weightDecay": 5e-4},
         {"name": "sgdm", "lr": 0.05, "weightDecay": 5e-4}]
        """#, train: 128, test: 64)
    /// The runs and the buffers each optimizer's reference code keeps per parameter.
    static let runs: [(id: String, optimizer: String, buffers: Set<String>)] = [
        ("adai-lr0.5-wd0.0005", "adai", ["exp_avg", "exp_avg_sq", "beta1_prod"]),
        ("amsgrad-lr0.01-wd0.0005", "amsgrad", ["exp_avg", "exp_avg_sq", "max_exp_avg_sq"]),
        ("sgdm-lr0.05-wd0.0005", "sgdm", ["momentum_buffer"]),
    ]

    var directory: String!
    override func setUpWithError() throws { directory = try makeTemporaryDirectory("legacy-checkpoint") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: directory) }

    /// Every buffer of every parameter in the old optimizer file is, after loading, the buffer the
    /// update reads under that name (`Optimizer.liveState`, the update's own lookup), bit for bit, with
    /// its step count; nothing is missing and nothing is added. The file is parsed here by hand, not by
    /// the loader under test.
    func testEveryBufferOfAnOldCheckpointIsReadIntoThePlaceTheUpdateReads() throws {
        let config = try parseConfig(Self.configJSON)
        for run in Self.runs {
            let runPath = "\(Self.fixture)/interrupted/legacy/\(run.id)/seed-1"
            let optimizer = try loadCheckpoint(runPath, optimizer: run.optimizer, config: config)
            let file = try RawSafetensors(path: "\(runPath)/checkpoint/optimizer-g2.safetensors")
            XCTAssertEqual(file.metadata["optimizer"], run.optimizer)
            let parameters = file.metadata.keys.filter { $0.hasPrefix("state.") && $0.hasSuffix(".step") }
                .map { String($0.dropFirst("state.".count).dropLast(".step".count)) }.sorted()
            XCTAssertEqual(parameters.count, 38, run.id)  // every parameter of resnet-tiny
            for parameter in parameters {
                let live = try XCTUnwrap(optimizer.liveState(of: parameter), "\(run.id): \(parameter) has no state after loading")
                XCTAssertEqual(live.step, Int(file.metadata["state.\(parameter).step"]!), "\(run.id): \(parameter)")
                let inFile = Set(file.tensors.keys.filter { $0.hasPrefix("state.\(parameter).") && !$0.dropFirst("state.\(parameter).".count).contains(".") }
                    .map { String($0.dropFirst("state.\(parameter).".count)) })
                XCTAssertEqual(inFile, run.buffers, "\(run.id): \(parameter): the file's buffers")
                XCTAssertEqual(Set(live.buffers.keys), run.buffers, "\(run.id): \(parameter): the loaded buffers")
                for buffer in run.buffers {
                    let expected = try XCTUnwrap(file.tensors["state.\(parameter).\(buffer)"])
                    let actual = try XCTUnwrap(live.buffers[buffer]).array
                    if let difference = bitDifference(actual, expected) {
                        XCTFail("\(run.id): the loaded '\(buffer)' of \(parameter) is not the file's state.\(parameter).\(buffer): \(difference)")
                    }
                }
            }
        }
    }

    /// Resumed from the old checkpoint, each run ends where the uninterrupted run ended, within a
    /// tolerance from the error model: the last epoch runs on whatever OpenBLAS kernel this CPU
    /// selects, while `complete/` came from an AVX-512 host. One more optimizer step after a kernel
    /// change moves the losses by a few float32 ulps of the accumulated sums (1.1e-7 relative seen between
    /// AVX2 and AVX-512), so losses must agree to 1e-5 relative, and the error percentages exactly (a
    /// prediction flipped by a relative logit change of 1e-6 would need a tie within it; none is near).
    /// `testTheToleranceCatchesSwappedBuffers` shows the tolerance is far inside what a misplaced buffer does.
    func testAnOldCheckpointResumesToTheUninterruptedMetricsWithinTheErrorModel() throws {
        let results = try resume(from: "\(Self.fixture)/interrupted")
        for run in Self.runs {
            let id = "legacy/\(run.id)/seed-1/metrics.csv"
            let problems = try metricDifferences(try MetricsTable.read(path: "\(results)/\(id)"),
                                                 try MetricsTable.read(path: "\(Self.fixture)/complete/\(id)"))
            XCTAssertEqual(problems, [], run.id)
        }
    }

    /// The old file, loaded and saved again by today's code, is the same file in names and bits
    /// (metadata included), and a run resumed from the re-saved state gives exactly the metrics of the
    /// one resumed from the old file, on this machine. (Alone this check could not catch a loader and a
    /// saver that make the same mistake; the first test reads the buffers as the update does.)
    func testAnOldCheckpointReSavedIsTheSameFileAndResumesIdentically() throws {
        let config = try parseConfig(Self.configJSON)
        let resaved = "\(directory!)/resaved-input"
        try FileManager.default.copyItem(atPath: "\(Self.fixture)/interrupted", toPath: resaved)
        for run in Self.runs {
            let runPath = "\(resaved)/legacy/\(run.id)/seed-1"
            let optimizer = try loadCheckpoint(runPath, optimizer: run.optimizer, config: config)
            let old = try RawSafetensors(path: "\(runPath)/checkpoint/optimizer-g2.safetensors")
            let (metadata, tensors) = optimizer.saveState().flattened()
            XCTAssertEqual(metadata, old.metadata, run.id)
            XCTAssertEqual(Set(tensors.keys), Set(old.tensors.keys), run.id)
            for (name, tensor) in tensors {
                if let difference = bitDifference(tensor.array, old.tensors[name] ?? []) {
                    XCTFail("\(run.id): re-saved \(name) is not the old file's: \(difference)")
                }
            }
            let archive = SafetensorsArchive(
                tensors: tensors.keys.sorted().map { (name: $0, value: StoredTensor.float32(tensors[$0]!)) }, metadata: metadata)
            try archive.write(to: URL(fileURLWithPath: "\(runPath)/checkpoint/optimizer-g2.safetensors"))
        }
        let fromOld = try resume(from: "\(Self.fixture)/interrupted", into: "old")
        let fromResaved = try resume(from: resaved, into: "resaved")
        for run in Self.runs {
            let id = "legacy/\(run.id)/seed-1/metrics.csv"
            XCTAssertEqual(try metricsWithoutTiming("\(fromResaved)/\(id)"), try metricsWithoutTiming("\(fromOld)/\(id)"), run.id)
        }
    }

    /// The tolerance of the resume test can fail: AMSGrad's moments `exp_avg` and `exp_avg_sq` swapped in
    /// the old file (what a loader that put them in each other's place would do) move the resumed metrics
    /// far outside it. (A swap of `exp_avg_sq` and `max_exp_avg_sq` barely moves them: three steps into a
    /// run the two are equal for 20 of the 38 parameters and close for the rest, which is why the first
    /// test compares every buffer bit for bit instead of relying on the metrics.)
    func testTheToleranceCatchesSwappedBuffers() throws {
        let swapped = "\(directory!)/swapped-input"
        try FileManager.default.copyItem(atPath: "\(Self.fixture)/interrupted", toPath: swapped)
        let file = "\(swapped)/legacy/amsgrad-lr0.01-wd0.0005/seed-1/checkpoint/optimizer-g2.safetensors"
        let archive = try SafetensorsArchive.read(contentsOf: URL(fileURLWithPath: file))
        var tensors: [(name: String, value: StoredTensor)] = []
        for name in archive.names {
            let partner = name.hasSuffix(".exp_avg_sq") && !name.hasSuffix(".max_exp_avg_sq")
                ? String(name.dropLast(".exp_avg_sq".count)) + ".exp_avg"
                : name.hasSuffix(".exp_avg") ? name + "_sq" : name
            tensors.append((name: name, value: .float32(try archive.floatTensor(partner, source: "fixture"))))
        }
        try SafetensorsArchive(tensors: tensors, metadata: archive.metadata).write(to: URL(fileURLWithPath: file))
        let results = try resume(from: swapped)
        let id = "legacy/amsgrad-lr0.01-wd0.0005/seed-1/metrics.csv"
        let problems = try metricDifferences(try MetricsTable.read(path: "\(results)/\(id)"),
                                             try MetricsTable.read(path: "\(Self.fixture)/complete/\(id)"))
        XCTAssertFalse(problems.isEmpty, "swapped moments resumed to within the tolerance of the right ones")
        print("swapped moments: \(problems.joined(separator: "; "))")
    }

    // MARK: - Helpers

    /// Copies the run directories at `source` and resumes every run of the config in the copy.
    private func resume(from source: String, into name: String = "results") throws -> String {
        let results = "\(directory!)/\(name)"
        try FileManager.default.copyItem(atPath: source, toPath: results)
        var o = TrainOptions()
        o.results = results
        o.resume = true
        o.liveProgress = false
        o.log = { _ in }
        o.warn = { _ in }
        let outcomes = try ExperimentRunner(config: try parseConfig(Self.configJSON), options: o).run()
        XCTAssertEqual(outcomes.map(\.1), [.completed, .completed, .completed])
        return results
    }

    /// The model and optimizer of a run, built as the trainer builds them, with the run's checkpoint loaded
    /// by the trainer's own loader.
    private func loadCheckpoint(_ runPath: String, optimizer name: String, config: ExperimentConfig) throws -> any Optimizer {
        let spec = try XCTUnwrap(config.optimizers.first { $0.name == name })
        let model = try ModelZoo.make(ModelConfiguration(name: config.model.name, classes: 10), seed: 1)
        let parameters = model.module.namedParameters.map { NamedParameter($0.0, $0.1) }
        let optimizer = try makeOptimizer(name, parameters: parameters, options: spec.options)
        let loaded = try RunCheckpoint.load(run: RunDirectory(runPath), model: model.module,
                                            modelDescription: config.model.name, optimizer: { _ in optimizer })
        XCTAssertNotNil(loaded, "\(runPath) has no checkpoint")
        return optimizer
    }

    /// Where two metrics tables differ beyond the error model of `testAnOldCheckpointResumesTo…`: the
    /// same epochs and lrs, losses within 1e-5 relative, error percentages equal.
    private func metricDifferences(_ actual: MetricsTable, _ expected: MetricsTable) throws -> [String] {
        let compared = expected.columns.filter { !MetricsTable.timingColumns.contains($0) }
        XCTAssertEqual(actual.rows.count, expected.rows.count)
        var problems: [String] = []
        for (row, (a, e)) in zip(actual.rows, expected.rows).enumerated() {
            for column in compared {
                let x = a[try XCTUnwrap(actual.columns.firstIndex(of: column), column)], y = e[expected.columns.firstIndex(of: column)!]
                let tolerance = column.hasSuffix("_loss") ? 1e-5 * abs(y) : 0
                if !(abs(x - y) <= tolerance) { problems.append("row \(row + 1) \(column): \(x) against \(y)") }
            }
        }
        return problems
    }
}

/// nil when `actual` and `expected` are the same floats bit for bit; otherwise how they differ, in one line.
private func bitDifference(_ actual: [Float], _ expected: [Float]) -> String? {
    guard actual.count == expected.count else { return "\(actual.count) elements against \(expected.count)" }
    let differing = actual.indices.filter { actual[$0].bitPattern != expected[$0].bitPattern }
    guard let first = differing.first else { return nil }
    return "\(differing.count) of \(actual.count) elements differ, the first at [\(first)]: \(actual[first]) against \(expected[first])"
}

/// A safetensors file read by hand (header JSON, then little-endian float32 data), independent of
/// the project's reader: the tensors by name as arrays, and the metadata.
private struct RawSafetensors {
    var tensors: [String: [Float]] = [:]
    var metadata: [String: String] = [:]

    init(path: String) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let headerLength = Int(data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) })
        let header = try XCTUnwrap(try JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + headerLength))) as? [String: Any])
        for (name, entry) in header {
            if name == "__metadata__" {
                metadata = try XCTUnwrap(entry as? [String: String])
                continue
            }
            let fields = try XCTUnwrap(entry as? [String: Any])
            XCTAssertEqual(fields["dtype"] as? String, "F32", name)
            let offsets = try XCTUnwrap(fields["data_offsets"] as? [Int])
            let start = 8 + headerLength + offsets[0], end = 8 + headerLength + offsets[1]
            tensors[name] = stride(from: start, to: end, by: 4).map { i in
                Float(bitPattern: (0..<4).reduce(UInt32(0)) { $0 | UInt32(data[i + $1]) << (8 * UInt32($1)) })
            }
        }
    }
}

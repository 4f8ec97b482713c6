@testable import Experiments
import Foundation
import Optim
import RunFormat
import TestSupport
import XCTest

/// run.json's `config` is RunFormat's typed `RunConfig`: files written before it was typed still read, and the
/// config is written as it was.
final class RunRecordCompatibilityTests: XCTestCase {
    private let fixtures = "Tests/ExperimentsTests/Fixtures/run-json-7855a2f"

    /// The run.json at `name` read through `RunDirectory.readRecord`, the one decoder of run.json.
    private func record(_ name: String) throws -> (RunRecord, [String: Any]) {
        let dir = try makeTemporaryDirectory("legacy-run")
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        let data = try Data(contentsOf: Repository.url("\(fixtures)/\(name)"))
        try data.write(to: URL(fileURLWithPath: "\(dir)/run.json"))
        let record = try XCTUnwrap(try RunDirectory(dir).readRecord())
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        return (record, try XCTUnwrap(json["config"] as? [String: Any]))
    }

    /// The config encoded today, as a JSON object.
    private func encoded(_ config: RunConfig) throws -> [String: Any] {
        try XCTUnwrap(try JSONSerialization.jsonObject(with: JSONEncoder().encode(config)) as? [String: Any])
    }

    func testACIFARRunJSONWrittenBy7855a2fReadsTyped() throws {
        let (record, written) = try record("cifar-run.json")
        let config = try XCTUnwrap(record.config)
        XCTAssertEqual(config.name, "legacy-cifar")
        XCTAssertEqual(config.dataset.kind, .cifar10)
        XCTAssertEqual(config.dataset.synthetic, .init(train: 64, test: 32, seed: 0))
        XCTAssertEqual(config.dataset.mean, [0.5, 0.5, 0.5])
        XCTAssertEqual(config.dataset.std, [0.25, 0.25, 0.25])
        XCTAssertEqual(config.dataset.validation, 0, "absent before the key existed: no held-out split")
        XCTAssertEqual(config.model, ModelSpec(name: "resnet-tiny", dropout: 0.1))
        XCTAssertEqual(config.training.epochs, 1)
        XCTAssertEqual(config.training.batchSize, 32)
        XCTAssertEqual(config.seed, 3)
        XCTAssertEqual(config.training.schedule, .multistep(milestones: [4], gamma: 0.1))
        XCTAssertEqual(config.optimizer.name, "adai")
        XCTAssertEqual(config.optimizer.options["betas"], .list([0.1, 0.99]))
        XCTAssertEqual(config.optimizer.lr, 1)
        XCTAssertEqual(config.optimizer.weightDecay, 5e-4)
        XCTAssertEqual(try encoded(config) as NSDictionary, written as NSDictionary, "the config is written as 7855a2f wrote it")
    }

    func testAPTBRunJSONWrittenBy7855a2fReadsTyped() throws {
        let (record, written) = try record("ptb-run.json")
        let config = try XCTUnwrap(record.config)
        XCTAssertEqual(config.dataset.kind, .ptb)
        XCTAssertEqual(config.model, ModelSpec(name: "lstm-tiny", dropout: 0.2, tiedWeights: true))
        XCTAssertEqual(config.training.bptt, 10)
        XCTAssertEqual(config.training.clipNorm, 0.5)
        XCTAssertEqual(config.training.evalBatchSize, 2)
        XCTAssertEqual(config.training.schedule, .step(stepSize: 2, gamma: 0.5))
        XCTAssertEqual(config.optimizer.lr, 0.002)
        XCTAssertEqual(try encoded(config) as NSDictionary, written as NSDictionary, "the config is written as 7855a2f wrote it")
    }

    /// The same config read from its file and from the run.json the trainer wrote for it agree.
    func testTheResolvedConfigIsTheConfigFilesRun() throws {
        let file = try ExperimentConfig.load(path: Repository.path("\(fixtures)/cifar-config.json"))
        let (record, _) = try record("cifar-run.json")
        XCTAssertEqual(file.runConfig(optimizer: file.optimizers[0], seed: 3), record.config)
    }

    /// A held-out split is part of the run's settings, so run.json records it (it used to be left out).
    func testRunJSONRecordsTheValidationSplit() throws {
        let results = try makeTemporaryDirectory("validation-run")
        addTeardownBlock { try? FileManager.default.removeItem(atPath: results) }
        let json = tinyConfigJSON(name: "held-out", epochs: 1, train: 96, test: 32)
            .replacingOccurrences(of: #""seed": 3}"#, with: #""seed": 3}, "validation": 32"#)
        let config = try parseConfig(json)
        XCTAssertEqual(config.dataset.validation, 32)
        var options = TrainOptions()
        options.results = results
        options.maxSteps = 1
        options.liveProgress = false
        options.log = { _ in }
        XCTAssertEqual(try ExperimentRunner(config: config, options: options).run().map(\.1), [.completed])
        let run = RunDirectory(try XCTUnwrap(config.sweepGrid().runs.first).directory(results: results))
        let recorded = try XCTUnwrap(try run.readRecord()?.config)
        XCTAssertEqual(recorded.dataset.validation, 32)
        XCTAssertEqual(recorded, config.runConfig(optimizer: config.optimizers[0], seed: 1))
    }

    /// The configs `reproduce` writes are encoded from values; the reader takes them back unchanged.
    func testAnEncodedConfigReadsBackEqual() throws {
        for name in ["quickstart", "cifar10-resnet18", "ptb-lstm", "ptb-awd-lstm-2layer", "cifar100-googlenet"] {
            let config = try ExperimentConfig.load(path: Repository.path("configs/\(name).json"))
            let again = try ExperimentConfig.parse(Data(try config.fileText().utf8), file: "\(name) encoded")
            XCTAssertEqual(again, config, name)
            let decoded = try JSONDecoder().decode(ExperimentConfig.self, from: Data(try config.fileText().utf8))
            XCTAssertEqual(decoded, config, "\(name): Codable reads what it writes")
        }
    }
}

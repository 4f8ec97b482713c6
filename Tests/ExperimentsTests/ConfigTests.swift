import Experiments
import Foundation
import RunFormat
import Optim
import TestSupport
import XCTest

final class ConfigTests: XCTestCase {
    func testValidConfigGetsItsDefaults() throws {
        let c = try parseConfig(tinyConfigJSON())
        XCTAssertEqual(c.name, "tiny")
        XCTAssertEqual(c.training.seeds, [1])
        XCTAssertEqual(c.training.schedule, .multistep(milestones: [2], gamma: 0.1))
        XCTAssertEqual(c.optimizers.map(\.name), ["sgdm"])
        XCTAssertEqual(c.runs.map(\.id), ["sgdm-lr0.05-wd0.0005/seed-1"])
        XCTAssertEqual(c.dataset.dir, "data/cifar-10-batches-bin")
    }

    func testEveryShippedConfigIsValid() throws {
        let configs = Repository.url("configs")
        let files = try FileManager.default.contentsOfDirectory(atPath: configs.path).filter { $0.hasSuffix(".json") }
        XCTAssertGreaterThanOrEqual(files.count, 7, "configs/ should hold the quick start and the paper's six experiments")
        for file in files {
            XCTAssertNoThrow(try ExperimentConfig.load(path: configs.appendingPathComponent(file).path), file)
        }
    }

    func testOptimizerValuesAreReportedWithTheirJSONPath() {
        let problems = configProblems(tinyConfigJSON(optimizers: #"""
            [{"name": "adai", "lr": 1}, {"name": "sgdm", "lr": 0.1}, {"name": "adam", "lr": -1}]
            """#))
        XCTAssertEqual(problems, ["optimizers[2]: adam: lr must be > 0, got -1.0"])
    }

    func testTheValidationSplitIsForCIFARAndAddsItsColumns() throws {
        let json = tinyConfigJSON().replacingOccurrences(of: #""seed": 3}"#, with: #""seed": 3}, "validation": 64"#)
        let c = try parseConfig(json)
        XCTAssertEqual(c.dataset.validation, 64)
        XCTAssertEqual(MetricsTable.columns(c), MetricsTable.classificationValidationColumns)
        XCTAssertEqual(MetricsTable.columns(try parseConfig(tinyConfigJSON())), MetricsTable.classificationColumns)
        let negative = tinyConfigJSON().replacingOccurrences(of: #""seed": 3}"#, with: #""seed": 3}, "validation": -1"#)
        XCTAssertEqual(configProblems(negative).count, 1)
        XCTAssertTrue(configProblems(negative)[0].hasPrefix("dataset.validation"), configProblems(negative)[0])
    }

    func testUnknownKeysSuggestTheClosestValidName() {
        let json = tinyConfigJSON().replacingOccurrences(of: #""batchSize": 64"#, with: #""batchSzie": 64"#)
        XCTAssertEqual(configProblems(json), [#"training.batchSzie: unknown key; did you mean "batchSize"?"#])
        let model = tinyConfigJSON().replacingOccurrences(of: "resnet-tiny", with: "resnet19")
        XCTAssertTrue(configProblems(model).first?.hasPrefix(#"model.name: unknown model "resnet19"; did you mean "resnet18"?"#) == true)
        let optimizer = tinyConfigJSON(optimizers: #"[{"name": "adia", "lr": 1}]"#)
        XCTAssertTrue(configProblems(optimizer).first?.hasPrefix(#"optimizers[0].name: unknown optimizer "adia"; did you mean "adai"?"#) == true)
    }

    func testOptimizerSettingsAreCheckedByTheOptimModule() {
        let problems = configProblems(tinyConfigJSON(optimizers: #"[{"name": "adai", "lr": 1, "betas": [0.1, 1.2]}]"#))
        XCTAssertEqual(problems.count, 1)
        XCTAssertTrue(problems[0].hasPrefix("optimizers[0]: adai: betas[1] must be in [0, 1), got 1.2"), problems[0])
        let unknown = configProblems(tinyConfigJSON(optimizers: #"[{"name": "sgdm", "lr": 0.1, "nesterow": true}]"#))
        XCTAssertTrue(unknown.first?.contains("nesterow") == true && unknown.first?.contains("nesterov") == true, "\(unknown)")
    }

    func testEveryProblemIsReportedAtOnce() {
        let json = """
            {"name": "bad name", "dataset": {"name": "cifar11"}, "model": {"name": "lstm"},
             "training": {"epochs": 0, "seeds": [1.5]}, "optimizers": [], "extra": 1}
            """
        let problems = configProblems(json)
        XCTAssertTrue(problems.contains { $0.hasPrefix("name: must use only letters, digits") }, "\(problems)")
        XCTAssertTrue(problems.contains { $0.hasPrefix(#"dataset.name: unknown data set "cifar11""#) }, "\(problems)")
        XCTAssertTrue(problems.contains("training.epochs: must be >= 1, got 0"), "\(problems)")
        XCTAssertTrue(problems.contains("training.seeds[0]: must be a whole number >= 0, got 1.5"), "\(problems)")
        XCTAssertTrue(problems.contains("optimizers: must list at least one optimizer"), "\(problems)")
        XCTAssertTrue(problems.contains(#"extra: unknown key; valid keys here: name, notes, dataset, model, training, optimizers, sweep"#), "\(problems)")
    }

    func testModelMustFitTheDataSet() {
        let json = tinyConfigJSON().replacingOccurrences(of: "resnet-tiny", with: "lstm")
        XCTAssertEqual(configProblems(json).first,
                       #"model.name: model "lstm" does not fit data set "cifar10" (the LSTM language models go with ptb, the image models with cifar10/cifar100)"#)
    }

    func testMalformedJSONAndMissingFile() {
        XCTAssertTrue(configProblems("{\"name\": ").first?.hasPrefix("not valid JSON") == true)
        XCTAssertThrowsError(try ExperimentConfig.load(path: "/nonexistent/x.json")) { error in
            XCTAssertTrue("\(error)".hasPrefix("/nonexistent/x.json: cannot read the file"), "\(error)")
        }
    }

    func testScheduleErrorsComeFromTheScheduleReader() {
        let json = tinyConfigJSON().replacingOccurrences(of: #""milestones": [2], "#, with: "")
        let problems = configProblems(json)
        XCTAssertEqual(problems.count, 1)
        XCTAssertTrue(problems[0].hasPrefix("training.schedule: schedule multistep"), problems[0])
        XCTAssertTrue(problems[0].contains("milestones"), problems[0])
    }

    func testCommandLineOverrides() throws {
        let c = try parseConfig(tinyConfigJSON(optimizers: #"[{"name": "adai", "lr": 1}, {"name": "sgdm", "lr": 0.1}]"#))
        var o = TrainOverrides()
        o.optimizer = "sgdm"; o.lr = 0.2; o.weightDecay = 1e-4; o.epochs = 7; o.seed = 4
        let d = try c.applying(o)
        XCTAssertEqual(d.runs.map(\.id), ["sgdm-lr0.2-wd0.0001/seed-4"])
        XCTAssertEqual(d.training.epochs, 7)
        var bad = TrainOverrides()
        bad.optimizer = "adam"
        XCTAssertThrowsError(try c.applying(bad)) { error in
            XCTAssertEqual("\(error)", "command line: --optimizer adam: the config has no such optimizer; it lists adai, sgdm")
        }
    }
}

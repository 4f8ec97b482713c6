import Datasets
import Engine
import NN
import XCTest

@testable import Analyses

final class ErrorMessageTests: XCTestCase {
    func message(_ body: () throws -> Any) -> String {
        do { _ = try body(); return "no error" } catch { return "\(error)" }
    }

    func testOptimizerSpecErrors() {
        XCTAssertEqual(message { try OptimizerChoice(parsing: ":lr=1") },
                       "optimizer spec ':lr=1' has no name; write NAME[:key=value…], e.g. sgdm:lr=0.01:momentum=0.9")
        XCTAssertTrue(message { try OptimizerChoice(parsing: "sgd:lr") }.hasPrefix("optimizer spec 'sgd:lr': expected key=value"))
        XCTAssertTrue(message { try OptimizerChoice(parsing: "nadam:lr=1") }.hasPrefix("optimizer 'nadam': unknown optimizer 'nadam'"))
        XCTAssertTrue(message { try OptimizerChoice(parsing: "adai") }.hasPrefix("optimizer 'adai':"))
        XCTAssertEqual(message { try OptimizerChoice(parsing: "sgd:lr=1:label=a b") },
                       "optimizer label 'a b' must be letters, digits, '-', '_' or '.' (it names CSV rows)")
        XCTAssertEqual((try? OptimizerChoice(parsing: "sgdm:momentum=0.9:lr=0.1:label=m"))?.spec, "sgdm:label=m:lr=0.1:momentum=0.9")
    }

    func testEscapeSettingErrors() throws {
        func check(_ expected: String, _ change: (inout EscapeExperiment) -> Void) {
            var e = EscapeExperiment()
            e.optimizers = [try! OptimizerChoice(parsing: "sgd:lr=0.1")]
            change(&e)
            XCTAssertEqual(message { try e.validate() }, expected)
        }
        check("--dim must be >= 1, got 0") { $0.dimension = 0 }
        check("--samples must be >= 1, got 0") { $0.samples = 0; $0.batchSize = 0 }
        check("--batch-size must be in 1...50000 (the number of samples), got 60000") { $0.batchSize = 60_000 }
        check("--repeats must be >= 1, got 0") { $0.repeats = 0 }
        check("--max-steps must be >= 1, got 0") { $0.maxSteps = 0 }
        check("--noise-scale must be >= 0, got -1.0") { $0.noiseScale = -1 }
        check("--k needs one or more sharpness factors > 0, e.g. --k 1,2,4") { $0.ks = [1, 0] }
        check("--k lists a sharpness factor twice: [1.0, 1.0]") { $0.ks = [1, 1] }
        check("give at least one --optimizer NAME[:key=value…], e.g. --optimizer sgdm:lr=0.01:momentum=0.9") { $0.optimizers = [] }
        check("two optimizers have the same label (sgd, sgd); add :label=NAME to tell them apart") {
            $0.optimizers.append(try! OptimizerChoice(parsing: "sgd:lr=0.2"))
        }
        var e = EscapeExperiment()
        e.noiseScale = 2; e.samples = 1000; e.dimension = 1
        XCTAssertEqual(message { try e.landscape(shifts: e.shifts()) },
                       "with --noise-scale 2.0 the loss has no double well in coordinate 0 (the valleys merge when σ² approaches 8/3); use a smaller --noise-scale, e.g. 1")
        e = EscapeExperiment()
        e.dimension = 1; e.samples = 100; e.repeats = 1; e.ks = [1]
        e.optimizers = [try OptimizerChoice(parsing: "sgd:lr=1e300")]
        XCTAssertEqual(message { try e.run() }, "sgd diverged at k=1 (repeat 0, step 1); lower its lr")
    }

    func testCommandLineParsingErrors() throws {
        XCTAssertEqual(try parseNumberList("1, 2.5,4", option: "--k"), [1, 2.5, 4])
        XCTAssertEqual(message { try parseNumberList("1,x", option: "--k") },
                       "--k: cannot read 'x' as a number; write comma-separated numbers, e.g. 1,2,4")
        XCTAssertEqual(message { try parseNumberList("", option: "--sigma") },
                       "--sigma: cannot read '' as a number; write comma-separated numbers, e.g. 1,2,4")
        XCTAssertEqual(try SaddleExperiment.Noise(parsing: "isotropic"), .isotropic)
        XCTAssertEqual(message { try SaddleExperiment.Noise(parsing: "foo") }, "--noise must be hessian or isotropic, got 'foo'")
        XCTAssertEqual(message { try ModelSource.resolve(run: nil, weights: nil, model: nil, dataset: nil, dataDirectory: nil) },
                       "give exactly one of --run DIR or --weights FILE")
        XCTAssertEqual(message { try ModelSource.resolve(run: "r", weights: "w", model: nil, dataset: nil, dataDirectory: nil) },
                       "give exactly one of --run DIR or --weights FILE")
        XCTAssertEqual(message { try ModelSource.resolve(run: "r", weights: nil, model: "resnet18", dataset: nil, dataDirectory: nil) },
                       "--run reads the model and dataset from run.json; drop --model, --dataset and --data-dir")
        XCTAssertEqual(message { try ModelSource.resolve(run: nil, weights: "w", model: "resnet18", dataset: nil, dataDirectory: nil) },
                       "--weights needs --model, --dataset and --data-dir")
    }

    func testSaddleSettingErrors() throws {
        func check(_ expected: String, _ change: (inout SaddleExperiment) -> Void) {
            var e = SaddleExperiment()
            e.optimizers = [try! OptimizerChoice(parsing: "sgd:lr=0.1")]
            change(&e)
            XCTAssertEqual(message { try e.validate() }, expected)
        }
        check("--curvatures needs at least two values (positive ones and one negative), got 1") { $0.curvatures = [-1] }
        check("--curvatures must have exactly one negative value (the escape direction) and no zeros, got 1,-1,-2") { $0.curvatures = [1, -1, -2] }
        check("--curvatures must have exactly one negative value (the escape direction) and no zeros, got 0,-1") { $0.curvatures = [0, -1] }
        check("--steps must be >= 1, got 0") { $0.steps = 0 }
        check("--every must be >= 1, got 0") { $0.every = 0 }
        check("--repeats must be >= 1, got 0") { $0.repeats = 0 }
        check("--noise-scale must be > 0, got 0.0") { $0.noiseScale = 0 }
        check("give at least one --optimizer NAME[:key=value…]") { $0.optimizers = [] }
        check("two optimizers have the same label; add :label=NAME to tell them apart") { $0.optimizers += $0.optimizers }
        var e = SaddleExperiment()
        e.optimizers = [try OptimizerChoice(parsing: "sgd:lr=100")]
        e.curvatures = [1, -1]; e.steps = 200; e.every = 100; e.repeats = 1
        XCTAssertEqual(message { try e.run() }, "sgd diverged at step 100 of repeat 0; lower its lr")
    }

    func testStatisticsAndHessianErrors() throws {
        XCTAssertEqual(message { try EscapeRateEstimate(times: [], escaped: []) },
                       "the escape-rate estimate needs at least one repeat, with one escaped flag per time")
        XCTAssertEqual(message { try EscapeRateEstimate(times: [1], escaped: [true], confidence: 1) }, "confidence must be in (0, 1), got 1.0")
        XCTAssertEqual(message { try EscapeRateEstimate(times: [0], escaped: [true]) }, "escape times must be positive and finite")
        XCTAssertEqual(message { try LinearFit(x: [1], y: [1]) },
                       "a line needs at least two points, got 1; give more k values that escape")
        XCTAssertEqual(message { try LinearFit(x: [1, 1], y: [1, 2]) }, "a line needs at least two distinct x values (k values)")
        XCTAssertEqual(message { try DenseSymmetricMatrix(dimension: 2, values: [1]) }, "a 2×2 matrix needs 4 values, got 1")
        let m = try DenseSymmetricMatrix(dimension: 2, values: [2, 0, 0, 1])
        XCTAssertEqual(message { try lanczosTopEigenvalues(m, top: 0, iterations: 5, seed: 0) }, "--top must be >= 1, got 0")
        XCTAssertEqual(message { try lanczosTopEigenvalues(m, top: 3, iterations: 2, seed: 0) }, "--iterations (2) must be at least --top (3)")
        XCTAssertEqual(message { try lanczosTopEigenvalues(m, top: 3, iterations: 5, seed: 0) }, "--top 3 exceeds the number of parameters (2)")
        XCTAssertEqual(message { try hutchinsonTrace(m, samples: 1, seed: 0) }, "--trace-samples must be >= 2 (for a standard error), got 1")
        XCTAssertEqual(message { try GradientDifferenceHessian(point: [0], step: 0) { $0 } }, "--hvp-step must be > 0, got 0.0")
    }

    func testModelSourceErrors() throws {
        let dir = NSTemporaryDirectory() + "analyses-errors-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        XCTAssertEqual(message { try ModelSource.run(directory: dir) },
                       "\(dir)/run.json not found; --run takes a run directory written by `adai-bench train` (results/<experiment>/<optimizer>-lr…/seed-N)")
        try "{}".write(toFile: dir + "/run.json", atomically: true, encoding: .utf8)
        XCTAssertEqual(message { try ModelSource.run(directory: dir) },
                       "\(dir)/run.json is damaged (field 'dataset' is missing); it is not a run.json written by `adai-bench train` (docs/RESULTS.md), "
                       + "or it was cut short: the next `train --resume` or sweep of the run rewrites it, or delete the run directory to start the run again")
        let record = #"{"dataset": "cifar10", "model": "resnet-tiny", "optimizer": "sgdm", "lr": 0.1, "weightDecay": 0, "seed": 1, "epochsPlanned": 1, "epochsCompleted": 0, "status": "running", "metric": "test_error""#
        try (record + "}").write(toFile: dir + "/run.json", atomically: true, encoding: .utf8)
        XCTAssertEqual(message { try ModelSource.run(directory: dir) },
                       "\(dir)/run.json lacks config.dataset.name or config.model.name; was it written by `adai-bench train`?")
        try (record + #", "config": {"name": "e", "dataset": {"name": "cifar10"}, "model": {"name": "resnet-tiny"}, "training": {"epochs": 1}, "optimizer": {"name": "sgdm"}}}"#).write(toFile: dir + "/run.json", atomically: true, encoding: .utf8)
        XCTAssertEqual(message { try ModelSource.run(directory: dir) },
                       "\(dir)/checkpoint/trainer.json is missing or unreadable; the run has no checkpoint to analyse (train at least one epoch)")
        XCTAssertEqual(message { try ModelSource.make(weights: "w", modelName: "lstm", dataset: "ptb", dataDirectory: dir) },
                       "dataset 'ptb' is not supported here; hessian and sharpness analyse image classifiers on cifar10 or cifar100")
        XCTAssertEqual(message { try ModelSource.make(weights: "w", modelName: "lstm-tiny", dataset: "cifar10", dataDirectory: dir) },
                       "model 'lstm-tiny' is a language model; hessian and sharpness analyse image classifiers (cifar10, cifar100)")
        XCTAssertEqual(message { try ModelSource.make(weights: "w", modelName: "resnet-tiny", dataset: "cifar10", dataDirectory: dir, labels: "x") },
                       "labels must be fine or coarse, got 'x'")
        XCTAssertEqual(message { try ModelSource.make(weights: dir + "/none.safetensors", modelName: "resnet-tiny", dataset: "cifar10", dataDirectory: dir) },
                       "weights file \(dir)/none.safetensors not found")
        XCTAssertTrue(message { try ModelSource.make(weights: "w", modelName: "resnet-huge", dataset: "cifar10", dataDirectory: dir) }
            .hasPrefix("cannot load w into resnet-huge with 10 classes: unknown model \"resnet-huge\""))
        // A real checkpoint but no data.
        let model = try ModelZoo.make(ModelConfiguration(name: "resnet-tiny"), seed: 0)
        try model.module.saveState(to: URL(fileURLWithPath: dir + "/w.safetensors"))
        XCTAssertTrue(message { try ModelSource.make(weights: dir + "/w.safetensors", modelName: "resnet-tiny", dataset: "cifar10", dataDirectory: dir + "/nodata") }
            .hasPrefix("cannot read the CIFAR-10 training set:"))
        let records = CIFARRecords(pixels: [UInt8](repeating: 9, count: 4 * CIFARImage.pixelCount), labels: [0, 1, 2, 3])
        let source = ModelSource(model: model, modelName: "resnet-tiny", description: "resnet-tiny",
                                 dataset: CIFARDataset(variant: .cifar10, split: .train, records: records), normalization: .cifar10)
        XCTAssertEqual(message { try source.batches(count: 0, batchSize: 2) }, "--batches must be >= 1, got 0")
        XCTAssertEqual(message { try source.batches(count: 1, batchSize: 0) }, "--batch-size must be >= 1, got 0")
        XCTAssertEqual(message { try source.batches(count: 3, batchSize: 2) },
                       "--batches 3 × --batch-size 2 = 6 examples, but the training set has 4; lower one of them")
        XCTAssertEqual(try source.batches(count: 2, batchSize: 2).count, 2)
        XCTAssertEqual(message { try ModelObjective(model: model, batches: [], training: true) }, "the loss needs at least one batch; raise --batches")
        let objective = try ModelObjective(model: model, batches: try source.batches(count: 1, batchSize: 4), training: false)
        XCTAssertEqual(message { try expectedSharpness(objective, sigmas: [], samples: 3, seed: 0) },
                       "--sigma needs one or more noise levels > 0, e.g. --sigma 0.01,0.02,0.05")
        XCTAssertEqual(message { try expectedSharpness(objective, sigmas: [0.1], samples: 1, seed: 0) },
                       "--samples must be >= 2 (for a standard error), got 1")
    }
}

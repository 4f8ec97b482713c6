import Analyses
import ArgumentParser
import Foundation

/// Where `hessian` and `sharpness` get the model and the training batches.
struct AnalysisModelOptions: ParsableArguments {
    @Option(help: "A run directory written by `adai-bench train` (its run.json and latest checkpoint).")
    var run: String?

    @Option(help: "A safetensors file of model weights (instead of --run; needs --model, --dataset and --data-dir).")
    var weights: String?

    @Option(help: "Model name with --weights (e.g. resnet18, resnet-tiny).")
    var model: String?

    @Option(help: "Dataset with --weights: cifar10 or cifar100.")
    var dataset: String?

    @Option(name: .customLong("data-dir"), help: "The dataset's directory with --weights.")
    var dataDir: String?

    @Option(help: "Number of training batches the loss averages over.")
    var batches: Int = 4

    @Option(name: .customLong("batch-size"), help: "Examples per batch (the first batches × batch-size training examples, in order, without augmentation).")
    var batchSize: Int = 128

    @Flag(name: .customLong("eval-mode"), help: "Batch norm with running statistics (default: training mode, batch statistics).")
    var evalMode = false

    func source() throws -> ModelSource {
        try ModelSource.resolve(run: run, weights: weights, model: model, dataset: dataset, dataDirectory: dataDir)
    }

    func objective() throws -> (ModelObjective, ModelSource) {
        let source = try source()
        let objective = try ModelObjective(model: source.model, batches: try source.batches(count: batches, batchSize: batchSize),
                                           training: !evalMode)
        return (objective, source)
    }

    var describe: String {
        "\(run.map { "run \($0)" } ?? "weights \(weights ?? "")"), \(batches) batches of \(batchSize), \(evalMode ? "evaluation" : "training")-mode batch norm"
    }
}

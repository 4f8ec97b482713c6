import ArgumentParser
import Engine
import Foundation
import NN

/// `adai-bench model summary|init|grad`.
struct ModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Inspect the model zoo, write initial checkpoints, and compute reference gradients.",
        subcommands: [ModelSummaryCommand.self, ModelInitCommand.self])
}

/// Options shared by the model subcommands.
struct ModelOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The model.", discussion: "One of \((ModelZoo.names + ModelZoo.tinyNames).joined(separator: ", ")).",
                               valueName: "name"))
    var model: String

    @Option(help: "Classes of an image classifier (10 for CIFAR-10, 100 for CIFAR-100).")
    var classes: Int = 10

    @Option(help: "Vocabulary size of the language model (10000 for PTB).")
    var vocabulary: Int = 10_000

    @Flag(help: "LSTM: tie the decoder weight to the embedding.")
    var tiedWeights = false

    @Flag(inversion: .prefixedNo,
          help: "GoogLeNet: reproduce the reference's eps = channels in the second batch-norm of the 5×5 branch (default on).")
    var googlenetEpsQuirk = true

    func configuration(dropout: Float? = nil) -> ModelConfiguration {
        ModelConfiguration(name: model, classes: classes, vocabulary: vocabulary, dropout: dropout,
                           googLeNetEpsQuirk: googlenetEpsQuirk, tiedWeights: tiedWeights)
    }
}

struct ModelSummaryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "summary",
        abstract: "Print a model's layers with output shapes, parameter counts and forward FLOPs, and the totals.")

    @OptionGroup var options: ModelOptions

    func run() throws {
        let configuration = options.configuration()
        let model = try ModelZoo.makeUninitialized(configuration)
        print(ModelZoo.summary(model, configuration: configuration).formatted())
    }
}

struct ModelInitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Write a freshly initialised model (PyTorch's default initialisation, seeded) as a safetensors checkpoint.",
        discussion: "The tensor names, shapes and dtypes equal the reference PyTorch model's state_dict, so the file loads with load_state_dict(..., strict=True).")

    @OptionGroup var options: ModelOptions

    @Option(help: "Seed of the initialisation.")
    var seed: UInt64

    @Option(help: "Path of the checkpoint to write (.safetensors).")
    var out: String

    func run() throws {
        let configuration = options.configuration()
        let model = try ModelZoo.make(configuration, seed: seed)
        try model.module.saveState(to: URL(fileURLWithPath: out), metadata: [
            "format": "pt", "model": configuration.name, "classes": String(configuration.classes),
            "vocabulary": String(configuration.vocabulary), "seed": String(seed),
        ])
        print("wrote \(out): \(configuration.description), \(groupedThousands(model.module.parameterCount)) parameters, seed \(seed)")
    }
}

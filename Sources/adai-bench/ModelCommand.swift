import ArgumentParser
import Engine
import Foundation
import Datasets
import NN

/// `adai-bench model summary|init|grad`.
struct ModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Inspect the model zoo, write initial checkpoints, and compute reference gradients.",
        subcommands: [ModelSummaryCommand.self, ModelInitCommand.self, ModelGradCommand.self])
}

/// Options shared by the model subcommands.
struct ModelOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The model.", discussion: "One of \(ModelZoo.allNames.joined(separator: ", ")).",
                               valueName: "name"))
    var model: String

    @Option(help: "Classes of an image classifier (default 10; `model grad`: the data set's).")
    var classes: Int?

    @Option(help: "Vocabulary size of the language model (default 10000; `model grad`: the corpus's).")
    var vocabulary: Int?

    @Flag(help: "LSTM: tie the decoder weight to the embedding.")
    var tiedWeights = false

    @Flag(inversion: .prefixedNo,
          help: "GoogLeNet: reproduce the reference's eps = channels in the second batch-norm of the 5×5 branch (default on).")
    var googlenetEpsQuirk = true

    @Option(help: ArgumentHelp("AWD-LSTM: the weight drop, `authors` (their weight_drop.py as it behaves: the raw hidden-to-hidden "
                               + "matrices get no gradient) or `correct`.", valueName: "variant"))
    var weightDrop: String = AWDLSTMWeightDrop.authors.rawValue

    func validate() throws {
        guard AWDLSTMWeightDrop(rawValue: weightDrop) != nil else {
            throw ValidationError("--weight-drop must be authors or correct, got \"\(weightDrop)\"")
        }
    }

    func configuration(dropout: Float? = nil, defaultClasses: Int = 10, defaultVocabulary: Int = 10_000) -> ModelConfiguration {
        ModelConfiguration(name: model, classes: classes ?? defaultClasses, vocabulary: vocabulary ?? defaultVocabulary, dropout: dropout,
                           googLeNetEpsQuirk: googlenetEpsQuirk, tiedWeights: tiedWeights,
                           weightDrop: AWDLSTMWeightDrop(rawValue: weightDrop) ?? .authors)
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

struct ModelGradCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grad",
        abstract: "One forward and backward pass on the first examples of a split, written as safetensors.",
        discussion: """
            No augmentation, no shuffling. Images are normalised with the paper's per-channel mean and std. \
            Batch-norm runs in training mode (batch statistics, running statistics updated) unless --eval. \
            For the LSTM, window i of the first N is tokens i·bptt ..< (i+1)·bptt of the split, predicting the next \
            token, all from a zero state; dropout is 0 unless --dropout is given.
            The file holds `loss` (mean cross-entropy), `logits`, `grad.<parameter>` for every parameter, and every \
            buffer after the forward pass under its own name.
            """)

    enum DatasetName: String, ExpressibleByArgument, CaseIterable {
        case cifar10, cifar100, ptb
    }

    @OptionGroup var options: ModelOptions

    @Option(help: "The checkpoint to load (.safetensors, e.g. written by `model init`).")
    var weights: String

    @Option(help: "cifar10, cifar100 or ptb.")
    var dataset: DatasetName

    @Option(help: "Folder of the data set's files.")
    var dataDir: String

    @Option(help: "train or test (ptb also: valid).")
    var split: String = "test"

    @Option(help: "Number of examples (images, or BPTT windows).")
    var first: Int

    @Flag(help: "Evaluation mode: batch-norm uses its running statistics, dropout is off.")
    var eval = false

    @Option(help: "Dropout probability (default: the model's for image models, 0 for the LSTM).")
    var dropout: Float?

    @Option(help: "LSTM: steps per window.")
    var bptt: Int = 35

    @Option(help: "Seed of the dropout masks.")
    var seed: UInt64 = 0

    @Option(help: "Path of the file to write (.safetensors).")
    var out: String

    @Option(help: "Threads for the engine and OpenBLAS (default: all cores; the output is the same on any number).")
    var threads: Int?

    func run() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
        Parallel.setThreadCount(threads)
        guard first >= 1 else { throw ValidationError("--first must be at least 1, got \(first)") }
        guard bptt >= 1 else { throw ValidationError("--bptt must be at least 1, got \(bptt)") }
        guard ModelZoo.isLanguageModel(options.model) == (dataset == .ptb) else {
            throw ModelError("\(options.model) cannot run on \(dataset.rawValue): the LSTM goes with ptb, the image models with cifar10/cifar100")
        }
        let configuration: ModelConfiguration
        let batch: GradientBatch
        switch dataset {
        case .cifar10, .cifar100:
            guard let cifarSplit = CIFARSplit(rawValue: split) else {
                throw ValidationError("--split must be train or test for \(dataset.rawValue), got \"\(split)\"")
            }
            let variant: CIFARVariant = dataset == .cifar10 ? .cifar10 : .cifar100
            // Only the split's files are read (and only the first records of them).
            let data = try CIFARDataset(variant: variant, split: cifarSplit, directory: dataDir, allowPartial: true,
                                        limit: first, warn: { _ in })
            guard data.count >= first else {
                throw ValidationError("the \(split) split in \(dataDir) holds \(data.count) images, fewer than --first \(first)")
            }
            configuration = options.configuration(dropout: dropout, defaultClasses: data.classCount)
            batch = .images(data.firstImages(first, normalization: variant.defaultNormalization),
                            labels: Array(data.labels.prefix(first)))
        case .ptb:
            guard let ptbSplit = PTBSplit(rawValue: split) else {
                throw ValidationError("--split must be train, valid or test for ptb, got \"\(split)\"")
            }
            let corpus = try PTBCorpus(directory: dataDir)
            let tokens = corpus.tokens(ptbSplit)
            guard tokens.count >= first * bptt + 1 else {
                throw ValidationError("the \(split) split holds \(tokens.count) tokens, fewer than the \(first * bptt + 1) that \(first) windows of \(bptt) need")
            }
            // The AWD-LSTM's five dropouts are set below (setDropout), not through the configuration.
            configuration = options.configuration(dropout: ModelZoo.isAWDLSTM(options.model) ? nil : dropout ?? 0,
                                                  defaultVocabulary: corpus.vocabulary.count)
            // Time-major: entry t·N + i is step t of window i.
            let positions = (0..<bptt).flatMap { t in (0..<first).map { i in i * bptt + t } }
            batch = .tokens(inputs: positions.map { tokens[$0] }, targets: positions.map { tokens[$0 + 1] }, steps: bptt, batch: first)
        }
        let model = try ModelZoo.makeUninitialized(configuration)
        if let dropout { model.setDropout(dropout) } else if case .awdLanguageModel = model { model.setDropout(0) }
        try model.module.loadState(contentsOf: URL(fileURLWithPath: weights), modelDescription: configuration.description)
        let report = try GradientReport.compute(model: model, batch: batch, training: !eval, generator: RandomGenerator(seed: seed))
        try report.archive(metadata: [
            "model": configuration.name, "dataset": dataset.rawValue, "split": split, "first": String(first),
            "mode": eval ? "eval" : "train", "weights": weights,
        ]).write(to: URL(fileURLWithPath: out))
        print("wrote \(out): loss \(report.loss), \(report.gradients.count) gradients, \(report.buffers.count) buffers")
    }
}

import Analyses
import ArgumentParser
import Datasets
import Engine
import Foundation
import Reproduction

/// `adai-bench noise`: the paper's premises about minibatch gradient noise (Fig. 1, App. C; claims 9 and 10).
struct NoiseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "noise",
        abstract: "Gradient-noise covariance against the Hessian (Fig. 1, C ≈ H/B) and the Gaussian-noise check (App. C) on a small network.",
        discussion: """
            The network is small enough to hold its full Hessian: CIFAR-10 images average-pooled per channel to \
            --side × --side (3·side² inputs, standardised), one tanh hidden layer of --hidden units (0: softmax \
            regression), softmax cross-entropy, in Double precision; the paper's Fig. 1 model is not stated. At the \
            random initialisation and after --train-steps of SGD it measures: the Hessian of the mean loss (central \
            differences of the exact gradient with Richardson extrapolation; its asymmetry and extrapolation change \
            are printed as its error), its eigenbasis (LAPACK dsyevd), the per-example gradient covariance, and for \
            each batch size B the covariance of --minibatches sampled minibatch gradients (B distinct examples drawn \
            without replacement, minibatches independent) around the full gradient, rotated into H's eigenbasis and \
            fitted against H/B, on --replicates independent streams. The Gaussian check: the tail index of Mohammadi \
            et al. (2015), as used by Simsekli et al. (2019), of chosen parameters across minibatches and of single \
            minibatches across all parameters, each beside Gaussian samples of the same size.
            Writes to --out: noise.json, noise-fits.csv, noise-eigenbasis.csv, noise-tail-index.csv, noise-summary.txt \
            and per checkpoint noise-covariance-, noise-elements- and noise-qq-<checkpoint>.png.
            Example: adai-bench noise --data-dir data --examples 4000 --out results/noise
            """)

    @Option(name: .customLong("data-dir"), help: "The folder holding cifar-10-batches-bin (or that folder itself).")
    var dataDir: String?

    @Option(help: "Use this many synthetic CIFAR-like images instead of --data-dir.")
    var synthetic: Int?

    @Option(help: "Training images used (the first ones of the files at hand).")
    var examples: Int = 4000

    @Option(help: "Pooled image side (divides 32): 3·side² inputs.")
    var side: Int = 2

    @Option(help: "Hidden tanh units (0: softmax regression).")
    var hidden: Int = 32

    @Option(name: .customLong("batch-sizes"), help: ArgumentHelp("Batch sizes B, comma-separated (at least two).", valueName: "b1,b2,…"))
    var batchSizes: String = "16,64,256"

    @Option(help: "Minibatches drawn per batch size and replicate.")
    var minibatches: Int = 2000

    @Option(help: "Independent replicate streams of minibatches.")
    var replicates: Int = 5

    @Option(name: .customLong("train-steps"), help: "SGD steps to the trained checkpoint.")
    var trainSteps: Int = 2000

    @Option(name: .customLong("train-lr"), help: "SGD learning rate to the trained checkpoint.")
    var trainLR: Double = 0.1

    @Option(name: .customLong("hvp-step"), help: "ε of the gradient differences (on a unit direction).")
    var hvpStep: Double = 1e-3

    @Option(help: "Seed of the initialisation, the training batches and the minibatch streams.")
    var seed: UInt64 = 0

    @Option(help: "Output folder.")
    var out: String

    func run() throws {
        var s = NoiseSettings()
        s.side = side; s.hidden = hidden; s.minibatches = minibatches; s.replicates = replicates; s.trainSteps = trainSteps
        s.trainLR = trainLR; s.hvpStep = hvpStep; s.seed = seed
        s.batchSizes = try parseBatchSizes(batchSizes)
        try s.validate()
        try checkNoiseSource(synthetic: synthetic, dataDirectory: dataDir)
        let records: CIFARRecords, label: String
        if let n = synthetic {
            let folder = "\(out)/noise-data"
            try SyntheticData.writeCIFAR(variant: .cifar10, train: n, test: 0, seed: seed, directory: folder)
            records = try CIFARDataset(variant: .cifar10, split: .train, directory: folder, limit: n).records
            label = "\(n) synthetic CIFAR-like images (seed \(seed))"
        } else {
            let data = try CIFARDataset(variant: .cifar10, split: .train, directory: dataDir!, allowPartial: true, limit: examples)
            records = data.records
            label = "the first \(data.count) CIFAR-10 training images of \(dataDir)"
        }
        let report = try measureNoise(data: try NoiseData.pooled(records, side: side), settings: s, dataLabel: label) {
            FileHandle.standardError.write(Data(($0 + "\n").utf8))
        }
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        try AtomicFile.write(String(decoding: try encoder.encode(report), as: UTF8.self) + "\n", to: "\(out)/noise.json")
        try NoiseOutput.write(report, directory: out)
        print("# \(label); \(report.dimension) parameters")
        print(report.summaryLines.joined(separator: "\n"))
    }
}

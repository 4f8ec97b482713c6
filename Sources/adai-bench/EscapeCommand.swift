import Analyses
import ArgumentParser
import Engine
import Foundation
import Plot
import Reports

/// `adai-bench escape`: the mean escape time experiment (Figure 6).
struct EscapeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "escape",
        abstract: "Mean escape time from a Styblinski–Tang valley against sharpness k (the paper's Figure 6).",
        discussion: """
            Loss: D-dimensional Styblinski–Tang f(θ) = ½ Σ (θᵢ⁴ − 16θᵢ² + 5θᵢ) with θ = √k·w, and a fixed \
            training set of --samples Gaussian vectors ξ ~ N(0, I): the per-sample loss is f(√k·w − σ·ξ) \
            (σ = --noise-scale), minibatches of --batch-size drawn with replacement. k scales the Hessian in \
            w and leaves the barrier unchanged. Every repeat starts at the exact minimum of the valley near \
            θ = +2.75; the escape time is the first iteration at which some θᵢ crosses the barrier (the \
            exact maximum near 0.157). Writes into --out: times.csv (every repeat), summary.csv (escape \
            rate Γ = escapes / total iterations, its confidence interval for exponential times, −ln Γ), \
            escape.csv (the input of `adai-bench plot escape`), fits.csv (slope of −ln Γ against 1/k and \
            against 1/√k) and escape.png. Repeats run on all cores; results depend only on --seed.
            Example: adai-bench escape --optimizer sgdm:lr=0.002:momentum=0.9 --optimizer adam:lr=0.03 \
            --optimizer adai:lr=0.02 --k 1,1.5,2,3 --repeats 100 --out results/escape
            """)

    @Option(name: .customLong("optimizer"), help: ArgumentHelp(
        "An optimizer and its settings, NAME[:key=value…] (repeatable), e.g. sgdm:lr=0.01:momentum=0.9; label=TEXT renames it.",
        valueName: "spec"))
    var optimizers: [String] = []

    @Option(help: ArgumentHelp("Sharpness factors k, comma-separated.", valueName: "k1,k2,…"))
    var k: String = "1,2,3,4"

    @Option(help: "Dimensions of the loss.")
    var dim: Int = 10

    @Option(help: "Gaussian samples in the training set.")
    var samples: Int = 50_000

    @Option(name: .customLong("noise-scale"), help: "σ: the samples shift θ by σ·ξ.")
    var noiseScale: Double = 1

    @Option(name: .customLong("batch-size"), help: "Samples per minibatch.")
    var batchSize: Int = 1

    @Option(help: "Repeats per optimizer and k.")
    var repeats: Int = 100

    @Option(name: .customLong("max-steps"), help: "Step cap; a repeat that has not escaped by then is censored.")
    var maxSteps: Int = 100_000

    @Option(help: "Seed of the training set and of the minibatches.")
    var seed: UInt64 = 0

    @Option(help: "Confidence level of the escape-rate interval.")
    var confidence: Double = 0.95

    @Option(help: "Threads (default: all cores).")
    var threads: Int?

    @Option(help: "Output directory.")
    var out: String = "results/escape"

    func run() throws {
        var experiment = EscapeExperiment()
        experiment.optimizers = try optimizers.map { try OptimizerChoice(parsing: $0) }
        experiment.ks = try parseNumberList(k, option: "--k")
        experiment.dimension = dim
        experiment.samples = samples
        experiment.noiseScale = noiseScale
        experiment.batchSize = batchSize
        experiment.repeats = repeats
        experiment.maxSteps = maxSteps
        experiment.seed = seed
        experiment.confidence = confidence
        experiment.threads = threads
        try experiment.validate()
        let start = Date()
        let result = try experiment.run { print($0); fflush(stdout) }
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let l = result.landscape
        let header = "# escape: " + CommandLine.arguments.dropFirst().joined(separator: " ") + "\n"
            + "# start θ (coordinate 0) \(l.minimum[0]), barrier \(l.barrier[0]), barrier height \(l.barrierHeight[0]), curvature in θ \(l.curvature[0])\n"
        try AtomicFile.write(header + result.timesCSV, to: "\(out)/times.csv")
        try AtomicFile.write(header + result.summaryCSV, to: "\(out)/summary.csv")
        try AtomicFile.write(header + result.rateCSV(confidence: confidence), to: "\(out)/escape.csv")
        try AtomicFile.write(header + "# -ln(escape_rate) = intercept + slope * variable\n" + result.fitsCSV, to: "\(out)/fits.csv")
        print(String(format: "barrier height %.4g (coordinate 0), curvature at the start %.4g in θ (× k in w); %.1f s",
                     l.barrierHeight[0], l.curvature[0], Date().timeIntervalSince(start)))
        print("fits of −ln Γ:")
        for f in result.fits {
            print("  \(f.optimizer) against \(f.variable): slope \(format(f.fit.slope)), intercept \(format(f.fit.intercept)), R² \(format(f.fit.rSquared))")
        }
        if result.summaries.filter({ $0.estimate.escapes > 0 }).count > 0 {
            let chart = try Plots.escape(csv: "\(out)/escape.csv")
            try chart.figure().write(to: "\(out)/escape.png")
        }
        print("wrote \(out)/times.csv, summary.csv, escape.csv, fits.csv, escape.png")
    }
}

func format(_ x: Double) -> String { NumberFormat.g(5).string(x) }

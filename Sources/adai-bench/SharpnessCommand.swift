import Analyses
import ArgumentParser
import Engine
import Foundation
import Reports

/// `adai-bench sharpness`: expected sharpness of a checkpoint (Figure 14).
struct SharpnessCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sharpness",
        abstract: "Expected sharpness E[L(θ+ζ)] − L(θ), ζ ~ N(0, σ²I), of a checkpoint (Neyshabur et al. 2017; Figure 14).",
        discussion: """
            L is the mean cross-entropy over the first --batches × --batch-size training examples; every \
            parameter is perturbed. Output CSV sigma,samples,base_loss,expected_sharpness,std_error.
            Example: adai-bench sharpness --run results/quickstart/adai-lr1-wd0.0005/seed-1 --sigma 0.01,0.02,0.05 --samples 20
            """)

    @OptionGroup var source: AnalysisModelOptions

    @Option(help: ArgumentHelp("Noise levels σ, comma-separated.", valueName: "s1,s2,…"))
    var sigma: String = "0.005,0.01,0.02,0.05"

    @Option(help: "Perturbations per σ.")
    var samples: Int = 20

    @Option(help: "Seed of the perturbations.")
    var seed: UInt64 = 0

    @Option(help: "Output CSV (default: standard output); its figure is drawn beside it as <name>.png.")
    var out: String?

    func run() throws {
        let sigmas = try parseNumberList(sigma, option: "--sigma")
        let (objective, model) = try source.objective()
        let estimates = try expectedSharpness(objective, sigmas: sigmas, samples: samples, seed: seed) {
            FileHandle.standardError.write(Data(($0 + "\n").utf8))
        }
        var csv = "# sharpness: \(model.description), \(objective.dimension) parameters, \(source.describe)\n"
        csv += "sigma,samples,base_loss,expected_sharpness,std_error\n"
        for e in estimates {
            csv += "\(String(format: "%.9g", e.sigma)),\(e.samples),\(String(format: "%.9g", e.baseLoss)),"
                + "\(String(format: "%.9g", e.sharpness)),\(String(format: "%.3g", e.standardError))\n"
        }
        if let out {
            try AtomicFile.write(csv, to: out)
            drawBeside(csv: out) { try Plots.sharpness(csvs: [out]) }
        } else {
            print(csv, terminator: "")
        }
    }
}

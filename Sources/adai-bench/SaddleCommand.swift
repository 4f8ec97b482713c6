import Analyses
import ArgumentParser
import Engine
import Foundation
import Reports

/// `adai-bench saddle`: mean squared displacement along the escape direction of a strict saddle.
struct SaddleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "saddle",
        abstract: "Escape from a strict saddle under gradient noise: mean squared displacement over iterations per optimizer.",
        discussion: """
            Loss ½ Σ hᵢ xᵢ² (--curvatures: positive values and exactly one negative, the escape direction), \
            start at the saddle x = 0; stochastic gradient h ⊙ x + ξ with ξᵢ ~ N(0, σ²|hᵢ|) (--noise hessian, \
            like minibatch noise C ∝ H) or N(0, σ²) (--noise isotropic). Output CSV \
            optimizer,step,msd_escape,msd_positive: the mean over repeats of x_esc² and of the mean xᵢ² over \
            the positive directions. Shows the momentum drift and the diffusion effects of the paper's \
            Theorems 1–2 and Propositions 1 and 3.
            Example: adai-bench saddle --optimizer sgd:lr=0.1 --optimizer sgdm:lr=0.01:momentum=0.9 --optimizer adam:lr=0.01 --optimizer adai:lr=0.1
            """)

    @Option(name: .customLong("optimizer"), help: ArgumentHelp("NAME[:key=value…] (repeatable).", valueName: "spec"))
    var optimizers: [String] = ["sgd:lr=0.1", "sgdm:lr=0.01:momentum=0.9", "adam:lr=0.01", "adai:lr=0.1"]

    @Option(help: ArgumentHelp("Curvatures hᵢ, comma-separated; exactly one negative.", valueName: "h1,h2,…"))
    var curvatures: String = "1,1,1,1,-0.01"

    @Option(help: "hessian (noise variance σ²|hᵢ|) or isotropic (σ²).")
    var noise: String = "hessian"

    @Option(name: .customLong("noise-scale"), help: "σ.")
    var noiseScale: Double = 1

    @Option(help: "Iterations.")
    var steps: Int = 1000

    @Option(help: "Record every this many iterations.")
    var every: Int = 10

    @Option(help: "Repeats per optimizer.")
    var repeats: Int = 200

    @Option(help: "Seed of the gradient noise.")
    var seed: UInt64 = 0

    @Option(help: "Threads (default: all cores).")
    var threads: Int?

    @Option(help: "Output CSV (default: standard output); its figure is drawn beside it as <name>.png.")
    var out: String?

    func run() throws {
        var experiment = SaddleExperiment()
        experiment.optimizers = try optimizers.map { try OptimizerChoice(parsing: $0) }
        experiment.curvatures = try parseNumberList(curvatures, option: "--curvatures")
        experiment.noise = try SaddleExperiment.Noise(parsing: noise)
        experiment.noiseScale = noiseScale
        experiment.steps = steps
        experiment.every = every
        experiment.repeats = repeats
        experiment.seed = seed
        experiment.threads = threads
        let rows = try experiment.run()
        let csv = "# saddle: " + CommandLine.arguments.dropFirst().joined(separator: " ") + "\n" + SaddleExperiment.csv(rows)
        if let out {
            try AtomicFile.write(csv, to: out)
            drawBeside(csv: out) { try Plots.saddle(csv: out) }
        } else {
            print(csv, terminator: "")
        }
        for o in experiment.optimizers {
            if let last = rows.last(where: { $0.optimizer == o.label }) {
                FileHandle.standardError.write(Data("\(o.label): msd_escape \(format(last.escapeDisplacement)) at step \(last.step)\n".utf8))
            }
        }
    }
}

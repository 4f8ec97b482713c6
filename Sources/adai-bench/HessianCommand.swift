import Analyses
import ArgumentParser
import Engine
import Foundation
import Reports

/// `adai-bench hessian`: top eigenvalues and trace of the training-loss Hessian (Figure 7).
struct HessianCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hessian",
        abstract: "Top eigenvalues (Lanczos) and trace (Hutchinson) of the training-loss Hessian of a checkpoint (Figure 7).",
        discussion: """
            The loss is the mean cross-entropy over the first --batches × --batch-size training examples. \
            Hessian-vector products are central differences of gradients (two gradients per difference, \
            with Richardson extrapolation over ε and ε/2: four gradients per product). Output CSV \
            quantity,index,value,uncertainty: eigenvalue rows (largest first; uncertainty is the Lanczos \
            residual norm, a bound on the distance to a true eigenvalue) and, with --trace, a trace row \
            (uncertainty is the standard error over the Hutchinson samples).
            Example: adai-bench hessian --run results/quickstart/adai-lr1-wd0.0005/seed-1 --top 5 --trace
            """)

    @OptionGroup var source: AnalysisModelOptions

    @Option(help: "Number of top eigenvalues.")
    var top: Int = 5

    @Option(help: "Lanczos iterations (default: 3 × top + 10).")
    var iterations: Int?

    @Flag(help: "Also estimate the trace (Hutchinson).")
    var trace = false

    @Option(name: .customLong("trace-samples"), help: "Rademacher vectors for the trace.")
    var traceSamples: Int = 20

    @Option(name: .customLong("hvp-step"), help: "ε of the gradient differences (on a unit direction).")
    var hvpStep: Double = 1e-2

    @Option(help: "Seed of the Lanczos start vector and the Hutchinson vectors.")
    var seed: UInt64 = 0

    @Option(help: "Output CSV (default: standard output); its figure is drawn beside it as <name>.png.")
    var out: String?

    func run() throws {
        let (objective, model) = try source.objective()
        let hessian = try objective.hessian(step: hvpStep)
        let start = Date()
        let lanczos = try lanczosTopEigenvalues(hessian, top: top, iterations: iterations ?? (3 * top + 10), seed: seed)
        var csv = "# hessian: \(model.description), \(objective.dimension) parameters, \(source.describe); "
            + "Lanczos \(lanczos.iterations) iterations, hvp step \(hvpStep)\n"
        csv += "# loss \(String(format: "%.9g", try objective.loss(at: objective.initialPoint)))\n"
        csv += "quantity,index,value,uncertainty\n"
        for (i, (value, residual)) in zip(lanczos.eigenvalues, lanczos.residuals).enumerated() {
            csv += "eigenvalue,\(i + 1),\(String(format: "%.9g", value)),\(String(format: "%.3g", residual))\n"
        }
        if trace {
            let (t, se) = try hutchinsonTrace(hessian, samples: traceSamples, seed: seed)
            csv += "trace,,\(String(format: "%.9g", t)),\(String(format: "%.3g", se))\n"
        }
        FileHandle.standardError.write(Data(String(format: "hessian: %.1f s\n", Date().timeIntervalSince(start)).utf8))
        if let out {
            try AtomicFile.write(csv, to: out)
            drawBeside(csv: out) { try Plots.hessian(csvs: [out]) }
        } else {
            print(csv, terminator: "")
        }
    }
}

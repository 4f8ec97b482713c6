import ArgumentParser
import Engine
import Foundation
import Optim

/// `adai-bench optimize`: one optimizer on one analytic function; writes the trajectory as CSV.
struct Optimize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run an optimizer on an analytic function and write its trajectory as CSV.",
        discussion: """
            Columns: step,loss,x0,...,x{D-1}; row 0 is the initial point; numbers are Float32 with 9 \
            significant digits. Functions: rosenbrock, styblinski-tang, quadratic (f = ½ Σ hᵢ xᵢ², \
            --set curvatures=h0,h1,...; default all 1), saddle (the quadratic with default curvatures \
            1,...,1,-0.01). Optimizers: \(optimizerNames.joined(separator: ", ")).
            Example: adai-bench optimize --function rosenbrock --dim 2 --optimizer adam --lr 0.01 --steps 500 --init -1.5,2
            """)

    @Option(help: "rosenbrock, styblinski-tang, quadratic or saddle.")
    var function: String

    @Option(help: "Number of dimensions.")
    var dim: Int

    @Option(help: "Optimizer name.")
    var optimizer: String

    @Option(help: ArgumentHelp(
        "Learning rate (default: the optimizer's own default; required for \(optimizerNames.filter { (try? defaultLearningRate($0)) == .some(nil) }.joined(separator: ", "))).",
        valueName: "lr"))
    var lr: Double?

    @Option(name: .customLong("weight-decay"), help: "Weight decay (the optimizer's weightDecay).")
    var weightDecay: Double?

    @Option(name: .customLong("set"), help: ArgumentHelp(
        "An optimizer or function setting, key=value (repeatable), e.g. --set betas=0.1,0.99 --set curvatures=1,100.",
        valueName: "key=value"))
    var settings: [String] = []

    @Option(help: "Number of optimizer steps.")
    var steps: Int

    @Option(parsing: .unconditional, help: ArgumentHelp("Initial point, D comma-separated numbers.",
                               valueName: "x0,x1,..."))
    var `init`: String

    @Option(name: .customLong("noise-std"), help: "Standard deviation of Gaussian noise added to each gradient component.")
    var noiseStd: Double = 0

    @Option(help: "Seed of the gradient noise.")
    var seed: UInt64 = 0

    @Option(help: "Output CSV file (default: standard output).")
    var out: String?

    func run() throws {
        var options = try parseOptionAssignments(settings)
        var functionOptions: OptimizerOptions = [:]
        for key in AnalyticFunction.optionKeys {
            if let value = options.removeValue(forKey: key) { functionOptions[key] = value }
        }
        for (key, value) in [("lr", lr), ("weightDecay", weightDecay)] {
            guard let value else { continue }
            if options[key] != nil { throw OptimError("\(key) is given twice (as an option and with --set)") }
            options[key] = .number(value)
        }
        let initial = try `init`.split(separator: ",", omittingEmptySubsequences: false).map { text -> Float in
            guard let x = Float(text.trimmingCharacters(in: .whitespaces)) else {
                throw OptimError("--init: cannot read '\(text)' as a number")
            }
            return x
        }
        let fn = try AnalyticFunction(name: function, dimension: dim, options: functionOptions)
        let run = try AnalyticRun(function: fn, optimizer: optimizer, options: options, steps: steps,
                                  initial: initial, noiseStd: noiseStd, seed: seed)
        let csv = AnalyticRun.csv(try run.run(), dimension: dim)
        if let out {
            try AtomicFile.write(csv, to: out)
        } else {
            FileHandle.standardOutput.write(Data(csv.utf8))
        }
    }
}

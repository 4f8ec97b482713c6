import Datasets
import Engine
import Foundation
import NN

/// The training loss of a model on fixed batches, as a function of its flattened parameters:
/// what `hessian` and `sharpness` differentiate and perturb.
///
/// L(θ) is the mean over the batches of each batch's mean cross-entropy, in training mode
/// (batch-norm uses the batch's statistics, as during training; the running statistics it updates
/// are never saved) or in evaluation mode (`training: false`: running statistics). Dropout masks
/// are fixed: every evaluation uses the same generator, so L is a deterministic function of θ.
/// Parameters are flattened in `namedParameters` order; values set through this type are
/// rounded to Float32, the engine's precision.
public final class ModelObjective {
    public let model: Model
    public let batches: [GradientBatch]
    public let training: Bool
    public let parameters: [(String, Variable)]
    public let dimension: Int
    /// The parameters as they were when the objective was made.
    public let initialPoint: [Double]

    public init(model: Model, batches: [GradientBatch], training: Bool) throws {
        guard !batches.isEmpty else { throw AnalysisError("the loss needs at least one batch; raise --batches") }
        self.model = model
        self.batches = batches
        self.training = training
        parameters = model.module.namedParameters
        dimension = parameters.reduce(0) { $0 + $1.1.count }
        var point: [Double] = []
        point.reserveCapacity(dimension)
        for (_, p) in parameters { for i in 0..<p.count { point.append(Double(p.value[i])) } }
        initialPoint = point
    }

    /// Writes θ into the model's parameters (as Float32).
    public func setPoint(_ x: [Double]) {
        precondition(x.count == dimension)
        var offset = 0
        for (_, p) in parameters {
            let t = p.value
            for i in 0..<t.count { t[i] = Float(x[offset + i]) }
            offset += t.count
        }
    }

    /// Puts the parameters back to `initialPoint`.
    public func restore() { setPoint(initialPoint) }

    private var generator: RandomGenerator { RandomGenerator(seed: 0).fork("analysis-dropout") }

    /// L(θ), each batch's cross-entropy accumulated in Double.
    public func loss(at x: [Double]) throws -> Double {
        setPoint(x)
        defer { restore() }
        var total = 0.0
        for batch in batches {
            total += try GradientReport.loss(model: model, batch: batch, training: training, generator: generator)
        }
        return total / Double(batches.count)
    }

    /// ∇L(θ), the batches' gradients averaged in Double.
    public func gradient(at x: [Double]) throws -> [Double] {
        setPoint(x)
        defer { restore() }
        var total = [Double](repeating: 0, count: dimension)
        for batch in batches {
            let report = try GradientReport.compute(model: model, batch: batch, training: training, generator: generator)
            var offset = 0
            for (_, g) in report.gradients {
                for i in 0..<g.count { total[offset + i] += Double(g[i]) }
                offset += g.count
            }
        }
        let scale = 1 / Double(batches.count)
        return total.map { $0 * scale }
    }

    /// The Hessian of L at the model's parameters, by gradient differences.
    public func hessian(step: Double = 1e-2, richardson: Bool = true) throws -> GradientDifferenceHessian {
        try GradientDifferenceHessian(point: initialPoint, step: step, richardson: richardson) { [self] x in
            try gradient(at: x)
        }
    }
}

/// The expected sharpness of Neyshabur et al. (2017), Figure 14 of the Adai paper:
/// E_ζ[L(θ + ζ)] − L(θ) with ζ ~ N(0, σ²I) over every parameter, estimated from `samples` draws,
/// with the standard error of that mean.
public struct SharpnessEstimate: Equatable {
    public let sigma: Double
    public let samples: Int
    public let baseLoss: Double
    public let sharpness: Double
    public let standardError: Double
}

public func expectedSharpness(_ objective: ModelObjective, sigmas: [Double], samples: Int, seed: UInt64,
                              progress: ((String) -> Void)? = nil) throws -> [SharpnessEstimate] {
    guard !sigmas.isEmpty, sigmas.allSatisfy({ $0 > 0 && $0.isFinite }) else {
        throw AnalysisError("--sigma needs one or more noise levels > 0, e.g. --sigma 0.01,0.02,0.05")
    }
    guard samples >= 2 else { throw AnalysisError("--samples must be >= 2 (for a standard error), got \(samples)") }
    let base = try objective.loss(at: objective.initialPoint)
    var out: [SharpnessEstimate] = []
    for sigma in sigmas {
        var rng = RandomGenerator(seed: seed).fork("sharpness").fork("sigma=\(format9(sigma))")
        var differences: [Double] = []
        for _ in 0..<samples {
            let x = objective.initialPoint.map { $0 + sigma * rng.nextNormal() }
            differences.append(try objective.loss(at: x) - base)
        }
        let (mean, se) = meanAndStandardError(differences)
        out.append(SharpnessEstimate(sigma: sigma, samples: samples, baseLoss: base, sharpness: mean, standardError: se))
        progress?("sigma \(format9(sigma)): expected sharpness \(format9(mean)) ± \(format9(se))")
    }
    return out
}

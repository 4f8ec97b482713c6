import Engine
import Foundation

/// Closed forms for `SaddleExperiment` along one coordinate of curvature h, with noise ξ ~ N(0, σ²|h|).
///
/// SGD and heavy-ball SGD-M are linear in (x, buffer) on a quadratic, so the covariance of their state
/// follows exactly from P ← A P Aᵀ + σ²|h| b bᵀ. Adam is linear too once its second moment is held at
/// its value at the saddle, v = σ²|h| (the idealised Adam of the paper's §4, after Staib et al.: the
/// preconditioner v^{−1/2} rescales the noise to unit variance in every direction); that holds while
/// x is small, and overstates Adam's escape once h·x dominates the noise and v grows.
///
/// Two optimizers driven by the same noise (the experiment's common random numbers) are stacked into
/// one state, which gives their correlation as well; warm steps are the same recursion with x put back
/// to 0 after each step (`SaddleExperiment.warmSteps`).
public enum SaddleTheory {
    /// An optimizer as a linear system along one coordinate.
    public enum Model: Equatable {
        case sgd(lr: Double)
        case sgdm(lr: Double, momentum: Double)
        case adam(lr: Double, beta1: Double)

        /// From an optimizer choice of `SaddleExperiment` (sgd, sgdm, adam), with its defaults.
        public init(_ choice: OptimizerChoice) throws {
            func number(_ key: String) -> Double? { if case let .number(x)? = choice.options[key] { return x }; return nil }
            let lr = number("lr")
            switch choice.name {
            case "sgd" where (number("momentum") ?? 0) == 0:
                self = .sgd(lr: lr ?? 0.1)
            case "sgd", "sgdm":
                self = .sgdm(lr: lr ?? 0.1, momentum: number("momentum") ?? 0.9)
            case "adam":
                var beta1 = 0.9
                if case let .list(betas)? = choice.options["betas"], let first = betas.first { beta1 = first }
                self = .adam(lr: lr ?? 1e-3, beta1: beta1)
            default:
                throw AnalysisError("the saddle's closed form covers sgd, sgdm and adam, not \(choice.name)")
            }
        }

        /// x_{t+1} = A x_t + b ξ_t for the state (x, buffer…).
        func system(h: Double, noiseVariance q: Double) -> (a: [[Double]], b: [Double]) {
            switch self {
            case let .sgd(lr):
                return ([[1 - lr * h]], [-lr])
            case let .sgdm(lr, beta):
                // buffer' = β·buffer + h·x + ξ;  x' = x − lr·buffer'
                return ([[1 - lr * h, -lr * beta], [h, beta]], [-lr, 1])
            case let .adam(lr, beta1):
                // m' = β₁m + (1−β₁)(h·x + ξ);  x' = x − lr·m'/√v with v = q held fixed
                let p = lr / q.squareRoot()
                return ([[1 - p * (1 - beta1) * h, -p * beta1], [(1 - beta1) * h, beta1]], [-p * (1 - beta1), 1 - beta1])
            }
        }
    }

    /// Var x_T of `a` and `b` and their correlation, both driven by the same noise, after `warm` steps at the saddle.
    public static func joint(_ a: Model, _ b: Model, curvature h: Double, noiseScale σ: Double = 1, warm: Int, steps: Int)
        -> (varianceA: Double, varianceB: Double, correlation: Double) {
        let q = σ * σ * abs(h)
        let (a1, b1) = a.system(h: h, noiseVariance: q), (a2, b2) = b.system(h: h, noiseVariance: q)
        let n1 = b1.count, n = n1 + b2.count
        var m = [Double](repeating: 0, count: n * n)
        for i in 0..<n1 { for j in 0..<n1 { m[i * n + j] = a1[i][j] } }
        for i in 0..<b2.count { for j in 0..<b2.count { m[(n1 + i) * n + n1 + j] = a2[i][j] } }
        let noise = b1 + b2
        var p = [Double](repeating: 0, count: n * n), ap = p
        var previous = (0.0, 0.0)
        func step() {
            for i in 0..<n { for j in 0..<n { var s = 0.0; for k in 0..<n { s += m[i * n + k] * p[k * n + j] }; ap[i * n + j] = s } }
            for i in 0..<n { for j in 0..<n {
                var s = 0.0; for k in 0..<n { s += ap[i * n + k] * m[j * n + k] }
                p[i * n + j] = s + q * noise[i] * noise[j]
            } }
        }
        for _ in 0..<warm {
            step()
            for i in [0, n1] { for j in 0..<n { p[i * n + j] = 0; p[j * n + i] = 0 } }
        }
        for t in 0..<steps {
            step()
            // A stable system reaches its stationary covariance: the remaining steps change nothing.
            let now = (p[0], p[n1 * n + n1])
            if t > 10, abs(now.0 - previous.0) <= 1e-15 * now.0, abs(now.1 - previous.1) <= 1e-15 * now.1 { break }
            previous = now
        }
        let va = p[0], vb = p[n1 * n + n1]
        return (va, vb, va > 0 && vb > 0 ? p[n1] / (va * vb).squareRoot() : 0)
    }

    /// Stationary Var x of one optimizer along a positive curvature h (the sharp-direction spread).
    public static func spread(_ model: Model, curvature h: Double, noiseScale σ: Double = 1, steps: Int = 20_000) -> Double {
        joint(model, model, curvature: h, noiseScale: σ, warm: 0, steps: steps).varianceA
    }

    /// The standard deviation of log|X| − log|Y| for a standard bivariate normal with correlation ρ,
    /// by `draws` draws from a fixed stream (log|X| alone has variance π²/8).
    public static func logRatioSD(correlation ρ: Double, draws: Int = 20_000) -> Double {
        var rng = RandomGenerator(seed: 0).fork("log-ratio-sd")
        let r = min(1, max(-1, ρ)), c = (1 - r * r).squareRoot()
        var sum = 0.0, sumSquares = 0.0
        for _ in 0..<draws {
            let z1 = rng.nextNormal(), z2 = r * z1 + c * rng.nextNormal()
            let d = Foundation.log(abs(z1)) - Foundation.log(abs(z2))
            guard d.isFinite else { continue }
            sum += d; sumSquares += d * d
        }
        let n = Double(draws), mean = sum / n
        return max(0, sumSquares / n - mean * mean).squareRoot()
    }
}

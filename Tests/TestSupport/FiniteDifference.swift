import Foundation

/// The error model shared by the gradient checks (the op checks in EngineTests, the model checks in
/// NNTests), so that their verdicts do not depend on which kernels the CPU runs.
///
/// A check compares an analytic derivative a with a finite-difference estimate D of the same
/// derivative of a function f computed in float32 (a loss, or a weighted sum of an op's outputs).
/// D differs from the exact derivative by
///
/// - rounding noise: each evaluation of f carries float32 rounding errors whose size depends on the
///   kernels (OpenBLAS picks other GEMM kernels on other CPUs, with other summation orders), and the
///   difference quotient divides that noise by the step;
/// - non-smoothness: a ReLU or max-pool kink crossed inside the stencil;
/// - truncation: the stencil is exact for polynomials of degree 2; the cubic term leaves
///   3.4·h²·f‴/6, which `relativeTolerance` covers for the steps used.
///
/// The first two are *measured*, not assumed: f is evaluated at five points j·h, j = −2…2 (f(0) is
/// shared by every check of the same function). The fourth difference Δ⁴f = f₋₂ − 4f₋₁ + 6f₀ − 4f₁ + f₂
/// vanishes for a smooth f up to h⁴·f⁗ and, for independent rounding errors of standard deviation σ,
/// has variance 70σ² (the sum of the squared binomial coefficients 1, 4, 6, 4, 1); a kink inside the
/// span inflates it as much as it disturbs D. One difference is a poor estimate on its own, so the
/// estimates of all checks of the same function are pooled (`pooledNoise`, their root mean square),
/// each check uses the larger of its own and the pooled level, and the level is never taken below
/// `noiseFloor`, one float32 rounding of f's terms.
///
/// D is the least-squares slope over the five points, (2f₂ + f₁ − f₋₁ − 2f₋₂) / (10h), whose noise
/// has standard deviation σ / (h·√10). The check passes when
///
///     |a − D| ≤ relativeTolerance·max(|a|, |D|) + noiseMultiple·σ / (h·√10)
///
/// With noiseMultiple = 6 a correct gradient fails with a probability far below 1e-6 per check for
/// Gaussian noise, on any CPU; a gradient wrong by more than the relative tolerance plus the measured
/// noise fails on every CPU.
public enum FiniteDifference {
    /// The offsets, in steps, at which f is evaluated.
    public static let offsets: [Int] = Array(-2...2)
    /// Relative error allowed beyond the noise (truncation; see above).
    public static let relativeTolerance = 1e-2
    /// How many standard deviations of the slope's noise are allowed.
    public static let noiseMultiple = 6.0
    /// Unit roundoff of float32.
    public static let float32Roundoff = 0x1p-24

    /// One directional derivative: the slope estimate and the noise seen in its evaluations.
    public struct Estimate {
        /// The least-squares slope over the five points.
        public let slope: Double
        /// The standard deviation of f's noise estimated from the fourth difference.
        public let noise: Double
    }

    /// The estimate from f's values at `offsets` (in that order) with step `h`.
    public static func estimate(values: [Double], step h: Double) -> Estimate {
        precondition(values.count == offsets.count, "need f at offsets −2…2")
        let slope = (2 * values[4] + values[3] - values[1] - 2 * values[0]) / (10 * h)
        let d4 = values[0] - 4 * values[1] + 6 * values[2] - 4 * values[3] + values[4]
        return Estimate(slope: slope, noise: abs(d4) / 70.0.squareRoot())
    }

    /// The noise level of a group of estimates of the same function: the root mean square of their
    /// noise estimates (each from a single difference, so their spread is large).
    public static func pooledNoise(_ estimates: [Estimate]) -> Double {
        guard !estimates.isEmpty else { return 0 }
        return (estimates.reduce(0) { $0 + $1.noise * $1.noise } / Double(estimates.count)).squareRoot()
    }

    /// The smallest noise assumed for f: one float32 rounding of each of its terms, combined as
    /// independent errors (`terms` are the magnitudes of what f sums, e.g. |output·weight|).
    public static func noiseFloor(terms: [Double]) -> Double {
        float32Roundoff * terms.reduce(0) { $0 + $1 * $1 }.squareRoot()
    }

    /// The allowed |a − D| for an analytic value `analytic`, an estimate, and f's noise level
    /// `noise` (at least the estimate's own; see `pooledNoise` and `noiseFloor`).
    public static func tolerance(analytic: Double, estimate: Estimate, noise: Double, step h: Double) -> Double {
        relativeTolerance * max(abs(analytic), abs(estimate.slope)) + noiseMultiple * slopeNoise(noise, step: h)
    }

    /// The standard deviation of the slope for f's noise `noise`.
    public static func slopeNoise(_ noise: Double, step h: Double) -> Double {
        noise / (h * 10.0.squareRoot())
    }
}

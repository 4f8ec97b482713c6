import Engine
import Foundation

/// The tail-index estimator of Mohammadi, Mohammadpour and Ogata (2015), "On estimating the tail
/// index and the spectral measure of multivariate α-stable distributions", Metrika 78(5):549–561
/// (their Corollary 2.4), which Simsekli, Sagun and Gürbüzbalaban (2019, "A tail-index analysis of
/// stochastic gradient noise in deep neural networks", ICML) applied to gradient noise.
///
/// For K = K₁·K₂ centred samples Xᵢ of a symmetric α-stable law, the block sums
/// Yᵢ = Σ_{j=1..K₁} X_{j+(i−1)K₁} are stable with scale multiplied by K₁^{1/α}, so
///
///     1/α̂ = (1 / log K₁) · ( (1/K₂) Σᵢ log|Yᵢ| − (1/K) Σᵢ log|Xᵢ| ).
///
/// α = 2 is the Gaussian; α < 2 a heavy (power-law) tail. Here K₁ is the integer nearest √K (the
/// samples beyond K₁·K₂ are dropped): our choice, not taken from either paper. At K = 10,000 the
/// estimate's standard deviation is about 0.1 on Gaussian and stable samples (GradientNoiseTests).
/// α̂ is reported unclipped, so a Gaussian sample's estimate scatters on both sides of 2. Samples must be centred by the caller.
public func tailIndex(_ samples: [Double]) throws -> Double {
    guard samples.count >= 64 else { throw AnalysisError("the tail-index estimate needs at least 64 samples, got \(samples.count)") }
    guard samples.allSatisfy({ $0.isFinite }) else { throw AnalysisError("the tail-index estimate needs finite samples") }
    let k1 = max(2, Int((Double(samples.count).squareRoot()).rounded()))
    let k2 = samples.count / k1, k = k1 * k2
    var logX = 0.0, logY = 0.0
    for i in 0..<k { logX += Foundation.log(max(abs(samples[i]), 1e-300)) }
    for b in 0..<k2 {
        var y = 0.0
        for j in 0..<k1 { y += samples[b * k1 + j] }
        logY += Foundation.log(max(abs(y), 1e-300))
    }
    let inverse = (logY / Double(k2) - logX / Double(k)) / Foundation.log(Double(k1))
    guard inverse > 0 else { throw AnalysisError("the tail-index estimate is undefined here (1/α̂ = \(inverse) ≤ 0): the block sums are no larger than the samples") }
    return 1 / inverse
}

/// A symmetric α-stable sample (β = 0, unit scale) by the method of Chambers, Mallows and Stuck
/// (1976): with V uniform on (−π/2, π/2) and W exponential(1),
/// X = sin(αV) / cos(V)^{1/α} · (cos((1 − α)V) / W)^{(1 − α)/α}; α = 1 gives tan V (Cauchy) and
/// α = 2 gives a Gaussian of variance 2.
public func symmetricStableSample(alpha: Double, generator: inout RandomGenerator) -> Double {
    precondition(alpha > 0 && alpha <= 2)
    var u = generator.nextDouble()
    while u <= 0 || u >= 1 { u = generator.nextDouble() }
    let v = Double.pi * (u - 0.5)
    var e = generator.nextDouble()
    while e <= 0 { e = generator.nextDouble() }
    let w = -Foundation.log(e)
    if abs(alpha - 1) < 1e-12 { return Foundation.tan(v) }
    return Foundation.sin(alpha * v) / Foundation.pow(Foundation.cos(v), 1 / alpha)
        * Foundation.pow(Foundation.cos((1 - alpha) * v) / w, (1 - alpha) / alpha)
}

/// The standard normal quantile Φ⁻¹(p), 0 < p < 1 (Acklam's rational approximation, relative error
/// below 1.2e-9, refined by one Halley step on erfc).
public func normalQuantile(_ p: Double) -> Double {
    precondition(p > 0 && p < 1)
    let a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00]
    let b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01]
    let c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00]
    let d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00]
    let low = 0.02425
    var x: Double
    if p < low {
        let q = (-2 * Foundation.log(p)).squareRoot()
        x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
    } else if p <= 1 - low {
        let q = p - 0.5, r = q * q
        x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
    } else {
        let q = (-2 * Foundation.log(1 - p)).squareRoot()
        x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
    }
    let e = 0.5 * erfc(-x / 2.0.squareRoot()) - p
    let u = e * (2 * Double.pi).squareRoot() * Foundation.exp(x * x / 2)
    return x - u / (1 + x * u / 2)
}

/// Points of a normal QQ plot: the standardised sample's order statistics against Φ⁻¹((i − 0.5)/n),
/// thinned to at most `points` evenly spaced ranks (always keeping both ends).
public func normalQQ(_ samples: [Double], points: Int = 200) -> (theoretical: [Double], sample: [Double]) {
    let n = samples.count
    guard n >= 2 else { return ([], []) }
    let mean = samples.reduce(0, +) / Double(n)
    let sd = (samples.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n - 1)).squareRoot()
    let sorted = samples.sorted().map { ($0 - mean) / max(sd, 1e-300) }
    let ranks = n <= points ? Array(0..<n) : (0..<points).map { Int((Double($0) * Double(n - 1) / Double(points - 1)).rounded()) }
    return (ranks.map { normalQuantile((Double($0) + 0.5) / Double(n)) }, ranks.map { sorted[$0] })
}

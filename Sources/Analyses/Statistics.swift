import Foundation

/// The escape-rate estimator for exponentially distributed escape times (Adai paper, App. E,
/// Eqs. 119–120), with right-censoring at the step cap.
///
/// With n repeats of which d escaped and total observed time T = Σ τᵢ (a censored repeat
/// contributes the cap), the maximum-likelihood rate is Γ̂ = d / T; without censoring it is
/// 1 / mean τ. The interval is exact for uncensored times: T ~ Gamma(n, Γ), so
/// [G_{α/2}(n) / T, G_{1−α/2}(n) / T] with G_p(n) the p-quantile of Gamma(n, 1)
/// (equivalently χ²_p(2n) / 2T). With censoring (d < n) the Poisson-type interval
/// [G_{α/2}(d) / T, G_{1−α/2}(d + 1) / T] is used, which covers at least 1 − α.
public struct EscapeRateEstimate: Equatable {
    public let repeats: Int
    public let escapes: Int
    public let totalTime: Double
    public let rate: Double
    public let low: Double
    public let high: Double

    /// The mean escape time 1/Γ̂ (infinite when nothing escaped).
    public var meanTime: Double { escapes > 0 ? totalTime / Double(escapes) : .infinity }

    /// `times`: every repeat's escape time (the cap for censored ones); `escaped` says which escaped.
    public init(times: [Double], escaped: [Bool], confidence: Double = 0.95) throws {
        guard !times.isEmpty, times.count == escaped.count else {
            throw AnalysisError("the escape-rate estimate needs at least one repeat, with one escaped flag per time")
        }
        guard confidence > 0, confidence < 1 else { throw AnalysisError("confidence must be in (0, 1), got \(confidence)") }
        guard times.allSatisfy({ $0 > 0 && $0.isFinite }) else { throw AnalysisError("escape times must be positive and finite") }
        repeats = times.count
        escapes = escaped.filter { $0 }.count
        totalTime = times.reduce(0, +)
        rate = Double(escapes) / totalTime
        let alpha = 1 - confidence
        low = escapes == 0 ? 0 : gammaQuantile(shape: escapes, p: alpha / 2) / totalTime
        high = gammaQuantile(shape: escapes == repeats ? escapes : escapes + 1, p: 1 - alpha / 2) / totalTime
    }
}

/// P(n, x): the regularised lower incomplete gamma function for integer shape n ≥ 1, i.e. the
/// CDF of Gamma(n, 1) at x: 1 − e^{−x} Σ_{j<n} x^j / j!, summed in log space.
public func gammaCDF(shape n: Int, x: Double) -> Double {
    precondition(n >= 1)
    if x <= 0 { return 0 }
    // Upper tail Q = e^{−x} Σ_{j<n} x^j/j!; for x well above n use it directly, else the series of P.
    if x > Double(n) {
        var term = 0.0  // log of x^j/j!
        var sum = 1.0, logFirst = 0.0
        // Sum from the largest term (j = n−1) downwards for stability: x^j/j! / (x^{n−1}/(n−1)!)
        logFirst = Double(n - 1) * Foundation.log(x) - lgamma(Double(n))
        term = 1
        for j in stride(from: n - 1, to: 0, by: -1) {
            term *= Double(j) / x
            sum += term
            if term < 1e-17 * sum { break }
        }
        return 1 - Foundation.exp(logFirst - x + Foundation.log(sum))
    }
    // P = e^{−x} Σ_{j≥n} x^j/j! = e^{−x} x^n/n! · (1 + x/(n+1) + x²/((n+1)(n+2)) + …)
    var term = 1.0, sum = 1.0, j = n
    while true {
        j += 1
        term *= x / Double(j)
        sum += term
        if term < 1e-17 * sum { break }
    }
    return Foundation.exp(Double(n) * Foundation.log(x) - x - lgamma(Double(n + 1)) + Foundation.log(sum))
}

/// The p-quantile of Gamma(n, 1) (integer n ≥ 1), by bisection on `gammaCDF` to relative 1e-12.
public func gammaQuantile(shape n: Int, p: Double) -> Double {
    precondition(n >= 1 && p > 0 && p < 1)
    var lo = 0.0, hi = Double(n) + 10 * Double(n).squareRoot() + 50
    while gammaCDF(shape: n, x: hi) < p { hi *= 2 }
    for _ in 0..<200 {
        let mid = 0.5 * (lo + hi)
        if gammaCDF(shape: n, x: mid) < p { lo = mid } else { hi = mid }
        if hi - lo <= 1e-12 * hi { break }
    }
    return 0.5 * (lo + hi)
}

/// A least-squares line y = intercept + slope·x with its coefficient of determination.
public struct LinearFit: Equatable {
    public let slope: Double
    public let intercept: Double
    public let rSquared: Double
    public let points: Int

    public init(x: [Double], y: [Double]) throws {
        guard x.count == y.count, x.count >= 2 else {
            throw AnalysisError("a line needs at least two points, got \(min(x.count, y.count)); give more k values that escape")
        }
        let n = Double(x.count)
        let mx = x.reduce(0, +) / n, my = y.reduce(0, +) / n
        var sxx = 0.0, sxy = 0.0, syy = 0.0
        for (a, b) in zip(x, y) {
            sxx += (a - mx) * (a - mx); sxy += (a - mx) * (b - my); syy += (b - my) * (b - my)
        }
        guard sxx > 0 else { throw AnalysisError("a line needs at least two distinct x values (k values)") }
        slope = sxy / sxx
        intercept = my - slope * mx
        rSquared = syy > 0 ? (sxy * sxy) / (sxx * syy) : 1
        points = x.count
    }
}

/// Mean and standard error of the mean of `values` (n − 1 in the variance).
public func meanAndStandardError(_ values: [Double]) -> (mean: Double, standardError: Double) {
    let n = Double(values.count)
    guard values.count > 0 else { return (.nan, .nan) }
    let mean = values.reduce(0, +) / n
    guard values.count > 1 else { return (mean, .nan) }
    let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (n - 1)
    return (mean, (variance / n).squareRoot())
}

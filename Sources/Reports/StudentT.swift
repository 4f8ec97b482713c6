import Foundation

/// The regularised incomplete beta function I_x(a, b), by its continued fraction (modified Lentz),
/// using the symmetry I_x(a, b) = 1 − I_{1−x}(b, a) where the fraction converges slowly.
public func regularizedIncompleteBeta(_ x: Double, a: Double, b: Double) -> Double {
    precondition(a > 0 && b > 0)
    if x <= 0 { return 0 }
    if x >= 1 { return 1 }
    let logFront = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x)
    if x > (a + 1) / (a + b + 2) { return 1 - regularizedIncompleteBeta(1 - x, a: b, b: a) }
    let tiny = 1e-300
    var c = 1.0, d = 1 - (a + b) * x / (a + 1)
    if abs(d) < tiny { d = tiny }
    d = 1 / d
    var fraction = d
    for m in 1...400 {
        let m2 = Double(2 * m), md = Double(m)
        // even step
        var numerator = md * (b - md) * x / ((a + m2 - 1) * (a + m2))
        d = 1 + numerator * d; if abs(d) < tiny { d = tiny }
        c = 1 + numerator / c; if abs(c) < tiny { c = tiny }
        d = 1 / d
        fraction *= d * c
        // odd step
        numerator = -(a + md) * (a + b + md) * x / ((a + m2) * (a + m2 + 1))
        d = 1 + numerator * d; if abs(d) < tiny { d = tiny }
        c = 1 + numerator / c; if abs(c) < tiny { c = tiny }
        d = 1 / d
        let delta = d * c
        fraction *= delta
        if abs(delta - 1) < 1e-15 { break }
    }
    return exp(logFront) * fraction / a
}

/// The CDF of Student's t with `df` degrees of freedom.
public func studentTCDF(_ t: Double, df: Double) -> Double {
    precondition(df > 0)
    let x = df / (df + t * t)
    let tail = 0.5 * regularizedIncompleteBeta(x, a: df / 2, b: 0.5)
    return t >= 0 ? 1 - tail : tail
}

/// The p-quantile of Student's t with `df` degrees of freedom (bisection to 1e-12).
public func studentTQuantile(_ p: Double, df: Double) -> Double {
    precondition(p > 0 && p < 1 && df > 0)
    if p == 0.5 { return 0 }
    if p < 0.5 { return -studentTQuantile(1 - p, df: df) }
    var lo = 0.0, hi = 1.0
    while studentTCDF(hi, df: df) < p { hi *= 2 }
    for _ in 0..<200 {
        let mid = 0.5 * (lo + hi)
        if studentTCDF(mid, df: df) < p { lo = mid } else { hi = mid }
        if hi - lo <= 1e-12 * max(1, hi) { break }
    }
    return 0.5 * (lo + hi)
}

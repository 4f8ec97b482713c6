import Engine
import Foundation

/// The three verdicts of docs/claims.md.
public enum Verdict: String, Codable, Equatable {
    case supported, contradicted, inconclusive
}

/// Why a verdict is what it is (docs/claims.md, "Verdicts and their reasons").
public enum VerdictReason: String, Codable, Equatable {
    case decided = "decided by the rule"
    case underpowered
    case scaleTooSmall = "scale too small"
    case runsFailed = "runs failed"
    case designCannotDiscriminate = "design cannot discriminate"
}

/// "A beats B" over runs paired by seed (or repeat): d = B − A when lower is better, A − B otherwise.
public struct PairedComparison: Codable, Equatable {
    public let a: String, b: String
    public let pairs: Int
    public let differences: [Double]
    public let mean: Double, standardDeviation: Double
    public let low: Double, high: Double
    public let confidence: Double
    public let wins: Int
    public let margin: Double
    /// The smallest effect the pairs detect at 95% confidence with 80% power; nil under 2 pairs.
    public let minimumDetectableEffect: Double?
    /// The effect the seeds-needed figure aims at (the paper's gap, else the margin), and the pairs it needs.
    public let effectOfInterest: Double
    public let pairsNeeded: Int?
    public let verdict: Verdict
    public let reason: VerdictReason

    /// `valuesA[key]` and `valuesB[key]` per seed or repeat; only keys present in both are paired.
    public init(a: String, b: String, valuesA: [Int: Double], valuesB: [Int: Double], lowerIsBetter: Bool,
                margin: Double, effectOfInterest: Double? = nil, confidence: Double = 0.95) {
        self.a = a; self.b = b; self.margin = margin; self.confidence = confidence
        let keys = Set(valuesA.keys).intersection(valuesB.keys).sorted()
        let d = keys.compactMap { key -> Double? in
            let x = valuesA[key]!, y = valuesB[key]!
            guard x.isFinite, y.isFinite else { return nil }
            return lowerIsBetter ? y - x : x - y
        }
        differences = d
        pairs = d.count
        wins = d.filter { $0 > 0 }.count
        self.effectOfInterest = effectOfInterest ?? margin
        let n = Double(d.count)
        let m = d.isEmpty ? .nan : d.reduce(0, +) / n
        mean = m
        standardDeviation = d.count < 2 ? .nan : (d.reduce(0) { $0 + ($1 - m) * ($1 - m) } / (n - 1)).squareRoot()
        guard d.count >= 2 else {
            low = .nan; high = .nan; minimumDetectableEffect = nil; pairsNeeded = nil
            verdict = .inconclusive; reason = .runsFailed
            return
        }
        let t = studentTQuantile(1 - (1 - confidence) / 2, df: n - 1)
        let se = standardDeviation / n.squareRoot()
        low = mean - t * se
        high = mean + t * se
        minimumDetectableEffect = detectableEffect(sd: standardDeviation, n: d.count, confidence: confidence)
        pairsNeeded = pairsNeededFor(effect: self.effectOfInterest, sd: standardDeviation, confidence: confidence)
        if low > 0 && mean >= margin {
            verdict = .supported; reason = .decided
        } else if high < margin {
            verdict = .contradicted; reason = .decided
        } else {
            verdict = .inconclusive; reason = .underpowered
        }
    }
}

/// (t_{1−α/2,n−1} + t_{0.8,n−1}) · sd/√n: the effect a paired t test of n pairs finds with 80% power.
public func detectableEffect(sd: Double, n: Int, confidence: Double = 0.95) -> Double {
    let df = Double(n - 1)
    return (studentTQuantile(1 - (1 - confidence) / 2, df: df) + studentTQuantile(0.8, df: df)) * sd / Double(n).squareRoot()
}

/// The smallest n ≥ 2 whose detectable effect is at most `effect`; nil when over 10,000 or undefined.
public func pairsNeededFor(effect: Double, sd: Double, confidence: Double = 0.95) -> Int? {
    guard effect > 0, sd.isFinite else { return nil }
    if sd == 0 { return 2 }
    var n = 2
    while n <= 10_000 {
        if detectableEffect(sd: sd, n: n, confidence: confidence) <= effect { return n }
        n += n < 100 ? 1 : n / 10
    }
    return nil
}

/// Kendall's τ-b between two scorings of the same items (ties counted as neither concordant nor discordant).
public func kendallTau(_ x: [Double], _ y: [Double]) -> Double {
    precondition(x.count == y.count)
    var concordant = 0.0, discordant = 0.0, tiesX = 0.0, tiesY = 0.0
    for i in 0..<x.count {
        for j in (i + 1)..<max(i + 1, x.count) {
            let dx = x[i] - x[j], dy = y[i] - y[j]
            if dx == 0 && dy == 0 { continue }
            if dx == 0 { tiesX += 1; continue }
            if dy == 0 { tiesY += 1; continue }
            if (dx > 0) == (dy > 0) { concordant += 1 } else { discordant += 1 }
        }
    }
    let denominator = ((concordant + discordant + tiesX) * (concordant + discordant + tiesY)).squareRoot()
    return denominator > 0 ? (concordant - discordant) / denominator : .nan
}

/// −log Γ = a + b·k^(−p): least squares in (a, b) for each p, p by a grid then golden-section search on [pMin, pMax].
public struct PowerLawFit: Codable, Equatable {
    public let a: Double, b: Double, p: Double
    public let residualSumOfSquares: Double
    public let points: Int
    /// The best p lies at an end of the search interval (the data prefer a p outside it).
    public let atSearchEdge: Bool

    public static let pMin = 0.05, pMax = 4.0

    public init?(k: [Double], negativeLogRate y: [Double]) {
        guard k.count == y.count, k.count >= 3, Set(k).count >= 3 else { return nil }
        func fit(_ p: Double) -> (a: Double, b: Double, rss: Double) {
            let x = k.map { pow($0, -p) }
            let n = Double(x.count)
            let mx = x.reduce(0, +) / n, my = y.reduce(0, +) / n
            var sxx = 0.0, sxy = 0.0
            for (u, v) in zip(x, y) { sxx += (u - mx) * (u - mx); sxy += (u - mx) * (v - my) }
            let b = sxx > 0 ? sxy / sxx : 0
            let a = my - b * mx
            var rss = 0.0
            for (u, v) in zip(x, y) { rss += (v - a - b * u) * (v - a - b * u) }
            return (a, b, rss)
        }
        // Grid in log p, then golden section around the best grid point.
        let grid = (0...80).map { PowerLawFit.pMin * pow(PowerLawFit.pMax / PowerLawFit.pMin, Double($0) / 80) }
        let rss = grid.map { fit($0).rss }
        let best = rss.indices.min { rss[$0] < rss[$1] }!
        var lo = grid[max(0, best - 1)], hi = grid[min(grid.count - 1, best + 1)]
        let ratio = (5.0.squareRoot() - 1) / 2
        for _ in 0..<60 {
            let m1 = hi - ratio * (hi - lo), m2 = lo + ratio * (hi - lo)
            if fit(m1).rss < fit(m2).rss { hi = m2 } else { lo = m1 }
        }
        let p = 0.5 * (lo + hi)
        let f = fit(p)
        self.a = f.a; self.b = f.b; self.p = p; residualSumOfSquares = f.rss; points = k.count
        atSearchEdge = best == 0 || best == grid.count - 1
    }
}

/// One optimizer's escape times at one k (the cap for repeats that did not escape).
public struct EscapeSample: Codable, Equatable {
    public let k: Double
    public let times: [Double]
    public let escaped: [Bool]
    public init(k: Double, times: [Double], escaped: [Bool]) { self.k = k; self.times = times; self.escaped = escaped }

    /// The maximum-likelihood rate d/T (docs/paper.md §4.5); nil when nothing escaped.
    public var rate: Double? {
        let d = escaped.filter { $0 }.count
        let total = times.reduce(0, +)
        return d > 0 && total > 0 ? Double(d) / total : nil
    }
}

/// The power-law exponent of one optimizer with a percentile bootstrap interval.
public struct ExponentEstimate: Codable, Equatable {
    public let fit: PowerLawFit
    public let low: Double, high: Double
    public let replicates: Int
    /// The bootstrap exponents in replicate order (not sorted), kept for claim 4's difference of two optimizers.
    public let bootstrap: [Double]
    public let kValuesUsed: [Double]

    /// Resamples each k's repeats with replacement `replicates` times, from a stream named by `seed` and
    /// `stream` (give each optimizer its own, so that two optimizers are resampled independently).
    public init?(samples: [EscapeSample], replicates: Int, seed: UInt64, stream: String, confidence: Double = 0.95) {
        let usable = samples.filter { $0.rate != nil }.sorted { $0.k < $1.k }
        guard usable.count >= 4,
              let fit = PowerLawFit(k: usable.map(\.k), negativeLogRate: usable.map { -log($0.rate!) }) else { return nil }
        var rng = RandomGenerator(seed: seed).fork("power-law-bootstrap").fork(stream)
        var ps: [Double] = []
        for _ in 0..<replicates {
            var ks: [Double] = [], ys: [Double] = []
            for s in usable {
                var total = 0.0, escapes = 0
                for _ in 0..<s.times.count {
                    let i = Int(rng.nextUInt64() % UInt64(s.times.count))
                    total += s.times[i]; if s.escaped[i] { escapes += 1 }
                }
                if escapes > 0 { ks.append(s.k); ys.append(-log(Double(escapes) / total)) }
            }
            if let f = PowerLawFit(k: ks, negativeLogRate: ys) { ps.append(f.p) }
        }
        guard ps.count >= replicates / 2 else { return nil }
        let alpha = 1 - confidence
        self.fit = fit
        low = percentile(ps, alpha / 2); high = percentile(ps, 1 - alpha / 2)
        self.replicates = ps.count
        bootstrap = ps
        kValuesUsed = usable.map(\.k)
    }
}

/// The q-quantile of `values` (linear interpolation between order statistics).
public func percentile(_ values: [Double], _ q: Double) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return .nan }
    let position = q * Double(sorted.count - 1)
    let i = Int(position.rounded(.down)), f = position - Double(i)
    return i + 1 < sorted.count ? sorted[i] * (1 - f) + sorted[i + 1] * f : sorted[i]
}

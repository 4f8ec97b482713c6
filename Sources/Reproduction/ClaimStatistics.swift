import Engine
import Foundation
import Reports

/// The three headline verdicts of docs/claims.md.
public enum Verdict: String, Codable, Equatable {
    case supported, contradicted, inconclusive
}

/// What happened, under the headline word (docs/claims.md, "Verdicts and their kinds"): which kind of
/// contradiction, or why a claim is inconclusive.
public enum VerdictKind: String, Codable, Equatable, CaseIterable {
    case supported
    /// The interval lies above 0 but below the margin: a real effect smaller than the one that counts.
    case belowMargin = "effect real but below the margin"
    /// The interval lies below 0: the other side is better.
    case reversed = "contradicted: reversed"
    /// The interval lies inside ±m where the paper predicts a difference.
    case equivalent = "contradicted: equivalent"
    /// The interval excludes an advantage of the margin's size but reaches below −m: no effect as large as claimed.
    case marginExcluded = "contradicted: no advantage as large as the margin"
    /// A statistic the paper predicts at one value lies on the alternative's side.
    case alternative = "contradicted: the alternative fits"
    /// An equivalence claim (claim 4) whose interval lies outside ±m.
    case different = "contradicted: a difference beyond the margin"
    case underpowered = "inconclusive: underpowered"
    case scaleTooSmall = "inconclusive: scale too small"
    case tuningNotConverged = "inconclusive: tuning not converged"
    case runsFailed = "inconclusive: runs failed"
    case designCannotDiscriminate = "inconclusive: design cannot discriminate"

    /// The headline word this kind sits under.
    public var verdict: Verdict {
        switch self {
        case .supported: return .supported
        case .belowMargin, .reversed, .equivalent, .marginExcluded, .alternative, .different: return .contradicted
        case .underpowered, .scaleTooSmall, .tuningNotConverged, .runsFailed, .designCannotDiscriminate: return .inconclusive
        }
    }

    /// The paired rule of docs/claims.md on an interval [low, high] with mean `mean` and margin m ≥ 0.
    public static func paired(mean: Double, low: Double, high: Double, margin m: Double) -> VerdictKind {
        if low > 0 && mean >= m { return .supported }
        if high < 0 { return .reversed }
        if low > 0 && high < m { return .belowMargin }
        if high < m && low > -m { return .equivalent }
        if high < m { return .marginExcluded }
        return .underpowered
    }

    /// The equivalence rule (claim 4): supported inside [center − m, center + m], contradicted entirely outside it.
    public static func equivalence(low: Double, high: Double, center: Double, margin m: Double) -> VerdictKind {
        if low >= center - m && high <= center + m { return .supported }
        if high < center - m || low > center + m { return .different }
        return .underpowered
    }

    /// A statistic predicted at `prediction` against an `alternative`: decided by the side of their midpoint
    /// the whole interval lies on.
    public static func sided(low: Double, high: Double, prediction: Double, alternative: Double) -> VerdictKind {
        let mid = 0.5 * (prediction + alternative)
        let predictionAbove = prediction > alternative
        if predictionAbove ? low > mid : high < mid { return .supported }
        if predictionAbove ? high < mid : low > mid { return .alternative }
        return .underpowered
    }
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
    public let kind: VerdictKind
    public var verdict: Verdict { kind.verdict }

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
            kind = .runsFailed
            return
        }
        let t = studentTQuantile(1 - (1 - confidence) / 2, df: n - 1)
        let se = standardDeviation / n.squareRoot()
        low = mean - t * se
        high = mean + t * se
        minimumDetectableEffect = detectableEffect(sd: standardDeviation, n: d.count, confidence: confidence)
        pairsNeeded = pairsNeededFor(effect: self.effectOfInterest, sd: standardDeviation, confidence: confidence)
        kind = VerdictKind.paired(mean: mean, low: low, high: high, margin: margin)
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

/// The q-quantile of `values` (linear interpolation between order statistics).
public func percentile(_ values: [Double], _ q: Double) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return .nan }
    let position = q * Double(sorted.count - 1)
    let i = Int(position.rounded(.down)), f = position - Double(i)
    return i + 1 < sorted.count ? sorted[i] * (1 - f) + sorted[i + 1] * f : sorted[i]
}

import Foundation

/// One claim's result: the verdict, its reason, and every number behind it (docs/claims.md).
public struct ClaimVerdict: Codable, Equatable {
    public let claim: Int
    public var verdict: Verdict
    public var reason: VerdictReason
    /// One line per fact that led to the verdict, in the order the rule uses them.
    public var notes: [String]
    public var comparisons: [String: PairedComparison] = [:]
    public var exponents: [String: ExponentEstimate] = [:]
    /// Claim 4: the bootstrap interval of p_SGD-M − p_SGD.
    public var exponentDifference: [Double]? = nil

    public init(claim: Int, verdict: Verdict, reason: VerdictReason, notes: [String]) {
        self.claim = claim; self.verdict = verdict; self.reason = reason; self.notes = notes
    }
}

/// Composes parts: supported when all are, contradicted when any is, else inconclusive with the first
/// inconclusive part's reason.
func compose(_ parts: [(Verdict, VerdictReason)]) -> (Verdict, VerdictReason) {
    if parts.isEmpty { return (.inconclusive, .runsFailed) }
    if parts.contains(where: { $0.0 == .contradicted }) { return (.contradicted, .decided) }
    if parts.allSatisfy({ $0.0 == .supported }) { return (.supported, .decided) }
    return (.inconclusive, parts.first { $0.0 == .inconclusive }!.1)
}

func describe(_ c: PairedComparison, unit: String) -> String {
    if c.pairs < 2 { return "\(c.a) vs \(c.b): \(c.pairs) pair(s), too few for an interval → runs failed" }
    var s = String(format: "%@ vs %@: mean advantage %.4g %@, 95%% CI [%.4g, %.4g], %d/%d pairs won, margin %.4g → %@",
                   c.a, c.b, c.mean, unit, c.low, c.high, c.wins, c.pairs, c.margin, c.verdict.rawValue)
    if c.verdict == .inconclusive, let mde = c.minimumDetectableEffect {
        s += String(format: " (underpowered: detectable effect %.4g; %@ pairs needed for an effect of %.4g)",
                    mde, c.pairsNeeded.map(String.init) ?? "over 10,000", c.effectOfInterest)
    }
    return s
}

public enum Verdicts {
    /// Claims 1 and 2: log distance along the escape direction at the last step, per repeat.
    public static func saddle(claim: Int, a: String, b: String, logDistance: [String: [Int: Double]]) -> ClaimVerdict {
        guard let x = logDistance[a], let y = logDistance[b] else {
            return ClaimVerdict(claim: claim, verdict: .inconclusive, reason: .runsFailed,
                                notes: ["the saddle runs of \(a) and \(b) are missing"])
        }
        let c = PairedComparison(a: a, b: b, valuesA: x, valuesB: y, lowerIsBetter: false, margin: ClaimRules.saddleMargin,
                                 confidence: ClaimRules.confidence)
        var v = ClaimVerdict(claim: claim, verdict: c.verdict, reason: c.reason, notes: [describe(c, unit: "log distance")])
        v.comparisons["\(a)-vs-\(b)"] = c
        return v
    }

    /// The predicted exponent of −log Γ for an optimizer (claim 3), and the alternative.
    public static func predictedExponent(_ optimizer: String) -> (expected: Double, alternative: Double) {
        optimizer.hasPrefix("adam") ? (ClaimRules.exponentAdam, ClaimRules.exponentSGDLike)
            : (ClaimRules.exponentSGDLike, ClaimRules.exponentAdam)
    }

    /// Claims 3 and 4 from the escape times of each optimizer.
    public static func escape(samples: [String: [EscapeSample]], replicates: Int, seed: UInt64) -> (claim3: ClaimVerdict, claim4: ClaimVerdict) {
        var estimates: [String: ExponentEstimate] = [:]
        var notes3: [String] = [], parts: [(Verdict, VerdictReason)] = []
        for name in samples.keys.sorted() {
            guard let e = ExponentEstimate(samples: samples[name]!, replicates: replicates, seed: seed, stream: name) else {
                notes3.append("\(name): fewer than 4 k values with an escape; no fit")
                parts.append((.inconclusive, .runsFailed))
                continue
            }
            estimates[name] = e
            let (p0, p1) = predictedExponent(name)
            let contains0 = e.low <= p0 && p0 <= e.high, contains1 = e.low <= p1 && p1 <= e.high
            let part: (Verdict, VerdictReason) = contains0 && !contains1 ? (.supported, .decided)
                : !contains0 ? (.contradicted, .decided) : (.inconclusive, .underpowered)
            parts.append(part)
            notes3.append(String(format: "%@: p = %.3f, 95%% bootstrap CI [%.3f, %.3f] (%d replicates, %d k values%@); predicted %.2g, alternative %.2g → %@",
                                 name, e.fit.p, e.low, e.high, e.replicates, e.kValuesUsed.count,
                                 e.fit.atSearchEdge ? ", p at the edge of its search interval" : "", p0, p1, part.0.rawValue))
        }
        var (verdict3, reason3) = compose(parts)
        // The span that counts is that of the k values the fits use (those with an escape), for the narrowest optimizer.
        let spans = estimates.map { ($0.key, $0.value.kValuesUsed.max()! / $0.value.kValuesUsed.min()!) }
        let allK = samples.values.flatMap { $0.map(\.k) }
        // Ties go to the first name in alphabetical order, so the note is the same in every run.
        let narrowest = spans.min { $0.1 != $1.1 ? $0.1 < $1.1 : $0.0 < $1.0 }
        let ratio = narrowest?.1 ?? (allK.max() ?? 0) / max(allK.min() ?? 1, .leastNonzeroMagnitude)
        let narrow = ratio < ClaimRules.minimumKRatio
        if narrow {
            notes3.insert(String(format: "the k values with escapes span a factor %.3g%@, under the %.0f (two decades) the rule needs: 1/k and 1/√k cannot be told apart",
                                 ratio, narrowest.map { " (\($0.0))" } ?? "", ClaimRules.minimumKRatio), at: 0)
            (verdict3, reason3) = (.inconclusive, .designCannotDiscriminate)
        }
        var c3 = ClaimVerdict(claim: 3, verdict: verdict3, reason: reason3, notes: notes3)
        c3.exponents = estimates

        var c4: ClaimVerdict
        if narrow {
            c4 = ClaimVerdict(claim: 4, verdict: .inconclusive, reason: .designCannotDiscriminate, notes: [notes3[0]])
        } else if let s = estimates["sgd"], let m = estimates["sgdm"] {
            // Independent resamples of the two optimizers, paired by replicate index.
            let n = min(s.bootstrap.count, m.bootstrap.count)
            let d = (0..<n).map { m.bootstrap[$0] - s.bootstrap[$0] }
            let lo = percentile(d, 0.025), hi = percentile(d, 0.975)
            let margin = ClaimRules.momentumExponentMargin
            let verdict: Verdict = lo >= -margin && hi <= margin ? .supported : (hi < -margin || lo > margin) ? .contradicted : .inconclusive
            c4 = ClaimVerdict(claim: 4, verdict: verdict, reason: verdict == .inconclusive ? .underpowered : .decided,
                              notes: [String(format: "p_sgdm − p_sgd = %.3f, 95%% bootstrap CI [%.3f, %.3f]; equivalence margin ±%.2f → %@",
                                             m.fit.p - s.fit.p, lo, hi, margin, verdict.rawValue)])
            c4.exponentDifference = [m.fit.p - s.fit.p, lo, hi]
        } else {
            c4 = ClaimVerdict(claim: 4, verdict: .inconclusive, reason: .runsFailed, notes: ["no exponent fit for sgd and sgdm"])
        }
        return (c3, c4)
    }

    /// A composed paired claim: `a` against each of `baselines`, values per seed.
    public static func pairs(claim: Int, a: [String], baselines: [String], values: [String: [Int: Double]],
                             lowerIsBetter: Bool, margin: Double, unit: String, epochs: [String: Int] = [:],
                             effects: [String: Double] = [:], label: String = "") -> ClaimVerdict {
        var notes: [String] = [], parts: [(Verdict, VerdictReason)] = []
        var comparisons: [String: PairedComparison] = [:]
        for x in a {
            for y in baselines {
                guard let vx = values[x], let vy = values[y] else {
                    notes.append("\(label)\(x) vs \(y): runs missing"); parts.append((.inconclusive, .runsFailed)); continue
                }
                let c = PairedComparison(a: x, b: y, valuesA: vx, valuesB: vy, lowerIsBetter: lowerIsBetter, margin: margin,
                                         effectOfInterest: effects["\(x)-vs-\(y)"], confidence: ClaimRules.confidence)
                comparisons["\(label)\(x)-vs-\(y)"] = c
                notes.append(label + describe(c, unit: unit))
                parts.append((c.verdict, c.reason))
            }
        }
        var (verdict, reason) = compose(parts)
        if let shortest = epochs.values.min(), shortest < ClaimRules.minimumEpochs, verdict != .inconclusive || reason == .underpowered {
            notes.append("runs of \(shortest) epochs, under the \(ClaimRules.minimumEpochs) the rule needs: the verdict would be \(verdict.rawValue), but the scale is too small to decide")
            (verdict, reason) = (.inconclusive, .scaleTooSmall)
        }
        var v = ClaimVerdict(claim: claim, verdict: verdict, reason: reason, notes: notes)
        v.comparisons = comparisons
        return v
    }

    /// Several models' composed parts of one claim (claim 6 over the scale's models).
    public static func merge(claim: Int, _ parts: [ClaimVerdict]) -> ClaimVerdict {
        let (verdict, reason) = compose(parts.map { ($0.verdict, $0.reason) })
        var v = ClaimVerdict(claim: claim, verdict: verdict, reason: reason, notes: parts.flatMap(\.notes))
        for p in parts { v.comparisons.merge(p.comparisons) { a, _ in a } }
        return v
    }
}

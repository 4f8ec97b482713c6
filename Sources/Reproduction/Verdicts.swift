import Foundation

func describe(_ c: PairedComparison, unit: String) -> String {
    if c.pairs < 2 { return "\(c.a) vs \(c.b): \(c.pairs) pair(s), too few for an interval → runs failed" }
    var s = String(format: "%@ vs %@: mean advantage %.4g %@, 95%% CI [%.4g, %.4g], %d/%d pairs won, margin %.4g → %@",
                   c.a, c.b, c.mean, unit, c.low, c.high, c.wins, c.pairs, c.margin, c.kind.rawValue)
    if c.kind == .underpowered, let mde = c.minimumDetectableEffect {
        s += String(format: " (underpowered: detectable effect %.4g; %@ pairs needed for an effect of %.4g)",
                    mde, c.pairsNeeded.map(String.init) ?? "over 10,000", c.effectOfInterest)
    }
    return s
}

public enum Verdicts {
    /// A composed paired claim: `a` against each of `baselines`, values per seed.
    public static func pairs(claim: String, a: [String], baselines: [String], values: [String: [Int: Double]],
                             lowerIsBetter: Bool, margin: Double, unit: String, epochs: [String: Int] = [:],
                             effects: [String: Double] = [:], label: String = "") -> ClaimVerdict {
        var notes: [String] = [], parts: [VerdictKind] = []
        var comparisons: [String: PairedComparison] = [:]
        for x in a {
            for y in baselines {
                guard let vx = values[x], let vy = values[y] else {
                    notes.append("\(label)\(x) vs \(y): runs missing"); parts.append(.runsFailed); continue
                }
                let c = PairedComparison(a: x, b: y, valuesA: vx, valuesB: vy, lowerIsBetter: lowerIsBetter, margin: margin,
                                         effectOfInterest: effects["\(x)-vs-\(y)"], confidence: ClaimRules.confidence)
                comparisons["\(label)\(x)-vs-\(y)"] = c
                notes.append(label + describe(c, unit: unit))
                parts.append(c.kind)
            }
        }
        var kind = compose(parts)
        if let shortest = epochs.values.min(), shortest < ClaimRules.minimumEpochs, kind.verdict != .inconclusive || kind == .underpowered {
            notes.append("runs of \(shortest) epochs, under the \(ClaimRules.minimumEpochs) the rule needs: the verdict would be \(kind.rawValue), but the scale is too small to decide")
            kind = .scaleTooSmall
        }
        var v = ClaimVerdict(claim: claim, kind: kind, notes: notes)
        v.comparisons = comparisons
        return v
    }

    /// Several models' composed parts of one claim (claim 6 over the scale's models).
    public static func merge(claim: String, _ parts: [ClaimVerdict]) -> ClaimVerdict {
        var v = ClaimVerdict(claim: claim, kind: compose(parts.map(\.kind)), notes: parts.flatMap(\.notes))
        for p in parts { v.comparisons.merge(p.comparisons) { a, _ in a } }
        return v
    }
}

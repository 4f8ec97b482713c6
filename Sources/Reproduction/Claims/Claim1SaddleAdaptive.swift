import Foundation

extension Claim {
    /// Claim 1: an adaptive learning rate escapes saddle points faster than SGD, the more so the flatter the escape direction.
    public static let saddleAdaptive = Claim(
        id: "1",
        title: "An adaptive learning rate escapes saddle points faster than SGD",
        paper: "§4 (Adam near a saddle, after Staib et al.; docs/paper.md §4.6)",
        prediction: "at a matched budget Adam travels further along the escape direction than SGD (its preconditioner rescales the noise there to unit size), and its advantage grows as the escape curvature shrinks",
        rule: "per escape curvature, log |x_esc| at the last step, Adam vs SGD paired by repeat, margin log 1.2; the scaling part: the advantage at the smallest |h| minus at the largest, at the early step, margin log 1.2; composed",
        paperScaleGain: "more repeats narrow the intervals; the saddle experiment is synthetic at every scale",
        needs: [.saddle],
        design: { scale in
            let p = scale.saddle
            guard let m = SaddleDesign.models(p) else { return [] }
            let l = SaddleDesign.labels(p)
            var checks = p.escapeCurvatures.map { h -> DesignCheck in
                let d = SaddleDesign.predicted(m.adaptive, m.reference, h: h, plan: p, steps: p.steps)
                return DesignCheck(part: SaddleDesign.part(h), statistic: "mean log |x_\(l.adaptive)| − log |x_\(l.reference)| at step \(p.steps)",
                                   prediction: d.mean, alternative: 0, halfWidth: SaddleDesign.halfWidth(sd: d.sd, repeats: p.repeats),
                                   basis: String(format: "closed form: %@ with v held at its saddle value σ²|h|, lr %.3g for the sharp spread of %@; alternative: no rescaling, %@ moves like the spread-matched %@", l.adaptive, m.adaptiveLR, l.reference, l.adaptive, l.reference))
            }
            let byFlatness = p.escapeCurvatures.sorted { abs($0) < abs($1) }
            if let flat = byFlatness.first, let sharp = byFlatness.last, flat != sharp {
                let a = SaddleDesign.predicted(m.adaptive, m.reference, h: flat, plan: p, steps: p.earlyStep)
                let b = SaddleDesign.predicted(m.adaptive, m.reference, h: sharp, plan: p, steps: p.earlyStep)
                checks.append(DesignCheck(part: scalingPart(flat, sharp), statistic: "advantage at h = \(formatNumber(flat)) minus at h = \(formatNumber(sharp)), step \(p.earlyStep)",
                                          prediction: a.mean - b.mean, alternative: 0,
                                          halfWidth: SaddleDesign.halfWidth(sd: (a.sd * a.sd + b.sd * b.sd).squareRoot(), repeats: p.repeats),
                                          basis: "closed form as above, before either optimizer leaves the linear regime; alternative: an advantage independent of h; the two curvatures' pairs taken as independent"))
            }
            return checks
        },
        judge: { context in
            let e = try context.saddle()
            let p = context.scale.saddle, l = SaddleDesign.labels(p)
            var notes: [String] = [], kinds: [VerdictKind] = [], comparisons: [String: PairedComparison] = [:]
            for h in p.escapeCurvatures {
                let part = SaddleDesign.part(h)
                if let check = context.refused(part) { notes.append("\(part): refused before running: \(check.line)"); continue }
                guard let a = e.final[formatNumber(h)]?[l.adaptive], let b = e.final[formatNumber(h)]?[l.reference] else {
                    notes.append("\(part): saddle runs missing"); kinds.append(.runsFailed); continue
                }
                let c = PairedComparison(a: l.adaptive, b: l.reference, valuesA: a, valuesB: b, lowerIsBetter: false,
                                         margin: ClaimRules.saddleMargin, confidence: ClaimRules.confidence)
                comparisons[part] = c; kinds.append(c.kind)
                notes.append("\(part): " + describe(c, unit: "log distance"))
            }
            let byFlatness = p.escapeCurvatures.sorted { abs($0) < abs($1) }
            if let flat = byFlatness.first, let sharp = byFlatness.last, flat != sharp {
                let part = scalingPart(flat, sharp)
                if let check = context.refused(part) { notes.append("\(part): refused before running: \(check.line)") } else {
                    func advantage(_ h: Double) -> [Int: Double] {
                        let a = e.early[formatNumber(h)]?[l.adaptive] ?? [:], b = e.early[formatNumber(h)]?[l.reference] ?? [:]
                        var out: [Int: Double] = [:]
                        for (r, x) in a { if let y = b[r] { out[r] = x - y } }
                        return out
                    }
                    let c = PairedComparison(a: "h=\(formatNumber(flat))", b: "h=\(formatNumber(sharp))", valuesA: advantage(flat), valuesB: advantage(sharp),
                                             lowerIsBetter: false, margin: ClaimRules.saddleMargin, confidence: ClaimRules.confidence)
                    comparisons[part] = c; kinds.append(c.kind)
                    notes.append("\(part) (\(l.adaptive)'s advantage at step \(p.earlyStep)): " + describe(c, unit: "log distance"))
                }
            }
            var kind = compose(kinds)
            notes.append("lr search of \(l.adaptive): " + (e.search.last ?? "none"))
            if !e.searchConverged {
                notes.append("the lr search did not reach the reference's sharp spread within \(formatNumber(100 * p.searchTolerance))%: the budget is not matched")
                kind = .tuningNotConverged
            }
            var v = ClaimVerdict(claim: "1", kind: kind, notes: notes)
            v.comparisons = comparisons
            return v
        },
        figure: { context, _ in
            let l = SaddleDesign.labels(context.scale.saddle)
            return try SaddleDesign.figure(context, title: "Claim 1: \(l.adaptive) and \(l.reference) at a saddle (matched sharp spread)",
                                           optimizers: [l.reference, l.adaptive])
        },
        scope: SaddleDesign.scope)

    static func scalingPart(_ flat: Double, _ sharp: Double) -> String { "scaling h = \(formatNumber(flat)) vs \(formatNumber(sharp))" }
}

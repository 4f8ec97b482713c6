import Foundation

extension Claim {
    /// Claim 3: escape from a minimum depends on its sharpness k like e^(−c/k) for SGD, SGD-M and Adai and like
    /// e^(−c/√k) for Adam; judged by the local sensitivity S = d log Γ / d log k at a matched escape rate.
    public static let escapeSharpness = Claim(
        id: "3",
        title: "−log Γ grows like 1/k for SGD, SGD-M and Adai and like 1/√k for Adam",
        paper: "§6, Fig. 6, App. E; the exponents follow from the paper's propositions (docs/paper.md §5.6)",
        prediction: "at a matched escape rate, S_Adam/S_SGD ≈ ½ before the Kramers prefactor, (S_SGD + 1)/(2·S_SGD) with it (0.56 at −log Γ ≈ 7); S_SGD-M/S_SGD = S_Adai/S_SGD = 1",
        rule: "per optimizer, the 95% bootstrap interval of S/S_SGD lies on the prediction's side of the midpoint between prediction and alternative (supported) or on the alternative's (contradicted); composed",
        paperScaleGain: "more repeats narrow the intervals; the escape experiment is synthetic at every scale",
        needs: [.escape],
        design: { scale in
            let p = scale.escape
            let s = EscapeSensitivity.plannedReferenceSensitivity(targetSteps: p.targetSteps)
            return EscapeDesign.predictions(p, referenceSensitivity: s).map { x in
                DesignCheck(part: x.name, statistic: "S_\(x.name)/S_\(p.reference)", prediction: x.prediction, alternative: x.alternative,
                            halfWidth: EscapeDesign.halfWidth(p, ratio: x.prediction), basis: EscapeDesign.basis)
            }
        },
        judge: { context in
            let e = try context.escape()
            let p = context.scale.escape
            let (s, ratios) = EscapeSensitivity.ratios(samples: e.samples, reference: p.reference, replicates: p.bootstrapReplicates, seed: 0)
            guard let sRef = s[p.reference] else {
                return ClaimVerdict(claim: "3", kind: .runsFailed, notes: ["\(p.reference): no escape at k = \(formatNumber(p.ks.first!)) or \(formatNumber(p.ks.last!)); S cannot be computed"])
            }
            var notes = [String(format: "S_%@ = %.3f (the reference); the prediction for the 1/√k law with the Kramers prefactor at this S: %.3f (½ without it)",
                                p.reference, sRef, EscapeSensitivity.predictedAdamRatio(referenceSensitivity: sRef))]
            var kinds: [VerdictKind] = []
            for x in EscapeDesign.predictions(p, referenceSensitivity: sRef) {
                if let check = context.refused(x.name) { notes.append("\(x.name): refused before running: \(check.line)"); continue }
                guard let r = ratios[x.name] else { notes.append("\(x.name): no S (no escape at an end of the k range)"); kinds.append(.runsFailed); continue }
                let kind = e.converged[x.name] == false || e.converged[p.reference] == false ? .tuningNotConverged
                    : VerdictKind.sided(low: r.low, high: r.high, prediction: x.prediction, alternative: x.alternative)
                kinds.append(kind)
                notes.append(String(format: "%@: S = %.3f, S/S_%@ = %.3f, 95%% bootstrap CI [%.3f, %.3f] (%d replicates); predicted %.3f, alternative %.3f, midpoint %.3f → %@",
                                    x.name, s[x.name] ?? .nan, p.reference, r.value, r.low, r.high, r.replicates, x.prediction, x.alternative,
                                    0.5 * (x.prediction + x.alternative), kind.rawValue))
            }
            notes += e.calibration.map { "calibration: " + $0 }
            var v = ClaimVerdict(claim: "3", kind: compose(kinds), notes: notes)
            v.ratios = ratios
            return v
        },
        figure: { context, _ in EscapeDesign.figure(context, title: "Claim 3: −log Γ against k at a matched rate (slope −S)", optimizers: nil) },
        scope: EscapeDesign.scope)
}

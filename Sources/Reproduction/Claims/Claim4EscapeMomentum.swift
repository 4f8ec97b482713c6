import Foundation

extension Claim {
    /// Claim 4: momentum hardly changes flat-minima selection: S_SGD-M/S_SGD is 1 within ±0.25.
    public static let escapeMomentum = Claim(
        id: "4",
        title: "Momentum hardly changes flat-minima selection",
        paper: "§6 (Fig. 6): SGD and Momentum depend on the sharpness in the same way",
        prediction: "S_SGD-M/S_SGD = 1 at a matched escape rate",
        rule: "equivalence: the 95% bootstrap interval of S_SGD-M/S_SGD inside [1 − 0.25, 1 + 0.25] (supported), entirely outside it (contradicted)",
        paperScaleGain: "as claim 3",
        needs: [.escape],
        design: { scale in
            let p = scale.escape
            let momentum = p.optimizers.map(EscapeDesign.label).first { $0.hasPrefix("sgdm") } ?? "sgdm"
            return [DesignCheck(part: momentum, statistic: "S_\(momentum)/S_\(p.reference)", prediction: 1,
                                alternative: 1 - ClaimRules.momentumSensitivityMargin, halfWidth: EscapeDesign.halfWidth(p, ratio: 1),
                                equivalenceMargin: ClaimRules.momentumSensitivityMargin, basis: EscapeDesign.basis)]
        },
        judge: { context in
            let e = try context.escape()
            let p = context.scale.escape
            let momentum = p.optimizers.map(EscapeDesign.label).first { $0.hasPrefix("sgdm") } ?? "sgdm"
            if let check = context.refused(momentum) { return ClaimVerdict.refused("4", [check]) }
            let (_, ratios) = EscapeSensitivity.ratios(samples: e.samples, reference: p.reference, replicates: p.bootstrapReplicates, seed: 0)
            guard let r = ratios[momentum] else {
                return ClaimVerdict(claim: "4", kind: .runsFailed, notes: ["no S for \(momentum) or \(p.reference) (no escape at an end of the k range)"])
            }
            let m = ClaimRules.momentumSensitivityMargin
            let kind = e.converged[momentum] == false || e.converged[p.reference] == false ? .tuningNotConverged
                : VerdictKind.equivalence(low: r.low, high: r.high, center: 1, margin: m)
            var v = ClaimVerdict(claim: "4", kind: kind, notes: [String(format: "S_%@/S_%@ = %.3f, 95%% bootstrap CI [%.3f, %.3f] (%d replicates); equivalence margin 1 ± %.2f → %@",
                                                                      momentum, p.reference, r.value, r.low, r.high, r.replicates, m, kind.rawValue)])
            v.ratios = [momentum: r]
            return v
        },
        figure: { context, _ in
            let p = context.scale.escape
            let momentum = p.optimizers.map(EscapeDesign.label).first { $0.hasPrefix("sgdm") } ?? "sgdm"
            return EscapeDesign.figure(context, title: "Claim 4: −log Γ against k, \(p.reference) and \(momentum)", optimizers: [p.reference, momentum])
        },
        scope: EscapeDesign.scope)
}

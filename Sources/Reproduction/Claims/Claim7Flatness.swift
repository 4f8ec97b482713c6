import Foundation
import Plot

extension Claim {
    /// Claim 7: the solutions of Adai and SGD-M are flatter than Adam's (Fig. 7, Fig. 14).
    public static let flatness = Claim(
        id: "7",
        title: "The solutions of Adai and SGD-M are flatter than Adam's, and Adai's flatter than SGD-M's",
        paper: "§6, Fig. 7 (top Hessian eigenvalues) and Fig. 14, App. F (expected sharpness)",
        prediction: "the top Hessian eigenvalue at Adai's and SGD-M's final checkpoints is below Adam's, and Adai's below SGD-M's",
        rule: "top Hessian eigenvalue of the final checkpoints, paired by seed; log λ_Adam − log λ (Adai, SGD-M) and log λ_SGD-M − log λ_Adai; margin log 1.2; regime check",
        paperScaleGain: "Hessians of ResNet18 trained for 200 epochs",
        needs: [.training, .hessian],
        design: { _ in [] },
        judge: { context in
            let h = context.scale.hessian
            guard let e = try context.training(for: "7").first(where: { $0.experiment == h.experiment }) else {
                return ClaimVerdict(claim: "7", kind: .runsFailed, notes: ["the scale lists no training runs of \(h.experiment) for claim 7"])
            }
            let logTop = try context.runner.runHessian(e)
            // Fig. 7: Adai and SGD-M flatter than Adam, and Adai flatter than SGD-M (docs/claims.md, claim 7).
            let againstAdam = Verdicts.pairs(claim: "7", a: h.optimizers.filter { $0 != "adam" }, baselines: ["adam"], values: logTop,
                                             lowerIsBetter: true, margin: ClaimRules.sharpnessMargin, unit: "log λ_max")
            var parts = [againstAdam]
            if h.optimizers.contains("adai") && h.optimizers.contains("sgdm") {
                parts.append(Verdicts.pairs(claim: "7", a: ["adai"], baselines: ["sgdm"], values: logTop, lowerIsBetter: true,
                                            margin: ClaimRules.sharpnessMargin, unit: "log λ_max"))
            }
            var v = context.trainingChecked(Verdicts.merge(claim: "7", parts), experiment: e.experiment, optimizers: h.optimizers)
            let sharpness = try context.runner.runSharpness(e)
            v.notes.append("expected sharpness at σ = \(formatNumber(h.sigma)) (reported beside the rule, not decisive): "
                           + sharpness.keys.sorted().map { name in
                               let values = inSeedOrder(sharpness[name]!)
                               return "\(name) \(formatNumber(values.reduce(0, +) / Double(values.count))) (mean of \(values.count))"
                           }.joined(separator: ", "))
            v.notes += weightNormFree(logTop: logTop, kernelNorms: context.runner.runKernelNorms(e), optimizers: h.optimizers)
            return context.runner.withFailures(v, [e])
        },
        figure: { context, _ in
            let h = context.scale.hessian
            guard let e = try context.training(for: "7").first(where: { $0.experiment == h.experiment }) else { return nil }
            let logTop = try context.runner.runHessian(e)
            // One marker per seed: the seeds are separate runs, not a sequence, so no line joins them.
            let series = logTop.keys.sorted().map { name -> Series in
                var s = Series(name: name, xs: logTop[name]!.keys.sorted().map(Double.init), ys: logTop[name]!.keys.sorted().map { logTop[name]![$0]! })
                s.connected = false
                return s
            }
            var chart = LineChart(title: "Claim 7: top Hessian eigenvalue per seed", xLabel: "seed", yLabel: "log λ_max", series: series)
            chart.markers = true
            return chart
        },
        scope: { context in
            let h = context.scale.hessian
            let lrs = context.trainingEvidence[h.experiment].map { e in
                "; final lr " + h.optimizers.map { name in "\(name) \(e.finalLR[name].map(formatNumber) ?? "?")" }.joined(separator: ", ")
            } ?? ""
            return TrainingScope.line(context, claim: "7") + lrs
                + "; top Hessian eigenvalue (\(h.iterations) Lanczos iterations) and expected sharpness (σ \(formatNumber(h.sigma)), \(h.sharpnessSamples) draws) on \(h.batches) × \(h.batchSize) training examples of the final checkpoints of \(h.optimizers.joined(separator: ", "))"
        })
}

/// Claim 7's weight-norm-free sharpness, reported beside the rule (docs/claims.md, claim 7): per seed
/// log(λ_max · Σ‖W_conv‖²) = log λ_max + log Σ‖W_conv‖², the same pairs and paired rule as the decisive
/// statistic, and each optimizer's mean kernel norm.
func weightNormFree(logTop: [String: [Int: Double]], kernelNorms: [String: [Int: Double]], optimizers: [String]) -> [String] {
    var normalized: [String: [Int: Double]] = [:]
    for (name, seeds) in logTop {
        for (seed, l) in seeds {
            if let n = kernelNorms[name]?[seed], n > 0 { normalized[name, default: [:]][seed] = l + Foundation.log(n) }
        }
    }
    guard !normalized.isEmpty else {
        return ["weight-norm-free sharpness (reported beside the rule): not computed, no checkpoint's kernel norm could be read"]
    }
    let norms = optimizers.compactMap { name -> String? in
        guard let values = kernelNorms[name].map({ inSeedOrder($0) }), !values.isEmpty else { return nil }
        return "\(name) \(formatNumber(values.reduce(0, +) / Double(values.count)))"
    }
    var notes = ["weight-norm-free sharpness log(λ_max · Σ‖W_conv‖²), reported beside the rule and not decisive (Σ‖W_conv‖² over the convolution kernels, each feeding a batch-norm layer; mean per optimizer: "
                 + norms.joined(separator: ", ") + ")"]
    let label = "weight-norm-free: "
    var parts = [Verdicts.pairs(claim: "7", a: optimizers.filter { $0 != "adam" }, baselines: ["adam"], values: normalized,
                                lowerIsBetter: true, margin: ClaimRules.sharpnessMargin, unit: "log(λ·‖W‖²)", label: label)]
    if optimizers.contains("adai") && optimizers.contains("sgdm") {
        parts.append(Verdicts.pairs(claim: "7", a: ["adai"], baselines: ["sgdm"], values: normalized, lowerIsBetter: true,
                                    margin: ClaimRules.sharpnessMargin, unit: "log(λ·‖W‖²)", label: label))
    }
    let merged = Verdicts.merge(claim: "7", parts)
    notes += merged.notes
    notes.append("\(label)the paired rule on this statistic would say \(merged.kind.rawValue)")
    return notes
}

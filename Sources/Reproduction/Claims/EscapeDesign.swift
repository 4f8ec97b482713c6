import Analyses
import Foundation
import Plot

/// What claims 3 and 4 share: the predicted sensitivity ratios, the scope line and the figure.
enum EscapeDesign {
    static func label(_ spec: String) -> String { (try? OptimizerChoice(parsing: spec).label) ?? spec }

    /// The optimizers compared with the reference, and each one's predicted S/S_ref and alternative, from S_ref
    /// (planned before the run, measured after it).
    static func predictions(_ plan: EscapePlan, referenceSensitivity s: Double) -> [(name: String, prediction: Double, alternative: Double)] {
        let adamLike = EscapeSensitivity.predictedAdamRatio(referenceSensitivity: s)
        return plan.optimizers.map(label).filter { $0 != plan.reference }.map { name in
            name.hasPrefix("adam") ? (name, adamLike, 1) : (name, 1, adamLike)
        }
    }

    static func halfWidth(_ plan: EscapePlan, ratio: Double) -> Double {
        EscapeSensitivity.expectedHalfWidth(ratio: ratio, referenceSensitivity: EscapeSensitivity.plannedReferenceSensitivity(targetSteps: plan.targetSteps),
                                            repeats: plan.repeats, kFactor: plan.kFactor)
    }

    static let basis = "Kramers: −log Γ = c·k^(−p) − log(prefactor ∝ k), so S = p·c + 1 with c = log(target steps) at a matched rate; S_ref/√k-law ratio (c/2 + 1)/(c + 1); half-width from Var log Γ̂ ≈ 1/escapes, the optimizers taken as independent"

    static func scope(_ context: ClaimContext) -> String {
        let p = context.scale.escape
        var s = "escape from a \(p.dimension)-D Styblinski–Tang valley (\(p.samples) samples, batch 1), k ∈ {\(p.ks.map { String(format: "%.3g", $0) }.joined(separator: ", "))}; "
            + "\(p.repeats) repeats per k and optimizer compared (the same noise streams for every optimizer), cap \(p.maxSteps) steps; lrs set for a mean escape of \(formatNumber(p.targetSteps)) steps at k = 1"
        if let e = context.escapeEvidence {
            s += ": " + e.lrs.keys.sorted().map { "\($0) \(formatNumber(e.lrs[$0]!))\(e.converged[$0] == false ? " (not converged)" : "")" }.joined(separator: ", ")
        }
        return s + "; the paper: 100 repeats, its k values and step counts not legible (docs/paper.md §4.5)"
    }

    /// −log Γ̂ against k per optimizer, with ±1.96/√escapes error bars: the slope in log k is −S.
    static func figure(_ context: ClaimContext, title: String, optimizers: [String]?) -> LineChart? {
        guard let e = context.escapeEvidence else { return nil }
        var series: [Series] = []
        for name in (optimizers ?? e.samples.keys.sorted()) {
            guard let samples = e.samples[name]?.filter({ $0.rate != nil }), !samples.isEmpty else { continue }
            var s = Series(name: name, xs: samples.map(\.k), ys: samples.map { -Foundation.log($0.rate!) })
            let half = samples.map { 1.96 / Double($0.escaped.filter { $0 }.count).squareRoot() }
            s.errorLow = zip(s.ys, half).map { $0 - $1 }; s.errorHigh = zip(s.ys, half).map { $0 + $1 }
            series.append(s)
        }
        var chart = LineChart(title: title, xLabel: "k (sharpness)", yLabel: "−log Γ (log mean escape steps)", series: series, logX: true)
        chart.markers = true
        return chart
    }
}

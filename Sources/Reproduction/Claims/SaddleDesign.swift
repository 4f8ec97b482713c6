import Analyses
import Foundation
import Plot
import Reports

/// What claims 1 and 2 share: the saddle plan's optimizers as closed-form models, the interval widths the
/// repeats give, the scope line and the figure.
enum SaddleDesign {
    struct Models { var reference: SaddleTheory.Model, adaptive: SaddleTheory.Model, momentum: SaddleTheory.Model; var adaptiveLR: Double }

    static func labels(_ plan: SaddlePlan) -> (reference: String, adaptive: String, momentum: String, cold: String) {
        let r = (try? OptimizerChoice(parsing: plan.reference).label) ?? "sgd"
        let a = (try? OptimizerChoice(parsing: plan.adaptive).label) ?? "adam"
        let m = (try? OptimizerChoice(parsing: plan.momentum).label) ?? "sgdm"
        return (r, a, m, "\(m)-cold")
    }

    /// The plan's optimizers as linear models; the adaptive one at the lr whose closed-form sharp spread equals the
    /// reference's (the run searches it again on simulated repeats).
    static func models(_ plan: SaddlePlan) -> Models? {
        guard let reference = try? OptimizerChoice(parsing: plan.reference), let refModel = try? SaddleTheory.Model(reference),
              case let .sgd(lr) = refModel,
              let adaptive = try? OptimizerChoice(parsing: plan.adaptive), case let .adam(_, beta1)? = try? SaddleTheory.Model(adaptive),
              let momentum = try? OptimizerChoice(parsing: plan.momentum), case let .sgdm(_, beta)? = try? SaddleTheory.Model(momentum)
        else { return nil }
        let h = plan.sharpCurvatures[0]
        let target = SaddleTheory.spread(refModel, curvature: h)
        var lo = Foundation.log(1e-4), hi = Foundation.log(10.0)
        for _ in 0..<40 {
            let mid = 0.5 * (lo + hi)
            if SaddleTheory.spread(.adam(lr: exp(mid), beta1: beta1), curvature: h) > target { hi = mid } else { lo = mid }
        }
        let adaptiveLR = exp(0.5 * (lo + hi))
        return Models(reference: refModel, adaptive: .adam(lr: adaptiveLR, beta1: beta1), momentum: .sgdm(lr: lr * (1 - beta), momentum: beta),
                      adaptiveLR: adaptiveLR)
    }

    /// Predicted mean of log|x_A| − log|x_B| at `steps`, and its per-pair standard deviation.
    static func predicted(_ a: SaddleTheory.Model, _ b: SaddleTheory.Model, h: Double, plan: SaddlePlan, steps: Int)
        -> (mean: Double, sd: Double) {
        let j = SaddleTheory.joint(a, b, curvature: h, warm: plan.warmSteps, steps: steps)
        return (0.5 * Foundation.log(j.varianceA / j.varianceB), SaddleTheory.logRatioSD(correlation: j.correlation))
    }

    static func halfWidth(sd: Double, repeats n: Int) -> Double {
        studentTQuantile(1 - (1 - ClaimRules.confidence) / 2, df: Double(n - 1)) * sd / Double(n).squareRoot()
    }

    static func part(_ h: Double) -> String { "h = \(formatNumber(h))" }

    static func scope(_ context: ClaimContext) -> String {
        let p = context.scale.saddle, l = labels(p)
        var s = "quadratic saddle: \(p.sharpCurvatures.count) sharp directions (h = \(p.sharpCurvatures.map(formatNumber).joined(separator: ", "))) and one escape direction per run, h ∈ {\(p.escapeCurvatures.map(formatNumber).joined(separator: ", "))}, each judged on its own; "
            + "\(p.repeats) repeats compared per curvature (paired by repeat, the same noise streams), \(p.steps) steps after \(p.warmSteps) warm steps at the saddle (the paper gives no numeric saddle experiment: no paper steps to compare); "
        if let e = context.saddleEvidence {
            s += "lrs " + [l.reference, l.adaptive, l.momentum].map { "\($0) \(e.lrs[$0].map(formatNumber) ?? "—")" }.joined(separator: ", ")
                + " (\(l.adaptive)'s searched for the sharp-direction spread of \(l.reference); \(l.momentum) at \(l.reference)'s η/(1 − β)); sharp-direction spread "
                + [l.reference, l.adaptive, l.momentum].map { "\($0) \(e.sharpSpread[$0].map { String(format: "%.3g", $0) } ?? "—")" }.joined(separator: ", ")
        } else {
            s += "budget: \(l.adaptive)'s lr searched for the sharp-direction spread of \(p.reference), \(l.momentum) at its η/(1 − β)"
        }
        return s
    }

    /// Mean x² along the escape direction (one series per optimizer and curvature) and over the sharp
    /// directions (one per optimizer), against the step.
    static func figure(_ context: ClaimContext, title: String, optimizers: [String]) throws -> LineChart? {
        guard let e = context.saddleEvidence else { return nil }
        let p = context.scale.saddle
        var series: [Series] = []
        let xs = e.steps.map { Double(max($0, 1)) }
        for h in p.escapeCurvatures {
            for name in optimizers {
                guard let c = e.curves[formatNumber(h)]?[name] else { continue }
                series.append(Series(name: "\(name) escape h=\(formatNumber(h))", xs: xs, ys: c.escape))
            }
        }
        for name in optimizers {
            guard let c = e.curves[formatNumber(p.escapeCurvatures[0])]?[name] else { continue }
            series.append(Series(name: "\(name) sharp spread", xs: xs, ys: c.sharp))
        }
        return LineChart(title: title, xLabel: "step", yLabel: "mean x² (escape direction; sharp directions)", series: series, logY: true)
    }
}

import Engine
import Foundation

/// AdaBound and AMSBound, as in the authors' reference code (Luo et al. 2019; docs/paper.md §3.5).
///
///     g ← g + wd·θ                                            (L2)
///     m ← β₁·m + (1 − β₁)·g      v ← β₂·v + (1 − β₂)·g²
///     v ← max(vmax, v)                                         (amsbound)
///     η* = finalLr · lr / initialLr                            (the final lr follows the schedule)
///     lower = η*·(1 − 1/(γt + 1))      upper = η*·(1 + 1/(γt))
///     θ ← θ − clamp(lr·√(1 − β₂ᵗ)/(1 − β₁ᵗ) / (√v + ε), lower, upper) · m
///
/// Defaults: lr 1e-3, betas (0.9, 0.999), finalLr 0.1, gamma 1e-3, eps 1e-8, weightDecay 0,
/// amsbound false.
final class AdaBoundOptimizer: OptimizerCore<AdaBoundOptimizer.Settings> {
    struct Settings {
        var betas: (Double, Double)
        var finalLr: Double
        var gamma: Double
        var eps: Double
        var weightDecay: Double
        var amsbound: Bool
    }

    /// The registration (see OptimizerRegistration): names, bench settings, default lr, settings reader, class.
    static let registration = OptimizerRegistration(
        position: 3, [.init("adabound", benchOptions: ["weightDecay": .number(5e-4)], benchBytesPerElement: 28)],
        defaultLr: { _ in 1e-3 }, settings: settings, type: AdaBoundOptimizer.self)

    /// Reads and checks one group's settings: every key but `lr` (read first, by the same rule for every optimizer).
    static func settings(_ name: String, _ r: inout OptionReader) -> Settings {
        Settings(
            betas: r.pair("betas", default: (0.9, 0.999), .unit(includingOne: false), .unit(includingOne: false)),
            finalLr: r.number("finalLr", default: 0.1, .nonNegative),
            gamma: r.number("gamma", default: 1e-3, .unit(includingOne: false)),
            eps: r.number("eps", default: 1e-8, .nonNegative),
            weightDecay: r.number("weightDecay", default: 0, .nonNegative),
            amsbound: r.bool("amsbound", default: false))
    }


    override func bufferLayout(_ s: Settings) -> [(name: String, initial: Float)] {
        [("exp_avg", 0), ("exp_avg_sq", 0)] + (s.amsbound ? [("max_exp_avg_sq", 0)] : [])
    }

    override func update(_ p: Active, lr: Double, settings s: Settings) {
        let theta = p.value.data, grad = p.gradient.data
        let m = p.buffer("exp_avg"), v = p.buffer("exp_avg_sq")
        let t = Double(p.slot.step)
        let (beta1, beta2) = s.betas
        let stepSize = Float(lr * (1 - pow(beta2, t)).squareRoot() / (1 - pow(beta1, t)))
        let finalLr = s.finalLr * lr / groups[p.group].initialLr
        let lower = Float(finalLr * (1 - 1 / (s.gamma * t + 1)))
        let upper = Float(finalLr * (1 + 1 / (s.gamma * t)))
        let wd = Float(s.weightDecay), b1 = Float(beta1), w1 = Float(1 - beta1), b2 = Float(beta2), w2 = Float(1 - beta2)
        let eps = Float(s.eps)
        @inline(__always) func moments(_ i: Int) -> (m: Float, v: Float) {
            let g = grad[i] + wd * theta[i]  // wd = 0 adds exactly 0
            let mi = m[i] * b1 + w1 * g
            let vi = v[i] * b2 + w2 * g * g
            m[i] = mi
            v[i] = vi
            return (mi, vi)
        }
        @inline(__always) func bounded(_ vUsed: Float) -> Float {
            min(max(stepSize / (vUsed.squareRoot() + eps), lower), upper)
        }
        if s.amsbound {
            let vmax = p.buffer("max_exp_avg_sq")
            forEachChunk(p.value.count) { r in
                for i in r {
                    let (mi, vi) = moments(i)
                    let vUsed = max(vmax[i], vi)
                    vmax[i] = vUsed
                    theta[i] = theta[i] - bounded(vUsed) * mi
                }
            }
        } else {
            forEachChunk(p.value.count) { r in
                for i in r {
                    let (mi, vi) = moments(i)
                    theta[i] = theta[i] - bounded(vi) * mi
                }
            }
        }
    }
}


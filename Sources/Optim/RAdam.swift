import Engine
import Foundation

/// RAdam, the official code (Liu et al. 2020; docs/paper.md §3.8). No L2: weight decay is decoupled
/// and, like the update, skipped in steps that make none.
///
///     m ← β₁·m + (1 − β₁)·g      v ← β₂·v + (1 − β₂)·g²
///     ρ∞ = 2/(1 − β₂) − 1        ρt = ρ∞ − 2t·β₂ᵗ/(1 − β₂ᵗ)
///     ρt ≥ 5:             θ ← θ − wd·lr·θ;  θ ← θ − lr·rt/(1 − β₁ᵗ) · m/(√v + ε)
///                         rt = √((1 − β₂ᵗ)(ρt − 4)(ρt − 2)ρ∞ / ((ρ∞ − 4)(ρ∞ − 2)ρt))
///     else, degeneratedToSGD: θ ← θ − wd·lr·θ;  θ ← θ − lr/(1 − β₁ᵗ) · m
///     else:               no change to θ this step
///
/// Defaults: lr 1e-3, betas (0.9, 0.999), eps 1e-8, weightDecay 0, degeneratedToSGD false
/// (the code since 2021-07-31; the 2020 code, which the paper's runs may have used, had true).
final class RAdamOptimizer: OptimizerCore<RAdamOptimizer.Settings> {
    struct Settings {
        var betas: (Double, Double)
        var eps: Double
        var weightDecay: Double
        var degeneratedToSGD: Bool
    }

    /// The registration (see OptimizerRegistration): names, bench settings, default lr, settings reader, class.
    static let registration = OptimizerRegistration(
        position: 6, [.init("radam", benchOptions: ["weightDecay": .number(5e-4)], benchBytesPerElement: 28)],
        defaultLr: { _ in 1e-3 }, settings: settings, type: RAdamOptimizer.self)

    /// Reads and checks one group's settings: every key but `lr` (read first, by the same rule for every optimizer).
    static func settings(_ name: String, _ r: inout OptionReader) -> Settings {
        Settings(
            betas: r.pair("betas", default: (0.9, 0.999), .unit(includingOne: false), .unit(includingOne: false)),
            eps: r.number("eps", default: 1e-8, .nonNegative),
            weightDecay: r.number("weightDecay", default: 0, .nonNegative),
            degeneratedToSGD: r.bool("degeneratedToSGD", default: false))
    }


    override func bufferLayout(_ s: Settings) -> [(name: String, initial: Float)] {
        [("exp_avg", 0), ("exp_avg_sq", 0)]
    }

    override func update(_ p: Active, lr: Double, settings s: Settings) {
        let theta = p.value.data, grad = p.gradient.data
        let m = p.buffer("exp_avg"), v = p.buffer("exp_avg_sq")
        let (beta1, beta2) = s.betas
        let b1 = Float(beta1), w1 = Float(1 - beta1), b2 = Float(beta2), w2 = Float(1 - beta2)
        let rect = Rectification(step: p.slot.step, betas: s.betas, degeneratedToSGD: s.degeneratedToSGD)
        let decay = Float(-s.weightDecay * lr)  // θ + (−wd·lr)·θ; 0 adds exactly 0
        let stepSize = Float(-rect.stepSize * lr), eps = Float(s.eps)
        @inline(__always) func moments(_ i: Int) -> (m: Float, v: Float) {
            let g = grad[i]
            let vi = v[i] * b2 + w2 * g * g
            let mi = m[i] * b1 + w1 * g
            v[i] = vi
            m[i] = mi
            return (mi, vi)
        }
        if rect.adaptive {
            forEachChunk(p.value.count) { r in
                for i in r {
                    let (mi, vi) = moments(i)
                    let x = theta[i] + decay * theta[i]
                    theta[i] = x + stepSize * (mi / (vi.squareRoot() + eps))
                }
            }
        } else if rect.stepSize > 0 {
            forEachChunk(p.value.count) { r in
                for i in r {
                    let (mi, _) = moments(i)
                    let x = theta[i] + decay * theta[i]
                    theta[i] = x + stepSize * mi
                }
            }
        } else {
            forEachChunk(p.value.count) { r in for i in r { _ = moments(i) } }
        }
    }
}

/// RAdam's variance rectification at step t, as the official code computes it (also used by
/// AdaMomentum's `rectify` switch).
struct Rectification {
    /// ρt ≥ 5: take the rectified adaptive step.
    let adaptive: Bool
    /// rt/(1 − β₁ᵗ) when adaptive; 1/(1 − β₁ᵗ) for an SGD-style step; −1 for no step.
    let stepSize: Double

    init(step t: Int, betas: (Double, Double), degeneratedToSGD: Bool) {
        let (beta1, beta2) = betas
        let beta2t = power(beta2, t)
        let rhoMax = 2 / (1 - beta2) - 1
        let rho = rhoMax - 2 * Double(t) * beta2t / (1 - beta2t)
        adaptive = rho >= 5
        if adaptive {
            stepSize = ((1 - beta2t) * (rho - 4) / (rhoMax - 4) * (rho - 2) / rho * rhoMax / (rhoMax - 2)).squareRoot()
                / (1 - power(beta1, t))
        } else if degeneratedToSGD {
            stepSize = 1.0 / (1 - power(beta1, t))
        } else {
            stepSize = -1
        }
    }
}

import Engine
import Foundation

/// AdaMomentum / AdaM3 (Wang et al., arXiv 2106.11514), the official code (docs/paper.md §3.10):
/// Adam whose second moment is that of the momentum, not of the gradient.
///
///     θ ← θ·(1 − lr·wd), or θ·(1 − wd) with fixedDecay  (weightDecouple, the default)
///     g ← g + wd·θ                                      (otherwise: L2)
///     m ← β₁·m + (1 − β₁)·g
///     v ← β₂·v + (1 − β₂)·m²;  v ← v + ε                (the new m; ε accumulates inside v, only there)
///     vmax ← max(vmax, v)                               (amsgrad)
///     θ ← θ − lr/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ))
///     rectify (RAdam's rule): ρt ≥ 5: θ ← θ − lr·rt/(1 − β₁ᵗ) · m/(√v + ε) (v, not vmax);
///                             else degeneratedToSGD: θ ← θ − lr/(1 − β₁ᵗ)·m; else no step
///
/// Defaults of the class: lr 1e-3, betas (0.9, 0.999), eps 1e-16, weightDecay 0, amsgrad false,
/// weightDecouple true, fixedDecay false, rectify false, degeneratedToSGD true. The authors'
/// CIFAR script passes eps 1e-8 and weightDecouple false (L2 5e-4).
final class AdaMomentumOptimizer: OptimizerCore<AdaMomentumOptimizer.Settings> {
    struct Settings {
        var betas: (Double, Double)
        var eps: Double
        var weightDecay: Double
        var amsgrad: Bool
        var weightDecouple: Bool
        var fixedDecay: Bool
        var rectify: Bool
        var degeneratedToSGD: Bool
    }

    /// The registration (see OptimizerRegistration): names, bench settings, default lr, settings reader, class.
    static let registration = OptimizerRegistration(
        position: 8, [.init("adamomentum", benchOptions: ["weightDecay": .number(5e-4), "weightDecouple": .bool(false), "eps": .number(1e-8)], benchBytesPerElement: 28)],
        defaultLr: { _ in 1e-3 }, settings: settings, type: AdaMomentumOptimizer.self)

    /// Reads and checks one group's settings: every key but `lr` (read first, by the same rule for every optimizer).
    static func settings(_ name: String, _ r: inout OptionReader) -> Settings {
        Settings(
            betas: r.pair("betas", default: (0.9, 0.999), .unit(includingOne: false), .unit(includingOne: false)),
            eps: r.number("eps", default: 1e-16, .nonNegative),
            weightDecay: r.number("weightDecay", default: 0, .nonNegative),
            amsgrad: r.bool("amsgrad", default: false),
            weightDecouple: r.bool("weightDecouple", default: true),
            fixedDecay: r.bool("fixedDecay", default: false),
            rectify: r.bool("rectify", default: false),
            degeneratedToSGD: r.bool("degeneratedToSGD", default: true))
    }


    override func bufferLayout(_ s: Settings) -> [(name: String, initial: Float)] {
        [("exp_avg", 0), ("exp_avg_var", 0)] + (s.amsgrad ? [("max_exp_avg_var", 0)] : [])
    }

    override func update(_ p: Active, lr: Double, settings s: Settings) {
        let theta = p.value.data, grad = p.gradient.data
        let m = p.buffer("exp_avg"), v = p.buffer("exp_avg_var")
        let t = p.slot.step
        let (beta1, beta2) = s.betas
        let invBc2Sqrt = Float(1 / (1 - power(beta2, t)).squareRoot())  // ÷√(1 − β₂ᵗ) as × its reciprocal
        // Plain update: lr/(1 − β₁ᵗ)·m/(√v/√(1 − β₂ᵗ)). Rectified: RAdam's step with m/(√v + ε)
        // (v, not the max), an SGD-style step lr·r·m, or none.
        var stepSize = -(lr / (1 - power(beta1, t)))
        var rectified = false, adaptive = true
        if s.rectify {
            let rect = Rectification(step: t, betas: s.betas, degeneratedToSGD: s.degeneratedToSGD)
            rectified = rect.adaptive
            adaptive = rect.adaptive
            stepSize = rect.adaptive || rect.stepSize > 0 ? -rect.stepSize * lr : 0
        }
        let decay = WeightDecay(s.weightDecay, decoupled: s.weightDecouple, lr: lr, fixed: s.fixedDecay)
        let shrink = decay.shrink, l2 = decay.l2
        let b1 = Float(beta1), w1 = Float(1 - beta1), b2 = Float(beta2), w2 = Float(1 - beta2)
        let eps = Float(s.eps), step = Float(stepSize)
        /// One element's decay, L2 and moments; returns the decayed θ and the new m and v (ε included).
        @inline(__always) func moments(_ i: Int) -> (x: Float, m: Float, v: Float) {
            let x = theta[i] * shrink
            let g = grad[i] + l2 * x
            let mi = m[i] * b1 + w1 * g
            let vi = (v[i] * b2 + w2 * mi * mi) + eps
            m[i] = mi
            v[i] = vi
            return (x, mi, vi)
        }
        @inline(__always) func direction(_ mi: Float, _ vi: Float, _ vUsed: Float) -> Float {
            let denominator = rectified ? vi.squareRoot() + eps : vUsed.squareRoot() * invBc2Sqrt
            let adaptiveStep = mi / denominator
            return adaptive ? adaptiveStep : mi
        }
        if s.amsgrad {
            let vmax = p.buffer("max_exp_avg_var")
            forEachChunk(p.value.count) { r in
                for i in r {
                    let (x, mi, vi) = moments(i)
                    let vUsed = max(vmax[i], vi)
                    vmax[i] = vUsed
                    theta[i] = x + step * direction(mi, vi, vUsed)
                }
            }
        } else {
            forEachChunk(p.value.count) { r in
                for i in r {
                    let (x, mi, vi) = moments(i)
                    theta[i] = x + step * direction(mi, vi, vi)
                }
            }
        }
    }
}

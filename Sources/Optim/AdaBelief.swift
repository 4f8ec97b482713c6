import Engine
import Foundation

/// AdaBelief (Zhuang et al. 2020), adabelief-pytorch 0.0.5 (docs/paper.md §3.9).
///
///     θ ← θ·(1 − lr·wd), or θ·(1 − wd) with fixedDecay  (weightDecouple)
///     g ← g + wd·θ                                      (otherwise: L2)
///     m ← β₁·m + (1 − β₁)·g
///     s ← β₂·s + (1 − β₂)·(g − m)²;  s ← s + ε          (the new m; ε accumulates inside s)
///     smax ← max(smax, s);  smax ← smax + ε             (amsgrad: ε is added to the max instead)
///     d = √s / √(1 − β₂ᵗ) + ε                           (ε a second time, outside)
///     θ ← θ − lr/(1 − β₁ᵗ) · m/d
///     rectify: ρt > 4: θ ← θ − rt·lr/(1 − β₁ᵗ) · m/d;  else θ ← θ − lr·m  (no bias correction)
///
/// Defaults (0.0.5, the paper's CIFAR settings): lr 1e-3, betas (0.9, 0.999), eps 1e-8,
/// weightDecay 0, amsgrad false, weightDecouple false, fixedDecay false, rectify false.
final class AdaBeliefOptimizer: OptimizerCore<AdaBeliefOptimizer.Settings> {
    struct Settings {
        var betas: (Double, Double)
        var eps: Double
        var weightDecay: Double
        var amsgrad: Bool
        var weightDecouple: Bool
        var fixedDecay: Bool
        var rectify: Bool
    }

    /// The registration (see OptimizerRegistration): names, bench settings, default lr, settings reader, class.
    static let registration = OptimizerRegistration(
        position: 7, [.init("adabelief", benchOptions: ["weightDecay": .number(5e-4)], benchBytesPerElement: 28)],
        defaultLr: { _ in 1e-3 }, settings: settings, type: AdaBeliefOptimizer.self)

    /// Reads and checks one group's settings: every key but `lr` (read first, by the same rule for every optimizer).
    static func settings(_ name: String, _ r: inout OptionReader) -> Settings {
        Settings(
            betas: r.pair("betas", default: (0.9, 0.999), .unit(includingOne: false), .unit(includingOne: false)),
            eps: r.number("eps", default: 1e-8, .nonNegative),
            weightDecay: r.number("weightDecay", default: 0, .nonNegative),
            amsgrad: r.bool("amsgrad", default: false),
            weightDecouple: r.bool("weightDecouple", default: false),
            fixedDecay: r.bool("fixedDecay", default: false),
            rectify: r.bool("rectify", default: false))
    }


    override func bufferLayout(_ s: Settings) -> [(name: String, initial: Float)] {
        [("exp_avg", 0), ("exp_avg_var", 0)] + (s.amsgrad ? [("max_exp_avg_var", 0)] : [])
    }

    override func update(_ p: Active, lr: Double, settings s: Settings) {
        let theta = p.value.data, grad = p.gradient.data
        let m = p.buffer("exp_avg"), variance = p.buffer("exp_avg_var")
        let t = p.slot.step
        let (beta1, beta2) = s.betas
        let bc1 = 1 - power(beta1, t)
        let invBc2Sqrt = Float(1 / (1 - power(beta2, t)).squareRoot())  // ÷√(1 − β₂ᵗ) as × its reciprocal
        var stepSize = -(lr / bc1)
        var adaptive = true
        if s.rectify {
            let rhoMax = 2.0 / (1.0 - beta2) - 1.0
            let rho = rhoMax - 2 * Double(t) * power(beta2, t) / (1.0 - power(beta2, t))
            if rho > 4 {
                let rt = ((rho - 4.0) * (rho - 2.0) * rhoMax / (rhoMax - 4.0) / (rhoMax - 2.0) / rho).squareRoot()
                stepSize = -(rt * lr / bc1)
            } else {
                adaptive = false
                stepSize = -lr
            }
        }
        let decay = WeightDecay(s.weightDecay, decoupled: s.weightDecouple, lr: lr, fixed: s.fixedDecay)
        let shrink = decay.shrink, l2 = decay.l2
        let b1 = Float(beta1), w1 = Float(1 - beta1), b2 = Float(beta2), w2 = Float(1 - beta2)
        let eps = Float(s.eps), step = Float(stepSize)
        /// One element's decay, L2 and moments; returns the decayed θ, the new m and s (before ε).
        @inline(__always) func moments(_ i: Int) -> (x: Float, m: Float, s: Float) {
            let x = theta[i] * shrink
            let g = grad[i] + l2 * x
            let mi = m[i] * b1 + w1 * g
            let residual = g - mi
            m[i] = mi
            return (x, mi, variance[i] * b2 + w2 * residual * residual)
        }
        /// The step from m and the s in use: adaptive, or rectify's SGD-style lr·m.
        @inline(__always) func direction(_ mi: Float, _ sUsed: Float) -> Float {
            let adaptiveStep = mi / (sUsed.squareRoot() * invBc2Sqrt + eps)
            return adaptive ? adaptiveStep : mi
        }
        if s.amsgrad {
            let maxVariance = p.buffer("max_exp_avg_var")
            forEachChunk(p.value.count) { r in
                for i in r {
                    let (x, mi, si) = moments(i)
                    variance[i] = si
                    let sUsed = max(maxVariance[i], si) + eps  // ε goes into the max, not into s
                    maxVariance[i] = sUsed
                    theta[i] = x + step * direction(mi, sUsed)
                }
            }
        } else {
            forEachChunk(p.value.count) { r in
                for i in r {
                    let (x, mi, si) = moments(i)
                    let sUsed = si + eps
                    variance[i] = sUsed
                    theta[i] = x + step * direction(mi, sUsed)
                }
            }
        }
    }
}

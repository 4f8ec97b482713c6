import Engine
import Foundation

/// Adaptive Inertia: Adai and AdaiW (Xie et al., ICML 2022, Algorithm 2; zeke-xie/adaptive-inertia-adai
/// `adai_optim/adai.py` at e6c1b9d) and AdaiV2 (`adai_optim/adaiv2.py`, same commit). docs/paper.md §2.1–2.3.
///
///     pass 1, over every parameter of every group that has a gradient:
///         θ ← θ·(1 − lr·wd)                              (decoupled: adaiw, adaiv2)
///         g ← g + wd·θ                                   (otherwise: L2)
///         v ← β₂·v + (1 − β₂)·g²;   v̂ = v/(1 − β₂ᵗ)      (each group's own β₂)
///     v̄ = mean of v̂ over every element of every parameter: ONE scalar
///     pass 2, per element:
///         β₁ = clamp(1 − β₀·(v̂/v̄)^(1/(3−2d)), 0, 1 − ε)   (ε bounds the inertia)
///         β₁prod ← β₁prod·β₁
///         m ← β₁·m + (1 − β₁)^d·g
///         θ ← θ − lr · m/(1 − β₁prod) · β₀^(1−d)
///
/// Adai and AdaiW are the case d = 1 (dampening, an AdaiV2 setting): β₁ = clamp(1 − β₀·v̂/v̄),
/// m is an EMA of g, and there is no β₀ factor; the formulas above then give exactly the Adai code.
///
/// Where the reference code gives NaN: when every v̂ is 0 (every gradient so far exactly 0),
/// v̄ = 0 and v̂/v̄ = 0/0. We take v̂/v̄ = 0 there (v̄ is treated as +∞). That is the value the
/// reference gives every element with v̂ = 0 whenever v̄ > 0, so the rule "v̂ = 0 ⇒ β₁ = 1 − ε"
/// (maximal inertia) holds always. Since m is still 0, nothing moves except through decoupled
/// decay; β₁prod shrinks by 1 − ε.
///
/// The gradient tensors are not modified (the reference adds the L2 term into p.grad in place).
///
/// Defaults: lr required, betas (β₀, β₂) = (0.1, 0.99), eps 1e-3, weightDecay 0;
/// decoupled false for adai, true for adaiw and adaiv2; dampening 1 (adaiv2 only, in [0, 1]).
final class AdaiOptimizer: OptimizerCore<AdaiOptimizer.Settings> {
    struct Settings {
        var betas: (Double, Double)
        var eps: Double
        var weightDecay: Double
        var decoupled: Bool
        var dampening: Double
    }

    /// The registration (see OptimizerRegistration): names, bench settings, default lr, settings reader, class.
    static let registration = OptimizerRegistration(
        position: 9, [.init("adai", benchOptions: ["lr": .number(1), "weightDecay": .number(5e-4)], benchBytesPerElement: 48),
            .init("adaiw", benchOptions: ["lr": .number(0.1), "weightDecay": .number(5e-3)], benchBytesPerElement: 52),
            .init("adaiv2", benchOptions: ["lr": .number(0.1), "weightDecay": .number(5e-3)], benchBytesPerElement: 52)],
        defaultLr: { _ in nil }, settings: settings, type: AdaiOptimizer.self)

    /// Reads and checks one group's settings: every key but `lr` (read first, by the same rule for every optimizer).
    static func settings(_ name: String, _ r: inout OptionReader) -> Settings {
        Settings(
            betas: r.pair("betas", default: (0.1, 0.99), .nonNegative, .unit(includingOne: false)),
            eps: r.number("eps", default: 1e-3, .nonNegative),
            weightDecay: r.number("weightDecay", default: 0, .nonNegative),
            decoupled: r.bool("decoupled", default: name != "adai"),
            dampening: name == "adaiv2" ? r.number("dampening", default: 1, .unit(includingOne: true)) : 1)
    }


    override func bufferLayout(_ s: Settings) -> [(name: String, initial: Float)] {
        [("exp_avg", 0), ("exp_avg_sq", 0), ("beta1_prod", 1)]
    }

    override func step() {
        let active = activeParameters()
        guard !active.isEmpty else { return }
        var sum = 0.0
        var count = 0
        for p in active {
            p.slot.step += 1
            sum += updateSecondMoment(p, lr: groups[p.group].lr, settings: settings[p.group])
                / (1 - power(settings[p.group].betas.1, p.slot.step))
            count += p.value.count
        }
        let mean = count > 0 ? sum / Double(count) : 0
        let vbar = Float(mean == 0 ? .infinity : mean)
        for p in active { updateInertia(p, lr: groups[p.group].lr, settings: settings[p.group], vbar: vbar) }
    }

    /// Pass 1 for one parameter: decoupled decay and the v update. Returns the sum of v (in
    /// fixed blocks, so it does not depend on the thread count).
    private func updateSecondMoment(_ p: Active, lr: Double, settings s: Settings) -> Double {
        let theta = p.value.data, grad = p.gradient.data, v = p.buffer("exp_avg_sq")
        let decay = WeightDecay(s.weightDecay, decoupled: s.decoupled, lr: lr), shrink = decay.shrink, l2 = decay.l2
        let b2 = Float(s.betas.1), w2 = Float(1 - s.betas.1)
        return Parallel.sumChunks(p.value.count) { r in
            for i in r {
                let x = theta[i] * shrink
                theta[i] = x
                let g = grad[i] + l2 * x
                v[i] = v[i] * b2 + w2 * g * g
            }
            return doubleSum(v, r)
        }
    }

    /// Pass 2 for one parameter: the element-wise inertia, the momentum and the step.
    private func updateInertia(_ p: Active, lr: Double, settings s: Settings, vbar: Float) {
        let theta = p.value.data, grad = p.gradient.data
        let m = p.buffer("exp_avg"), v = p.buffer("exp_avg_sq"), beta1Prod = p.buffer("beta1_prod")
        let (beta0, beta2) = s.betas
        let bc2 = Float(1 - power(beta2, p.slot.step))
        let l2 = WeightDecay(s.weightDecay, decoupled: s.decoupled, lr: lr).l2
        let scale = Float(pow(beta0, 1 - s.dampening))  // β₀^(1−d): exactly 1 for Adai
        let b0 = Float(beta0), maxInertia = Float(1 - s.eps), step = Float(-lr)
        let ratioPower = TensorPower(Float(1 / (3 - 2 * s.dampening))), dampingPower = TensorPower(Float(s.dampening))
        /// One element; `adai` (d = 1) is a constant at each call, so Adai's loop has no powers and vectorizes.
        @inline(__always) func element(_ i: Int, adai: Bool) {
            let g = grad[i] + l2 * theta[i]  // l2 = 0 adds exactly 0
            let ratio = v[i] / bc2 / vbar  // v̂/v̄
            let beta1 = min(max(1 - (adai ? ratio : ratioPower.apply(ratio)) * b0, 0), maxInertia)
            let prod = beta1Prod[i] * beta1
            beta1Prod[i] = prod
            let mi = m[i] * beta1 + (adai ? 1 - beta1 : dampingPower.apply(1 - beta1)) * g
            m[i] = mi
            let mhat = mi / (1 - prod)
            theta[i] = theta[i] + step * (adai ? mhat : mhat * scale)
        }
        if s.dampening == 1 {
            forEachChunk(p.value.count) { r in for i in r { element(i, adai: true) } }
        } else {
            forEachChunk(p.value.count) { r in for i in r { element(i, adai: false) } }
        }
    }
}

/// Σ x[i] over `range` in Double, with eight running sums in a fixed order (deterministic, and
/// eight times faster than one chain of dependent additions).
@inline(__always)
func doubleSum(_ x: UnsafePointer<Float>, _ range: Range<Int>) -> Double {
    var s = SIMD8<Double>()
    var i = range.lowerBound
    while i + 8 <= range.upperBound {
        s += SIMD8(Double(x[i]), Double(x[i + 1]), Double(x[i + 2]), Double(x[i + 3]),
                   Double(x[i + 4]), Double(x[i + 5]), Double(x[i + 6]), Double(x[i + 7]))
        i += 8
    }
    var tail = 0.0
    while i < range.upperBound {
        tail += Double(x[i])
        i += 1
    }
    return s.sum() + tail
}

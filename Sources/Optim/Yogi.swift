import Engine

/// Yogi (Zaheer et al. 2018), the implementation the AdaBelief and AdaM3 repositories use
/// (forked from pytorch-optimizer, following TF-Addons; docs/paper.md §3.7).
///
///     m, v start at initialAccumulator (not 0)
///     g ← g + wd·θ                                       (L2)
///     m ← β₁·m + (1 − β₁)·g
///     v ← v − (1 − β₂)·sign(v − g²)·g²                   (additive, sign-controlled)
///     θ ← θ − lr/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε)
///
/// Defaults: lr 1e-2, betas (0.9, 0.999), eps 1e-3, initialAccumulator 1e-6, weightDecay 0.
final class YogiOptimizer: OptimizerCore<YogiOptimizer.Settings> {
    struct Settings {
        var betas: (Double, Double)
        var eps: Double
        var initialAccumulator: Double
        var weightDecay: Double
    }

    /// The registration (see OptimizerRegistration): names, bench settings, default lr, settings reader, class.
    static let registration = OptimizerRegistration(
        position: 5, [.init("yogi", benchOptions: ["weightDecay": .number(5e-4)], benchBytesPerElement: 28)],
        defaultLr: { _ in 1e-2 }, settings: settings, type: YogiOptimizer.self)

    /// Reads and checks one group's settings: every key but `lr` (read first, by the same rule for every optimizer).
    static func settings(_ name: String, _ r: inout OptionReader) -> Settings {
        Settings(
            betas: r.pair("betas", default: (0.9, 0.999), .unit(includingOne: false), .unit(includingOne: false)),
            eps: r.number("eps", default: 1e-3, .nonNegative),
            initialAccumulator: r.number("initialAccumulator", default: 1e-6, .nonNegative),
            weightDecay: r.number("weightDecay", default: 0, .nonNegative))
    }


    override func bufferLayout(_ s: Settings) -> [(name: String, initial: Float)] {
        [("exp_avg", Float(s.initialAccumulator)), ("exp_avg_sq", Float(s.initialAccumulator))]
    }

    override func update(_ p: Active, lr: Double, settings s: Settings) {
        let theta = p.value.data, grad = p.gradient.data
        let m = p.buffer("exp_avg"), v = p.buffer("exp_avg_sq")
        let t = p.slot.step
        let (beta1, beta2) = s.betas
        let stepSize = Float(-(lr / (1 - power(beta1, t))))
        let invBc2Sqrt = Float(1 / (1 - power(beta2, t)).squareRoot())  // ÷√(1 − β₂ᵗ) as × its reciprocal
        let wd = Float(s.weightDecay), b1 = Float(beta1), w1 = Float(1 - beta1), w2 = Float(-(1 - beta2))
        let eps = Float(s.eps)
        forEachChunk(p.value.count) { r in
            for i in r {
                let g = grad[i] + wd * theta[i]  // wd = 0 adds exactly 0
                let mi = m[i] * b1 + w1 * g
                let g2 = g * g
                let difference = v[i] - g2
                let sign: Float = difference > 0 ? 1 : (difference < 0 ? -1 : 0)
                let vi = v[i] + w2 * sign * g2
                m[i] = mi
                v[i] = vi
                theta[i] = theta[i] + stepSize * (mi / (vi.squareRoot() * invBc2Sqrt + eps))
            }
        }
    }
}

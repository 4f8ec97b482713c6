import Engine

/// Lion, EvoLved Sign Momentum (Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms",
/// Algorithm 2), as the `lion-pytorch` package (0.2.5, PyPI) computes it:
///
///     θ ← θ·(1 − lr·wd)                      (decoupled decay; decoupledWeightDecay: 1 − lr·wd/lr₀)
///     c ← sign(β₁·m + (1 − β₁)·g)            (sign(0) = 0)
///     θ ← θ − lr·c
///     m ← β₂·m + (1 − β₂)·g
///
/// lr₀ is the group's initial lr (`lion-pytorch` divides by the lr given to its constructor, the
/// same thing for one group). The step count is kept but not used. Defaults (`lion-pytorch`'s):
/// lr 1e-4, betas (β₁, β₂) = (0.9, 0.99), each in [0, 1], weightDecay 0, decoupledWeightDecay false.
final class LionOptimizer: OptimizerCore<LionOptimizer.Settings> {
    struct Settings {
        var betas: (Double, Double)
        var weightDecay: Double
        var decoupledWeightDecay: Bool
    }

    /// The registration (see OptimizerRegistration): names, bench settings, default lr, settings reader, class.
    static let registration = OptimizerRegistration(
        position: 100, [.init("lion", benchOptions: ["lr": .number(1e-4), "weightDecay": .number(1e-2)], benchBytesPerElement: 20)],
        defaultLr: { _ in 1e-4 }, settings: settings, type: LionOptimizer.self)

    /// Reads and checks one group's settings: every key but `lr` (read first, by the same rule for every optimizer).
    static func settings(_ name: String, _ r: inout OptionReader) -> Settings {
        Settings(
            betas: r.pair("betas", default: (0.9, 0.99), .unit(includingOne: true), .unit(includingOne: true)),
            weightDecay: r.number("weightDecay", default: 0, .nonNegative),
            decoupledWeightDecay: r.bool("decoupledWeightDecay", default: false))
    }


    override func bufferLayout(_ s: Settings) -> [(name: String, initial: Float)] {
        [("exp_avg", 0)]
    }

    override func update(_ p: Active, lr: Double, settings s: Settings) {
        let theta = p.value.data, grad = p.gradient.data
        let m = p.buffer("exp_avg")
        let wd = s.decoupledWeightDecay ? s.weightDecay / groups[p.group].initialLr : s.weightDecay
        let shrink = WeightDecay(wd, decoupled: true, lr: lr).shrink
        let b1 = Float(s.betas.0), w1 = Float(1 - s.betas.0), b2 = Float(s.betas.1), w2 = Float(1 - s.betas.1)
        let step = Float(-lr)
        forEachChunk(p.value.count) { r in
            for i in r {
                let g = grad[i]
                let u = m[i] * b1 + w1 * g  // the interpolation whose sign is the update
                let c: Float = u > 0 ? 1 : (u < 0 ? -1 : 0)
                theta[i] = theta[i] * shrink + step * c
                m[i] = m[i] * b2 + w2 * g
            }
        }
    }
}

import Engine

/// PyTorch's Adam, AMSGrad (`Adam(amsgrad=True)`) and AdamW (docs/paper.md §3.2–3.4).
///
///     θ ← θ·(1 − lr·wd)                                  (adamw: decoupled decay, current lr)
///     g ← g + wd·θ                                       (adam, amsgrad: L2)
///     m ← β₁·m + (1 − β₁)·g        v ← β₂·v + (1 − β₂)·g²
///     v̂max ← max(v̂max, v)                                (amsgrad; the max of the raw v)
///     θ ← θ − lr/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε)   (ε after the bias correction)
///
/// Defaults: lr 1e-3, betas (0.9, 0.999), eps 1e-8, weightDecay 0 (adamw: 1e-2),
/// amsgrad false (amsgrad: true).
final class AdamOptimizer: OptimizerCore<AdamOptimizer.Settings> {
    struct Settings {
        var betas: (Double, Double)
        var eps: Double
        var weightDecay: Double
        var amsgrad: Bool
        var decoupled: Bool
    }

    /// The registration (see OptimizerRegistration): names, bench settings, default lr, settings reader, class.
    static let registration = OptimizerRegistration(
        position: 2, [.init("adam", benchOptions: ["weightDecay": .number(5e-4)], benchBytesPerElement: 28),
            .init("amsgrad", benchOptions: ["weightDecay": .number(5e-4)], benchBytesPerElement: 36),
            .init("adamw", benchOptions: ["weightDecay": .number(0.5)], benchBytesPerElement: 28)],
        defaultLr: { _ in 1e-3 }, settings: settings, type: AdamOptimizer.self)

    /// Reads and checks one group's settings: every key but `lr` (read first, by the same rule for every optimizer).
    static func settings(_ name: String, _ r: inout OptionReader) -> Settings {
        Settings(
            betas: r.pair("betas", default: (0.9, 0.999), .unit(includingOne: false), .unit(includingOne: false)),
            eps: r.number("eps", default: 1e-8, .nonNegative),
            weightDecay: r.number("weightDecay", default: name == "adamw" ? 1e-2 : 0, .nonNegative),
            amsgrad: r.bool("amsgrad", default: name == "amsgrad"),
            decoupled: name == "adamw")
    }


    override func bufferLayout(_ s: Settings) -> [(name: String, initial: Float)] {
        [("exp_avg", 0), ("exp_avg_sq", 0)] + (s.amsgrad ? [("max_exp_avg_sq", 0)] : [])
    }

    override func update(_ p: Active, lr: Double, settings s: Settings) {
        let theta = p.value.data, grad = p.gradient.data
        let m = p.buffer("exp_avg"), v = p.buffer("exp_avg_sq")
        let t = p.slot.step
        let (beta1, beta2) = s.betas
        let stepSize = Float(-(lr / (1 - power(beta1, t))))
        // ÷√(1 − β₂ᵗ) as × its reciprocal: within an ulp of PyTorch's division, and much faster.
        let invBc2Sqrt = Float(1 / (1 - power(beta2, t)).squareRoot())
        let decay = WeightDecay(s.weightDecay, decoupled: s.decoupled, lr: lr), shrink = decay.shrink, l2 = decay.l2
        let w1 = Float(1 - beta1), b2 = Float(beta2), w2 = Float(1 - beta2), eps = Float(s.eps)
        let smallWeight = w1 < 0.5
        /// One element's decay, L2 and moments; returns the decayed θ and the new m and v.
        @inline(__always) func moments(_ i: Int) -> (x: Float, m: Float, v: Float) {
            let x = theta[i] * shrink
            let g = grad[i] + l2 * x
            // m as torch.lerp computes it (PyTorch's Adam updates m with lerp_)
            let mi = smallWeight ? m[i] + w1 * (g - m[i]) : g - (g - m[i]) * (1 - w1)
            let vi = v[i] * b2 + w2 * g * g
            m[i] = mi
            v[i] = vi
            return (x, mi, vi)
        }
        // Separate loops with and without the max buffer, so that each one vectorizes.
        if s.amsgrad {
            let vmax = p.buffer("max_exp_avg_sq")
            forEachChunk(p.value.count) { r in
                for i in r {
                    let (x, mi, vi) = moments(i)
                    let vUsed = max(vmax[i], vi)
                    vmax[i] = vUsed
                    theta[i] = x + stepSize * (mi / (vUsed.squareRoot() * invBc2Sqrt + eps))
                }
            }
        } else {
            forEachChunk(p.value.count) { r in
                for i in r {
                    let (x, mi, vi) = moments(i)
                    theta[i] = x + stepSize * (mi / (vi.squareRoot() * invBc2Sqrt + eps))
                }
            }
        }
    }
}

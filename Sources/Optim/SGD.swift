import Engine

/// SGD with heavy-ball momentum, PyTorch's `torch.optim.SGD` (docs/paper.md §3.1).
///
///     g ← g + wd·θ                                     (L2, when weightDecay ≠ 0)
///     b ← g at the first step, then b ← μ·b + (1 − τ)·g  (when momentum μ ≠ 0; τ = dampening)
///     g ← g + μ·b (nesterov)  or  g ← b
///     θ ← θ − lr·g
///
/// `sgd` defaults to μ = 0 and `sgdm` to μ = 0.9; both default to lr 1e-3 (PyTorch's default).
final class SGDOptimizer: OptimizerCore<SGDOptimizer.Settings> {
    struct Settings {
        var momentum: Double
        var dampening: Double
        var weightDecay: Double
        var nesterov: Bool
    }

    /// The registration (see OptimizerRegistration): names, bench settings, default lr, settings reader, class.
    static let registration = OptimizerRegistration(
        position: 1, [.init("sgd", benchOptions: ["lr": .number(0.1)], benchBytesPerElement: 12),
            .init("sgdm", benchOptions: ["lr": .number(0.1), "weightDecay": .number(5e-4)], benchBytesPerElement: 20)],
        defaultLr: { _ in 1e-3 }, settings: settings, type: SGDOptimizer.self)

    /// Reads and checks one group's settings: every key but `lr` (read first, by the same rule for every optimizer).
    static func settings(_ name: String, _ r: inout OptionReader) -> Settings {
        let s = Settings(
            momentum: r.number("momentum", default: name == "sgdm" ? 0.9 : 0, .nonNegative),
            dampening: r.number("dampening", default: 0, .unit(includingOne: true)),
            weightDecay: r.number("weightDecay", default: 0, .nonNegative),
            nesterov: r.bool("nesterov", default: false))
        r.require(!s.nesterov || (s.momentum > 0 && s.dampening == 0),
                  "nesterov needs momentum > 0 and dampening 0, got momentum \(formatNumber(s.momentum)) and dampening \(formatNumber(s.dampening))")
        return s
    }


    override func bufferLayout(_ s: Settings) -> [(name: String, initial: Float)] {
        s.momentum != 0 ? [("momentum_buffer", 0)] : []
    }

    override func update(_ p: Active, lr: Double, settings s: Settings) {
        let theta = p.value.data, grad = p.gradient.data
        let wd = Float(s.weightDecay), mu = Float(s.momentum), keep = Float(1 - s.dampening), step = Float(-lr)
        guard s.momentum != 0 else {
            forEachChunk(p.value.count) { r in
                for i in r { theta[i] = theta[i] + step * (grad[i] + wd * theta[i]) }  // wd = 0 adds exactly 0
            }
            return
        }
        let buffer = p.buffer("momentum_buffer")
        let first = p.slot.step == 1, nesterov: Float = s.nesterov ? 1 : 0
        forEachChunk(p.value.count) { r in
            for i in r {
                let g = grad[i] + wd * theta[i]
                // The first step copies g into the buffer (PyTorch's clone); later ones decay it.
                let old = buffer[i]  // loaded unconditionally, so the select vectorizes
                let b = first ? g : old * mu + keep * g
                buffer[i] = b
                // nesterov: g + μ·b; otherwise b
                theta[i] = theta[i] + step * (nesterov != 0 ? g + mu * b : b)
            }
        }
    }
}

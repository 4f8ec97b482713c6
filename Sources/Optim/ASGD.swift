import Engine
import Foundation

/// Averaged SGD, PyTorch's `torch.optim.ASGD` (single-tensor path, as it runs on CPU; read in
/// torch 2.x `torch/optim/asgd.py`). Per parameter it keeps a step count, the scalars `eta` and `mu`
/// and the average `ax`:
///
///     first gradient:  eta ← lr (the group's lr at that moment), mu ← 1, ax ← 0
///     step ← step + 1
///     g ← g + wd·θ                                   (L2, when weightDecay ≠ 0)
///     θ ← θ·(1 − λ·eta) − eta·g
///     ax ← θ when mu = 1, else ax ← ax + mu·(θ − ax)
///     eta ← lr / (1 + λ·lr·step)^α                   (lr: the group's lr of this step)
///     mu  ← 1 / max(1, step − t0)
///
/// `eta` and `mu` are updated after the step, so a step moves θ by the eta of the previous step's
/// lr: a change of the group's lr (a schedule, the AWD recipe's lr × seq_len/70) takes effect one step
/// late. PyTorch keeps `eta` and `mu` as float32 tensors (`_get_scalar_dtype()` in float32 runs); they are
/// rounded to float32 here too. `ax` is the average PyTorch keeps; nothing here evaluates it (the
/// AWD recipe, like the authors' main.py, never does).
///
/// Defaults as PyTorch: lr 1e-2, lambd 1e-4, alpha 0.75, t0 1e6, weightDecay 0. The AdaMomentum
/// authors' main.py switches SGD to `ASGD(lr, t0=0, lambd=0., weight_decay=wdecay)`.
final class ASGDOptimizer: OptimizerCore<ASGDOptimizer.Settings> {
    struct Settings {
        var lambd: Double
        var alpha: Double
        var t0: Double
        var weightDecay: Double
    }

    /// The registration (see OptimizerRegistration): names, bench settings, default lr, settings reader, class.
    static let registration = OptimizerRegistration(
        position: 101, [.init("asgd", benchOptions: ["lr": .number(30), "t0": .number(0), "lambd": .number(0)], benchBytesPerElement: 20)],
        defaultLr: { _ in 1e-2 }, settings: settings, type: ASGDOptimizer.self)

    /// Reads and checks one group's settings: every key but `lr`.
    static func settings(_ name: String, _ r: inout OptionReader) -> Settings {
        Settings(lambd: r.number("lambd", default: 1e-4, .nonNegative),
                 alpha: r.number("alpha", default: 0.75, .nonNegative),
                 t0: r.number("t0", default: 1e6, .nonNegative),
                 weightDecay: r.number("weightDecay", default: 0, .nonNegative))
    }


    override func bufferLayout(_ s: Settings) -> [(name: String, initial: Float)] { [("ax", 0)] }

    override func scalarLayout(_ s: Settings, lr: Double) -> [(name: String, initial: Double)] {
        [("eta", Double(Float(lr))), ("mu", 1)]
    }

    override func update(_ p: Active, lr: Double, settings s: Settings) {
        let theta = p.value.data, grad = p.gradient.data, ax = p.buffer("ax")
        let eta = p.slot.scalar("eta"), mu = p.slot.scalar("mu")
        let wd = Float(s.weightDecay), decay = Float(1 - s.lambd * eta), step = Float(-eta), m = Float(mu)
        let copy = mu == 1
        forEachChunk(p.value.count) { r in
            for i in r {
                let g = grad[i] + wd * theta[i]  // wd = 0 adds exactly 0
                let t = theta[i] * decay + step * g
                theta[i] = t
                ax[i] = copy ? t : ax[i] + (t - ax[i]) * m
            }
        }
        let n = Double(p.slot.step)
        p.slot.setScalar("eta", Double(Float(lr / pow(1 + s.lambd * lr * n, s.alpha))))
        p.slot.setScalar("mu", Double(Float(1 / max(1, n - s.t0))))
    }
}

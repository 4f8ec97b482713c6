import Foundation

/// Learning-rate schedules applied once per epoch, with PyTorch's semantics: the lr of epoch e
/// (0-based) is the group's lr after e calls of `scheduler.step()`, computed by the same chained
/// recurrences as `torch.optim.lr_scheduler`, so the values are bit-identical to PyTorch's.
///
///   constant                          lr_e = lr_0
///   multistep(milestones, gamma)      lr_e = lr_{e−1}·gamma^(times e is a milestone)   (MultiStepLR)
///   step(stepSize, gamma)             lr_e = lr_{e−1}·gamma when e is a multiple of stepSize (StepLR)
///   cosine(tMax, etaMin)              CosineAnnealingLR's recurrence; ≈ etaMin + (lr_0 − etaMin)(1 + cos(πe/tMax))/2
///
/// Defaults as in PyTorch: gamma 0.1, etaMin 0; milestones, stepSize and tMax are required.
/// The paper divides by 10 at epochs 80 and 160 on CIFAR-10: `multistep` with milestones [80, 160].
public enum LRSchedule: Equatable, Sendable {
    case constant
    case multistep(milestones: [Int], gamma: Double)
    case step(stepSize: Int, gamma: Double)
    case cosine(tMax: Int, etaMin: Double)

    public static let names = ["constant", "multistep", "step", "cosine"]

    /// Reads a schedule from its name and settings (e.g. from a JSON config), with validation.
    public init(name: String, options: OptimizerOptions) throws {
        var r = OptionReader(owner: "schedule \(name)", options: options)
        switch name {
        case "constant":
            self = .constant
        case "multistep":
            self = .multistep(milestones: r.integers("milestones", default: nil, minimum: 1),
                              gamma: r.number("gamma", default: 0.1, .nonNegative))
        case "step":
            self = .step(stepSize: r.integer("stepSize", default: nil, minimum: 1),
                         gamma: r.number("gamma", default: 0.1, .nonNegative))
        case "cosine":
            let tMax = r.integer("tMax", default: nil, minimum: 1)
            self = .cosine(tMax: tMax, etaMin: r.number("etaMin", default: 0, .nonNegative))
        default:
            throw OptimError("unknown schedule '\(name)'; known schedules: \(Self.names.joined(separator: ", "))")
        }
        try r.finish()
    }

    /// The lr for epoch `epoch` (0-based) of a group that started at `initialLr`.
    public func learningRate(epoch: Int, initialLr: Double) -> Double {
        precondition(epoch >= 0, "epoch must be >= 0, got \(epoch)")
        var lr = initialLr
        guard epoch > 0 else { return lr }
        for e in 1...epoch { lr = next(lr, epoch: e, initialLr: initialLr) }
        return lr
    }

    /// The lr of epoch `e` from that of epoch e − 1 (PyTorch's `get_lr` at `last_epoch` = e).
    private func next(_ lr: Double, epoch e: Int, initialLr: Double) -> Double {
        switch self {
        case .constant:
            return lr
        case .multistep(let milestones, let gamma):
            let hits = milestones.filter { $0 == e }.count
            return hits == 0 ? lr : lr * pow(gamma, Double(hits))
        case .step(let stepSize, let gamma):
            return e % stepSize == 0 ? lr * gamma : lr
        case .cosine(let tMax, let etaMin):
            let period = 2 * tMax
            if ((e - 1 - tMax) % period + period) % period == 0 {  // Python's modulo
                return lr + (initialLr - etaMin) * (1 - cos(Double.pi / Double(tMax))) / 2
            }
            return (1 + cos(Double.pi * Double(e) / Double(tMax))) / (1 + cos(Double.pi * Double(e - 1) / Double(tMax)))
                * (lr - etaMin) + etaMin
        }
    }
}

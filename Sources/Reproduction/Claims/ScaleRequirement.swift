import Datasets
import Foundation

/// One thing a claim needs of the scale's design, counted from the plan before anything runs (claims 11 and 12,
/// docs/claims.md): below it the verdict is "inconclusive: scale too small" with both numbers, and nothing is run.
public struct ScaleRequirement: Equatable {
    public var quantity: String
    public var planned: Int
    public var required: Int
    /// Where `planned` comes from: the plan and how it was counted.
    public var source: String
    public var passes: Bool { planned >= required }
    public var line: String {
        "scale check: \(quantity): \(planned) planned (\(source)); the rule needs \(required)" + (passes ? " → passes" : " → FAILS: scale too small")
    }

    /// "Scale too small", with every requirement's line, when one fails; nil when all pass.
    static func tooSmall(claim: String, scale: String, _ requirements: [ScaleRequirement]) -> ClaimVerdict? {
        guard requirements.contains(where: { !$0.passes }) else { return nil }
        return ClaimVerdict(claim: claim, kind: .scaleTooSmall, notes: requirements.map(\.line)
            + ["not run at the \(scale) scale: its design is below what the rule needs (the medium and paper scales run claim \(claim))"])
    }

    /// The regime check (TrainingRegime) of each of `plans`, as requirements in optimizer steps.
    static func regime(_ runner: ReproductionRunner, _ plans: [TrainingPlan]) -> [ScaleRequirement] {
        plans.compactMap { plan in
            runner.regimeCheck(plan, optimizers: plan.optimizers.map(\.name)).map { check in
                ScaleRequirement(quantity: "\(plan.name): optimizer steps per run", planned: check.steps, required: Int(check.required.rounded(.up)),
                                 source: String(format: "the regime check: %.0f × %@'s time constant of %.0f steps", TrainingRegime.multiple, check.slowest, check.timeConstant))
            }
        }
    }

    /// Claim 11: each basin plan's grid (lr points and weight-decay points per optimizer) and regime; with no basin
    /// plan, the largest lr × weight-decay grid the scale trains per optimizer elsewhere.
    static func basin(_ runner: ReproductionRunner) -> [ScaleRequirement] {
        let plans = runner.scale.training.filter { $0.claims.contains("11") && $0.basin != nil }
        let lrPoints = ClaimRules.basinLRPoints, wdPoints = ClaimRules.basinWeightDecayPoints
        guard !plans.isEmpty else {
            // Each CIFAR plan trains one weight decay per optimizer; its selection grid (if any) is tried on one seed only.
            let cifar = runner.scale.training.filter { !$0.dataset.isText }
            let widest = cifar.max { lrCount($0) < lrCount($1) }
            let source = "no plan of the \(runner.scale.name) scale serves claim 11; "
                + (widest.map { "its widest grid is \($0.name)'s, \(lrCount($0)) lr\(lrCount($0) == 1 ? "" : "s") × 1 weight decay per optimizer" + ($0.needsSelection ? ", tried on its selection seed only" : "") }
                    ?? "it trains no CIFAR runs")
            return [ScaleRequirement(quantity: "lr points × weight-decay points per optimizer", planned: widest.map(lrCount) ?? 0,
                                     required: lrPoints * wdPoints, source: source)]
        }
        return plans.flatMap { plan -> [ScaleRequirement] in
            let grid = plan.basin!
            return [
                ScaleRequirement(quantity: "\(plan.name): lr points per optimizer", planned: grid.lrPoints, required: lrPoints,
                                 source: "×\(formatNumber(grid.spacing)) apart around each optimizer's default lr"),
                ScaleRequirement(quantity: "\(plan.name): weight-decay points", planned: grid.weightDecayPoints, required: wdPoints,
                                 source: "{" + grid.weightDecays.map(formatNumber).joined(separator: ", ") + "} for every optimizer"),
            ] + regime(runner, [plan])
        }
    }

    /// The lr points a plan trains per optimizer (its selection grid, else one).
    static func lrCount(_ plan: TrainingPlan) -> Int {
        plan.basin?.lrPoints ?? plan.optimizers.map { $0.lrGrid?.count ?? 1 }.max() ?? 1
    }

    /// Claim 12: each long plan's epochs at a fixed lr and regime; with no such plan, the longest stretch of fixed lr
    /// among the scale's CIFAR plans.
    static func longRun(_ runner: ReproductionRunner) -> [ScaleRequirement] {
        let plans = runner.scale.training.filter { $0.claims.contains("12") }
        let required = ClaimRules.longRunEpochs
        guard !plans.isEmpty else {
            let cifar = runner.scale.training.filter { !$0.dataset.isText }
            let longest = cifar.compactMap { plan in fixedLREpochs(runner, plan).map { (plan, $0) } }.max { $0.1.epochs < $1.1.epochs }
            let source = "no plan of the \(runner.scale.name) scale serves claim 12; "
                + (longest.map { "its longest fixed-lr stretch is \($0.0.name)'s, \($0.1.how)" } ?? "it trains no CIFAR runs")
            return [ScaleRequirement(quantity: "epochs at a fixed lr", planned: longest?.1.epochs ?? 0, required: required, source: source)]
        }
        return plans.map { plan in
            let fixed = fixedLREpochs(runner, plan)
            return ScaleRequirement(quantity: "\(plan.name): epochs at a fixed lr", planned: fixed?.epochs ?? 0, required: required,
                                    source: fixed?.how ?? "its epochs are unknown (the plan's config cannot be read)")
        } + regime(runner, plans)
    }

    /// The epochs a plan trains before its lr first changes, from the plan's config (its schedule and epochs).
    static func fixedLREpochs(_ runner: ReproductionRunner, _ plan: TrainingPlan) -> (epochs: Int, how: String)? {
        guard let training = (try? runner.config(plan, selection: false))?.training else { return nil }
        let epochs = plan.epochs ?? training.epochs
        switch training.schedule {
        case .constant:
            return (epochs, "\(epochs) epochs, a constant schedule")
        case .multistep(let milestones, _):
            guard let first = milestones.min(), first < epochs else {
                return (epochs, "\(epochs) epochs, no lr division")
            }
            return (first, "\(epochs) epochs with the lr first divided at epoch \(first)")
        default:
            return (0, "\(epochs) epochs of a \(training.scheduleKind) schedule, which changes the lr from the start")
        }
    }
}

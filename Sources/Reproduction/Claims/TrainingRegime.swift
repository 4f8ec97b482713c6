import Datasets
import Foundation
import RunFormat

/// The regime check of the training claims 5–8 (docs/claims.md, "Regime check of the training claims"):
/// a run must last at least `multiple` times the slowest time constant, in optimizer steps, of the
/// optimizers it compares; below that the verdict is "inconclusive: scale too small" with both numbers.
public enum TrainingRegime {
    /// Steps run must be at least this multiple of the slowest time constant.
    public static let multiple = 5.0

    /// The defaults of Sources/Optim that set each optimizer's slowest state time constant (the plans do not
    /// override them): Adai's inertia bound ε (β₁ ≤ 1 − ε, Adai.swift), Adam-family β₂ (Adam.swift and its
    /// variants), SGD-M's β (SGD.swift).
    static let adaiEpsilon = 1e-3, adamBeta2 = 0.999, sgdMomentum = 0.9

    /// The slowest time constant of an optimizer's state in optimizer steps, 1/(1 − β) of its slowest
    /// exponential average, and the formula it comes from.
    public static func timeConstant(_ optimizer: String) -> (steps: Double, formula: String) {
        switch optimizer {
        case "adai", "adaiw", "adaiv2":
            return (1 / adaiEpsilon, "1/ε = 1/\(formatNumber(adaiEpsilon)) (Adai's inertia β₁ ≤ 1 − ε)")
        case "sgdm":
            return (1 / (1 - sgdMomentum), "1/(1 − β) = 1/(1 − \(formatNumber(sgdMomentum)))")
        case "sgd":
            return (1, "no state")
        default:
            return (1 / (1 - adamBeta2), "1/(1 − β₂) = 1/(1 − \(formatNumber(adamBeta2)))")
        }
    }

    public struct Check: Equatable {
        public var steps: Int
        public var slowest: String
        public var timeConstant: Double
        public var formula: String
        public var required: Double { TrainingRegime.multiple * timeConstant }
        public var passes: Bool { Double(steps) >= required }
        public var line: String {
            String(format: "regime check: %d optimizer steps against %@'s time constant %.0f steps (%@); the rule needs %.0f× = %.0f steps",
                   steps, slowest, timeConstant, formula, TrainingRegime.multiple, required)
                + (passes ? " → passes" : " → FAILS: scale too small")
        }
    }

    /// The check for a run of `steps` comparing `optimizers`.
    public static func check(steps: Int, optimizers: [String]) -> Check {
        let slowest = optimizers.max { timeConstant($0).steps < timeConstant($1).steps } ?? "sgd"
        let t = timeConstant(slowest)
        return Check(steps: steps, slowest: slowest, timeConstant: t.steps, formula: t.formula)
    }

    /// Applies the check to a verdict: a verdict that failed it is "scale too small" (runs that failed stay so),
    /// the check's line is added either way.
    public static func apply(_ check: Check?, label: String = "", to verdict: inout ClaimVerdict) {
        guard let check else {
            verdict.notes.append("\(label)regime check: the steps per run are unknown (no data to count them from); not applied")
            return
        }
        verdict.notes.append(label + check.line)
        if !check.passes && verdict.kind != .runsFailed {
            if verdict.kind != .scaleTooSmall { verdict.notes.append("\(label)the verdict would be \(verdict.kind.rawValue), but \(check.steps) steps are under \(String(format: "%.0f", check.required)): scale too small") }
            verdict.kind = .scaleTooSmall
        }
    }
}

extension ReproductionRunner {
    /// The training images of the whole CIFAR-10 or CIFAR-100.
    static let fullTrainImages: Int? = 50_000

    /// Optimizer steps of one run of `plan`: epochs × steps per epoch (capped by `maxSteps`). CIFAR: the training
    /// images (the synthetic count, those at hand for a plan that allows partial data, else the whole set's
    /// 50,000) less the held-out validation images, over the batch. PTB: the training tokens over
    /// batch × BPTT, from the synthetic size or the corpus file; nil when neither is at hand.
    public func plannedSteps(_ plan: TrainingPlan) -> Int? {
        let training = (try? config(plan, selection: false))?.training
        guard let epochs = plan.epochs ?? training?.epochs else { return nil }
        let perEpoch: Int?
        if plan.dataset.isText {
            let batch = plan.batchSize ?? training?.batchSize ?? TrainingSpec.defaultBatchSize(languageModel: true)
            let bptt = training?.bptt ?? 35
            // The trainer's window count (PTBBatchedStream.windowCount); synthetic text is counted in lines, so
            // there the cap is taken as the count (an upper bound).
            perEpoch = ptbTrainTokens(plan).map { min(($0 / batch - 1 + bptt - 1) / bptt, plan.maxSteps ?? Int.max) } ?? plan.maxSteps
        } else {
            let batch = plan.batchSize ?? training?.batchSize ?? TrainingSpec.defaultBatchSize(languageModel: false)
            // A plan that does not allow partial data trains on the whole set or not at all (the trainer refuses a partial copy).
            let images = plan.synthetic == nil && plan.allowPartialData != true ? Self.fullTrainImages : trainImages(plan)
            perEpoch = images.map { images in
                min((max(0, images - (plan.validation ?? 0)) + batch - 1) / batch, plan.maxSteps ?? Int.max)
            }
        }
        return perEpoch.map { epochs * $0 }
    }

    /// Training tokens of a real PTB plan: the words of ptb.train.txt plus one end-of-sentence per line.
    func ptbTrainTokens(_ plan: TrainingPlan) -> Int? {
        guard plan.synthetic == nil, let text = try? String(contentsOfFile: "\(dataDirectory(.ptb))/ptb.train.txt", encoding: .utf8) else { return nil }
        var tokens = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) where !line.isEmpty {
            tokens += line.split(separator: " ").count + 1
        }
        return tokens
    }

    /// The regime check of one plan's comparison of `optimizers`.
    public func regimeCheck(_ plan: TrainingPlan, optimizers: [String]) -> TrainingRegime.Check? {
        plannedSteps(plan).map { TrainingRegime.check(steps: $0, optimizers: optimizers) }
    }
}

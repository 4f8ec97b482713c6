import Foundation
import Reports

extension Claim {
    /// Claim 12: with a fixed lr for 1,000 epochs, Adai's training loss converges comparably to Adam's (Fig. 12, App. F).
    public static let longRunConvergence = Claim(
        id: "12",
        title: "With a fixed lr for 1,000 epochs, Adai converges comparably to Adam",
        paper: "App. F, Fig. 12 (training at a fixed lr for 1,000 epochs)",
        prediction: "after 1,000 epochs at a fixed lr, Adai's training loss is at most twice Adam's",
        rule: "per seed, the mean log training loss over the last 10% of the epochs; log(2·L_Adam) − log L_Adai, paired by seed (non-inferiority with margin log 2); ≥ 1,000 epochs at a fixed lr",
        paperScaleGain: "ResNet18 with the paper's settings for the 1,000 epochs",
        needs: [.training],
        design: { _ in [] },
        judge: { context in
            let requirements = ScaleRequirement.longRun(context.runner)
            if let v = ScaleRequirement.tooSmall(claim: "12", scale: context.scale.name, requirements) { return v }
            let evidence = try context.training(for: "12")
            let parts = evidence.map { e -> ClaimVerdict in
                // Non-inferiority as the paired rule with margin 0 against twice Adam's loss: Adai's loss below 2 × Adam's.
                let values = ["adai": e.tailLogTrainLoss["adai"], twiceAdam: e.tailLogTrainLoss["adam"]?.mapValues { $0 + ClaimRules.longRunMargin }]
                    .compactMapValues { $0 }
                return context.trainingChecked(
                    Verdicts.pairs(claim: "12", a: ["adai"], baselines: [twiceAdam], values: values, lowerIsBetter: true, margin: 0,
                                   unit: "log training loss", epochs: e.epochs, effects: ["adai-vs-\(twiceAdam)": ClaimRules.longRunMargin],
                                   label: "\(e.experiment): "),
                    experiment: e.experiment, optimizers: ["adai", "adam"], label: "\(e.experiment): ")
            }
            var v = context.runner.withFailures(Verdicts.merge(claim: "12", parts), evidence)
            v.notes = requirements.map(\.line) + v.notes
            return v
        },
        figure: { context, _ in
            guard ScaleRequirement.longRun(context.runner).allSatisfy(\.passes), let e = try context.training(for: "12").first else { return nil }
            return try Plots.loss(runs: try e.comparisonRuns(), optimizers: ["adai", "adam"], title: "Claim 12: training loss at a fixed lr (\(e.model))")
        },
        scope: { context in
            let line = TrainingScope.line(context, claim: "12")
            return line.isEmpty ? "nothing run at the \(context.scale.name) scale; " + ScaleRequirement.longRun(context.runner).map(\.line).joined(separator: "; ") : line
        },
        scaleChecks: ScaleRequirement.longRun)

    /// Claim 12's baseline: Adam's log training loss plus log 2.
    static let twiceAdam = "adam×2"
}

import Datasets
import Foundation
import Reports

extension Claim {
    /// Claim 5: Adai trains faster than SGD with momentum.
    public static let trainingSpeed = Claim(
        id: "5",
        title: "Adai trains faster than SGD with momentum",
        paper: "§6 and the learning curves of Fig. 11 (App. F)",
        prediction: "at equal epochs Adai's training loss is lower than SGD-M's",
        rule: "CIFAR runs paired by seed; mean over epochs of log training loss, SGD-M − Adai; margin 0.05; ≥ 10 epochs",
        paperScaleGain: "the real networks and 200 epochs: the regime of the paper's curves",
        needs: [.training],
        design: { _ in [] },
        judge: { context in
            let cifar = try context.training(for: "5").filter { !$0.dataset.isText }
            let parts = cifar.map { e in
                context.trainingChecked(
                    Verdicts.pairs(claim: "5", a: ["adai"], baselines: ["sgdm"], values: e.meanLogTrainLoss, lowerIsBetter: true,
                                   margin: ClaimRules.trainingLossMargin, unit: "mean log loss", epochs: e.epochs, label: "\(e.model): "),
                    experiment: e.experiment, optimizers: ["adai", "sgdm"], label: "\(e.model): ")
            }
            return context.runner.withFailures(Verdicts.merge(claim: "5", parts), cifar)
        },
        figure: { context, _ in
            guard let first = try context.training(for: "5").first(where: { !$0.dataset.isText }) else { return nil }
            return try Plots.loss(runs: try first.comparisonRuns(), optimizers: ["adai", "sgdm"], title: "Claim 5: training loss (\(first.model))")
        },
        scope: { TrainingScope.line($0, claim: "5") })
}

import Datasets
import Foundation
import Reports

extension Claim {
    /// Claim 8: Penn Treebank, Adai against SGD-M and Adam (Fig. 13, our reading of it).
    public static let languageModel = Claim(
        id: "8",
        title: "Penn Treebank: Adai against SGD-M and Adam",
        paper: "App. D.2 and Fig. 13 (App. F); the curves were not legible to us (docs/paper.md §5.4)",
        prediction: "Adai reaches a test perplexity at least as low as SGD-M's and Adam's",
        rule: "PTB runs paired by seed; final test loss, baseline − Adai; margin 0.01 nats",
        paperScaleGain: "the 2-layer 512-unit LSTM with the full schedule",
        needs: [.training],
        design: { _ in [] },
        judge: { context in
            guard let e = try context.training(for: "8").first(where: { $0.dataset.isText }) else {
                // A scale that plans no PTB runs (medium) leaves the claim to a larger scale: that is its size, not a failure.
                return ClaimVerdict(claim: "8", kind: .scaleTooSmall,
                                    notes: ["the \(context.scale.name) scale runs no PTB LSTM (its budget goes to claims 1–7); claim 8 needs the paper scale's runs of 5 × 1,000 steps or more"])
            }
            let v = Verdicts.pairs(claim: "8", a: ["adai"], baselines: ["sgdm", "adam"], values: e.finalTestLoss,
                                   lowerIsBetter: true, margin: ClaimRules.perplexityMargin, unit: "nats", epochs: e.epochs)
            return context.runner.withFailures(context.trainingChecked(v, experiment: e.experiment, optimizers: ["adai", "sgdm", "adam"]), [e])
        },
        figure: { context, _ in
            guard let e = try context.training(for: "8").first(where: { $0.dataset.isText }) else { return nil }
            return try Plots.curves(runs: try e.comparisonRuns(), column: "test_ppl", title: "Claim 8: test perplexity (\(e.model))")
        },
        scope: { TrainingScope.line($0, claim: "8") })
}

import Datasets
import Foundation
import Reports

extension Claim {
    /// The depths of claim AM1, one training plan each at the paper scale (`ReproductionScale.adaMomentumPlans`).
    static let am1Depths = [1, 2, 3]
    static let am1Baselines = ["adam", "adabelief", "sgd"]

    /// AdaMomentum paper (Wang et al., arXiv 2106.11514), the language experiment: on 1-3-layer AWD-LSTMs on
    /// Penn Treebank AdaMomentum reaches a lower test perplexity than Adam, AdaBelief and SGD.
    public static let awdLSTM = Claim(
        id: "AM1",
        title: "AdaMomentum: on 1–3-layer AWD-LSTMs AdaMomentum reaches lower test perplexity than Adam, AdaBelief and SGD",
        paper: "AdaMomentum (arXiv 2106.11514) §5, Penn Treebank table; the authors' 130 curve files (docs/paper.md §4.8, §5.5)",
        prediction: "for each depth, AdaMomentum's final test perplexity is below Adam's, AdaBelief's and SGD's",
        rule: "AWD-LSTM runs paired by seed (0-4) per depth; final test loss (log perplexity at batch 1), baseline − AdaMomentum; margin 0.01 nats; 9 parts composed; regime check",
        paperScaleGain: "only the paper scale trains the AWD-LSTMs (200 epochs of the authors' recipe, 1-3 layers, 5 seeds)",
        needs: [.training],
        design: { _ in [] },
        judge: { context in
            let evidence = try context.training(for: "AM1")
            guard !evidence.isEmpty else { return am1ScaleTooSmall(context) }
            let optimizers = ["adamomentum"] + am1Baselines
            let parts = evidence.map { e -> ClaimVerdict in
                let label = "\(e.model): "
                return context.trainingChecked(
                    Verdicts.pairs(claim: "AM1", a: ["adamomentum"], baselines: am1Baselines, values: e.finalTestLoss, lowerIsBetter: true,
                                   margin: ClaimRules.perplexityMargin, unit: "nats", label: label),
                    experiment: e.experiment, optimizers: optimizers, label: label)
            }
            return context.runner.withFailures(Verdicts.merge(claim: "AM1", parts), evidence)
        },
        figure: { context, _ in
            guard let first = try context.training(for: "AM1").first else { return nil }
            return try Plots.curves(runs: try first.comparisonRuns(), column: "test_ppl", title: "Claim AM1: test perplexity (\(first.model))")
        },
        scope: { context in
            let line = TrainingScope.line(context, claim: "AM1")
            return line.isEmpty ? "the \(context.scale.name) scale trains no AWD-LSTM (the paper scale's plans: "
                + ReproductionScale.paper.training.filter { $0.claims.contains("AM1") }.map(\.name).joined(separator: ", ") + ")" : line
        })

    /// A scale without AWD-LSTM runs: scale too small, with the regime check of the paper scale's plans beside the
    /// zero steps of this one (computed from the plans, as the paper scale would run them here).
    static func am1ScaleTooSmall(_ context: ClaimContext) -> ClaimVerdict {
        let optimizers = ["adamomentum"] + am1Baselines
        let zero = TrainingRegime.check(steps: 0, optimizers: optimizers)
        var notes = ["the \(context.scale.name) scale trains no AWD-LSTM: " + zero.line]
        let r = context.runner
        let paperRunner = ReproductionRunner(scale: .paper, out: r.out, dataRoot: r.dataRoot, repositoryRoot: r.repositoryRoot,
                                             executable: r.executable, threads: r.threads, claims: ["AM1"])
        for plan in ReproductionScale.paper.training where plan.claims.contains("AM1") {
            if let check = paperRunner.regimeCheck(plan, optimizers: optimizers) {
                notes.append("the paper scale's \(plan.name), per run: " + check.line)
            } else {
                notes.append("the paper scale's \(plan.name): its steps per run are unknown here (no ptb.train.txt under \(paperRunner.dataDirectory(.ptb)))")
            }
        }
        notes.append("run `adai-bench reproduce --scale paper --claims AM1 --plan` for its runs and CPU-hours")
        return ClaimVerdict(claim: "AM1", kind: .scaleTooSmall, notes: notes)
    }
}

import Datasets
import Foundation
import Reports

extension Claim {
    /// Claim 6: Adai and AdaiW reach lower test error than SGD-M and the Adam family (Table 2).
    public static let testError = Claim(
        id: "6",
        title: "Adai and AdaiW reach lower test error than SGD-M and the Adam family",
        paper: "Table 2 (docs/paper.md §5.1, results/paper/table2.csv)",
        prediction: "per model, Adai and AdaiW end with a lower test error than SGD-M and every Adam-family optimizer",
        rule: "CIFAR runs paired by seed; final test error, baseline − Adai(W), per model and pair; margin 0.1 pp; ≥ 10 epochs",
        paperScaleGain: "all five Table 2 rows, eleven optimizers, full data; cells comparable with the paper in its std units",
        needs: [.training],
        design: { _ in [] },
        judge: { context in
            let cifar = try context.training(for: "6").filter { !$0.dataset.isText }
            let power = context.paperTable.map(PaperTable2.power) ?? []
            context.paperGapPower = power
            let parts = cifar.map { e -> ClaimVerdict in
                let ours = ["adai", "adaiw"].filter { e.finalMetric[$0] != nil }
                let baselines = (["sgdm"] + ReproductionScale.cifarAdamFamily).filter { e.finalMetric[$0] != nil }
                var effects: [String: Double] = [:]
                for g in power where g.model == e.model && g.gap > 0 { effects["\(g.a)-vs-\(g.b)"] = g.gap }
                let a = ours.isEmpty ? ["adai"] : ours, b = baselines.isEmpty ? ["sgdm"] : baselines
                return context.trainingChecked(
                    Verdicts.pairs(claim: "6", a: a, baselines: b, values: e.finalMetric, lowerIsBetter: true, margin: ClaimRules.testErrorMargin,
                                   unit: "pp", epochs: e.epochs, effects: effects, label: "\(e.model): "),
                    experiment: e.experiment, optimizers: a + b, label: "\(e.model): ")
            }
            if let paperTable = context.paperTable {
                var ours: [String: [String: Double]] = [:]
                for e in cifar { ours[e.model] = e.bestMetric.mapValues { v in inSeedOrder(v).reduce(0, +) / Double(v.count) } }
                (context.table2Cells, context.kendallTau) = PaperTable2.cells(ours: ours, table: paperTable)
            }
            return context.runner.withFailures(Verdicts.merge(claim: "6", parts), cifar)
        },
        figure: { context, _ in
            guard let first = try context.training(for: "6").first(where: { !$0.dataset.isText }) else { return nil }
            return try Plots.curves(runs: try first.comparisonRuns(), title: "Claim 6: test error (\(first.model))")
        },
        scope: { TrainingScope.line($0, claim: "6") })
}

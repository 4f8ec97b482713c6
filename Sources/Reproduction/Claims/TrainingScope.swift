import Datasets
import Foundation

/// The scope line of the training claims: per experiment the data, model, steps run against the paper's,
/// and the seeds compared.
enum TrainingScope {
    /// The paper's CIFAR protocol: 200 epochs of ⌈50,000/128⌉ = 391 steps.
    static let paperCIFARSteps = 200 * 391

    static func line(_ context: ClaimContext, claim: String) -> String {
        let runner = context.runner
        return context.scale.training.filter { $0.claims.contains(claim) }.map { plan -> String in
            let data = plan.synthetic.map { "synthetic \(plan.dataset) (\($0[0]) train / \($0[1]) test)" } ?? "\(plan.dataset) from \(runner.dataLabel.map { runner.dataDirectory(plan.dataset).replacingOccurrences(of: runner.dataRoot, with: $0) } ?? runner.dataDirectory(plan.dataset))"
            var steps = "\(plan.epochs.map { "\($0) epochs" } ?? "the config's epochs")"
            if let epochs = plan.epochs, !plan.dataset.isText, let images = runner.trainImages(plan), let batch = plan.batchSize {
                let trained = max(0, images - (plan.validation ?? 0))
                let perEpoch = min((trained + batch - 1) / batch, plan.maxSteps ?? Int.max), total = epochs * perEpoch
                steps += String(format: " × %d steps = %d steps against the paper's 200 × 391 = %d (step ratio %.3g)", perEpoch, total, paperCIFARSteps, Double(total) / Double(paperCIFARSteps))
            } else if let maxSteps = plan.maxSteps {
                steps += " of at most \(maxSteps) steps (the paper's LSTM schedule is not published)"
            }
            var seeds = "seeds compared \(plan.seeds.count) (\(plan.seeds.map(String.init).joined(separator: ",")))"
            if let e = context.trainingEvidence[plan.name] {
                let completed = e.finalMetric.values.map(\.count).min() ?? 0
                seeds += ", \(completed) completed for every optimizer"
            }
            if plan.needsSelection {
                let split = plan.dataset.isText ? "the PTB validation text" : "\(plan.validation ?? 0) held-out training images"
                seeds += "; lr chosen on seed \(plan.selectionSeed!) by final validation metric on \(split), left out of the comparison"
                if let e = context.trainingEvidence[plan.name], !e.trials.isEmpty {
                    seeds += "; lr trials per optimizer " + e.trials.keys.sorted().map { "\($0) \(e.trials[$0]!)" }.joined(separator: ", ")
                }
            }
            return "\(plan.name): \(data), model \(plan.model ?? "of configs/\(plan.base ?? "").json"), \(steps), \(seeds)"
        }.joined(separator: "; ")
    }
}

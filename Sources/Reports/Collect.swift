import Foundation
import RunFormat

/// `adai-bench collect`: one row per setting of a sweep (optimizer, lr, weight decay, and any other swept
/// key that names the setting's directory) with its seeds, the final and best value of the run's metric
/// as mean and std over the completed seeds, and how many runs are in each status.
public struct CollectedSetting: Equatable {
    /// The setting's directory name, e.g. `adai-lr1-wd0.0005`.
    public var name: String
    public var optimizer: String, lr: Double, weightDecay: Double
    public var metric: String
    /// Seeds whose run completed, sorted; the statistics are over these runs.
    public var seedsDone: [Int]
    public var final: Statistic, best: Statistic
    public var statuses: [String: Int]
    public var epochsPlanned: Int
}

public enum Collect {
    /// The statuses counted in their own columns, in this order (any other status is counted under `other`).
    public static let statusColumns = ["completed", "diverged", "failed", "interrupted", "running"]

    public static func settings(experiment directory: String) throws -> [CollectedSetting] {
        let runs = try RunLoader.load(experiment: directory)
        let groups = Dictionary(grouping: runs) { ($0.directory as NSString).deletingLastPathComponent }
        var out: [CollectedSetting] = []
        for (settingDirectory, members) in groups {
            let first = members[0].record
            var finals: [Double] = [], bests: [Double] = [], seeds: [Int] = []
            for run in members where run.record.status == .completed {
                guard let (final, best) = try run.finalAndBest() else { continue }
                finals.append(final); bests.append(best); seeds.append(run.record.seed)
            }
            out.append(CollectedSetting(
                name: (settingDirectory as NSString).lastPathComponent, optimizer: first.optimizer, lr: first.lr,
                weightDecay: first.weightDecay, metric: first.metric, seedsDone: seeds.sorted(),
                final: Statistic(finals), best: Statistic(bests),
                statuses: Dictionary(grouping: members, by: \.record.status.rawValue).mapValues(\.count),
                epochsPlanned: members.map(\.record.epochsPlanned).max() ?? 0))
        }
        return out.sorted { ($0.optimizer, $0.lr, $0.weightDecay, $0.name) < ($1.optimizer, $1.lr, $1.weightDecay, $1.name) }
    }

    /// Each optimizer's basin over the experiment's runs (Figure 5; docs/claims.md, claim 11).
    public static func basins(experiment directory: String, distance: Double) throws -> [OptimizerBasin] {
        try Basin.of(runs: try RunLoader.load(experiment: directory), distance: distance)
    }

    /// summary.csv: `setting,optimizer,lr,weight_decay,metric,seeds_done,seeds,final_mean,final_std,best_mean,best_std,`
    /// then a count per status and `epochs_planned`. A std of one seed, or a mean of none, is left empty.
    public static func csv(_ settings: [CollectedSetting]) -> String {
        let header = ["setting", "optimizer", "lr", "weight_decay", "metric", "seeds_done", "seeds", "final_mean", "final_std",
                      "best_mean", "best_std"] + statusColumns + ["other", "epochs_planned"]
        func number(_ x: Double) -> String { x.isNaN ? "" : String(format: "%.9g", x) }
        var lines = [header.joined(separator: ",")]
        for s in settings {
            let other = s.statuses.filter { !statusColumns.contains($0.key) }.values.reduce(0, +)
            let fields = [s.name, s.optimizer, number(s.lr), number(s.weightDecay), s.metric, String(s.seedsDone.count),
                          s.seedsDone.map(String.init).joined(separator: " "), number(s.final.mean), number(s.final.std),
                          number(s.best.mean), number(s.best.std)]
                + statusColumns.map { String(s.statuses[$0] ?? 0) } + [String(other), String(s.epochsPlanned)]
            lines.append(fields.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

import Foundation
import RunFormat

/// Mean, sample standard deviation (n − 1 in the denominator; NaN for one value) and count.
public struct Statistic: Equatable {
    public var mean: Double, std: Double, n: Int
    public init(mean: Double, std: Double, n: Int) { self.mean = mean; self.std = std; self.n = n }

    public init(_ values: [Double]) {
        n = values.count
        guard n > 0 else { mean = .nan; std = .nan; return }
        mean = values.reduce(0, +) / Double(n)
        if n < 2 { std = .nan; return }
        let m = mean
        std = (values.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(n - 1)).squareRoot()
    }
}

/// Which per-run number is summarised and compared: the value after the last epoch, or the lowest over
/// epochs (the paper's tables report the best test error).
public enum RunValue: String, CaseIterable, Sendable {
    case final, best
}

/// The runs of one setting (optimizer, lr, weight decay) over seeds.
public struct SettingSummary {
    public var setting: Setting
    public var dataset: String, model: String, metric: String
    public var final: Statistic, best: Statistic
    /// Fewest epochs completed by any of its runs, and the most planned.
    public var epochsCompleted: Int, epochsPlanned: Int
    /// Run count per status (`completed`, `running`, `diverged`, `interrupted`).
    public var statuses: [String: Int]
    public var seeds: [Int]

    public func value(_ which: RunValue) -> Statistic { which == .final ? final : best }
}

/// One optimizer's chosen setting: the one with the lowest mean (of final or best) among those run,
/// as the paper picks the best learning rate.
public struct OptimizerSummary {
    public var chosen: SettingSummary
    public var settingsTried: Int
    public var optimizer: String { chosen.setting.optimizer }
}

public enum Summaries {
    /// Per setting, the final and best value of the run's metric over seeds, sorted by setting.
    /// Runs that have not finished an epoch are left out and named in `skipped`.
    public static func settings(_ runs: [Run]) throws -> (summaries: [SettingSummary], skipped: [String]) {
        var values: [Setting: [(run: Run, final: Double, best: Double)]] = [:]
        var skipped: [String] = []
        for run in runs {
            guard let (final, best) = try run.finalAndBest() else { skipped.append(run.directory); continue }
            values[run.setting, default: []].append((run, final, best))
        }
        let summaries = values.keys.sorted().map { setting -> SettingSummary in
            let entries = values[setting]!
            let first = entries[0].run.record
            return SettingSummary(
                setting: setting, dataset: first.dataset, model: first.model, metric: first.metric,
                final: Statistic(entries.map(\.final)), best: Statistic(entries.map(\.best)),
                epochsCompleted: entries.map { $0.run.metrics.rows.count }.min()!,
                epochsPlanned: entries.map(\.run.record.epochsPlanned).max()!,
                statuses: Dictionary(grouping: entries, by: \.run.record.status.rawValue).mapValues(\.count),
                seeds: entries.map(\.run.record.seed).sorted())
        }
        return (summaries, skipped)
    }

    /// Per optimizer, the setting with the lowest mean of `by` (ties: the first in setting order).
    public static func optimizers(_ settings: [SettingSummary], by which: RunValue) -> [OptimizerSummary] {
        let groups = Dictionary(grouping: settings, by: \.setting.optimizer)
        return groups.keys.sorted().map { optimizer in
            let candidates = groups[optimizer]!
            let chosen = candidates.min { lhs, rhs in
                let a = lhs.value(which).mean, b = rhs.value(which).mean
                if a.isNaN != b.isNaN { return !a.isNaN }
                return a < b || (a == b && lhs.setting < rhs.setting)
            }!
            return OptimizerSummary(chosen: chosen, settingsTried: candidates.count)
        }
    }
}

/// Kendall's rank correlation τ-b between two lists of numbers (ties allowed); nil with fewer than two
/// pairs or when one list is constant.
public func kendallTau(_ x: [Double], _ y: [Double]) -> Double? {
    precondition(x.count == y.count, "kendallTau needs lists of the same length")
    let n = x.count
    guard n >= 2 else { return nil }
    var concordant = 0, discordant = 0, tiesX = 0, tiesY = 0
    for i in 0..<n {
        for j in (i + 1)..<n {
            let dx = (x[i] - x[j]).sign, dy = (y[i] - y[j]).sign
            let zeroX = x[i] == x[j], zeroY = y[i] == y[j]
            if zeroX && zeroY { tiesX += 1; tiesY += 1; continue }
            if zeroX { tiesX += 1; continue }
            if zeroY { tiesY += 1; continue }
            if dx == dy { concordant += 1 } else { discordant += 1 }
        }
    }
    let pairs = n * (n - 1) / 2
    let denominator = (Double(pairs - tiesX) * Double(pairs - tiesY)).squareRoot()
    guard denominator > 0 else { return nil }
    return Double(concordant - discordant) / denominator
}

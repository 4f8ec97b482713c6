import Foundation

/// One cell of a paper table (`results/paper/*.csv`).
public struct PaperRow: Equatable {
    public var dataset: String, model: String, metric: String, optimizer: String
    public var mean: Double
    /// NaN when the paper gives no standard deviation (the arXiv v1 table).
    public var std: Double
}

/// A paper table with columns `dataset,model,optimizer,mean,std` and optionally `metric`
/// (default `test_error`); `std` may be empty.
public struct PaperTable {
    public var path: String
    public var rows: [PaperRow]

    public static func read(_ path: String) throws -> PaperTable {
        let table = try CSVTable.read(path)
        let purpose = "a paper table needs dataset,model,optimizer,mean,std (results/paper/table2.csv)"
        let dataset = try table.requireColumn("dataset", purpose: purpose), model = try table.requireColumn("model", purpose: purpose)
        let optimizer = try table.requireColumn("optimizer", purpose: purpose), mean = try table.requireColumn("mean", purpose: purpose)
        let std = table.columnIndex("std"), metric = table.columnIndex("metric")
        var seen = Set<[String]>()
        let rows = try table.rows.indices.map { i -> PaperRow in
            let row = table.rows[i]
            let paperRow = PaperRow(dataset: row[dataset], model: row[model], metric: metric.map { row[$0] } ?? "test_error",
                                    optimizer: row[optimizer], mean: try table.number(row: i, column: mean),
                                    std: try std.map { try table.number(row: i, column: $0) } ?? .nan)
            guard paperRow.mean.isFinite else {
                throw ReportError("\(path):\(table.lineNumbers[i]): the paper's mean is empty; give the number or remove the line")
            }
            guard seen.insert([paperRow.dataset, paperRow.model, paperRow.metric, paperRow.optimizer]).inserted else {
                throw ReportError("\(path):\(table.lineNumbers[i]): a second row for \(paperRow.dataset)/\(paperRow.model)/"
                                  + "\(paperRow.optimizer); keep one")
            }
            return paperRow
        }
        return PaperTable(path: path, rows: rows)
    }

    /// The rows of one dataset, model and metric.
    public func rows(dataset: String, model: String, metric: String) -> [PaperRow] {
        rows.filter { $0.dataset == dataset && $0.model == model && $0.metric == metric }
    }
}

/// Where our number stands against the paper's.
public enum Verdict: Equatable {
    /// |ours − paper| ≤ K paper std.
    case within(Double)
    /// Lower (better) than the paper by more than K std.
    case better
    /// Higher (worse) than the paper by more than K std.
    case worse
    case notInPaper
    case paperHasNoStd

    public var text: String {
        switch self {
        case .within(let k): return "within \(formatNumber(k, significant: 3)) std"
        case .better: return "better"
        case .worse: return "worse"
        case .notInPaper: return "not in paper"
        case .paperHasNoStd: return "paper has no std"
        }
    }
}

/// One optimizer's line of the comparison.
public struct ComparisonRow {
    public var ours: OptimizerSummary
    public var paper: PaperRow?
    /// Our mean (of the compared value) minus the paper's mean, and that in units of the paper's std.
    public var difference: Double?, differenceInStd: Double?
    public var verdict: Verdict
    /// The runs completed fewer epochs than the paper's protocol.
    public var short: Bool
}

/// The comparison of one dataset and model with the paper.
public struct Comparison {
    public var dataset: String, model: String, metric: String
    public var compared: RunValue
    public var k: Double
    public var paperPath: String
    /// Epochs of the paper's protocol (200 for CIFAR), nil when unknown.
    public var protocolEpochs: Int?
    public var rows: [ComparisonRow]
    /// Kendall's τ between our means and the paper's over the optimizers in both, with their count.
    public var tau: Double?, tauCount: Int
    /// Lowest mean among the optimizers in both, ours and the paper's; and the paper's best over its whole row.
    public var ourWinner: String?, paperWinner: String?, paperOverallWinner: String?
    public var skippedRuns: [String]
    /// The paper table has a row for this data set, model and metric (false: the table is our experiment's alone).
    public var paperHasRow: Bool = true
    /// The rows (data set/model/metric) the paper table does have, for the line that says it has none of ours.
    public var paperRowsAvailable: [String] = []

    /// One line saying the paper has no row for this experiment, or nil.
    public var noPaperRowLine: String? {
        paperHasRow ? nil : "The paper (\(paperPath)) has no row for \(dataset)/\(model)/\(metric): this table is our experiment's alone "
            + "(the paper's rows: \(paperRowsAvailable.joined(separator: ", ")))."
    }

    /// Rows whose difference is more than `k` paper std.
    public func rowsOutside(_ k: Double) -> [ComparisonRow] {
        rows.filter { row in row.differenceInStd.map { abs($0) > k } ?? false }
    }
}

public enum Compare {
    /// Epochs of the paper's training protocol per dataset (docs/paper.md §4.1: 200 epochs on CIFAR).
    public static let protocolEpochs: [String: Int] = ["cifar10": 200, "cifar100": 200]

    /// Compares the runs below `experiment` with `paper`, one `Comparison` per (dataset, model, metric).
    public static func compare(experiment: String, paper: PaperTable, compared: RunValue = .best, k: Double = 2) throws -> [Comparison] {
        guard k.isFinite, k > 0 else { throw ReportError("K must be a positive number of standard deviations, got \(k)") }
        let runs = try RunLoader.load(experiment: experiment)
        let (settings, skipped) = try Summaries.settings(runs)
        guard !settings.isEmpty else {
            throw ReportError("\(experiment): none of its \(runs.count) runs has finished an epoch (empty metrics.csv); "
                              + "wait for the first epoch or resume the runs")
        }
        let groups = Dictionary(grouping: settings) { [$0.dataset, $0.model, $0.metric] }
        return try groups.keys.sorted { $0.lexicographicallyPrecedes($1) }.map { key in
            let (dataset, model, metric) = (key[0], key[1], key[2])
            // A data set and model the paper does not have (a researcher's own experiment, e.g. the quick start's
            // resnet-tiny) still gets its table: every row "not in paper", and one line saying so.
            let paperRows = paper.rows(dataset: dataset, model: model, metric: metric)
            let summaries = Summaries.optimizers(groups[key]!, by: compared)
            let protocolEpochs = protocolEpochs[dataset]
            let rows = summaries.map { summary -> ComparisonRow in
                let ours = summary.chosen.value(compared).mean
                let short = protocolEpochs.map { summary.chosen.epochsCompleted < $0 } ?? false
                guard let paperRow = paperRows.first(where: { $0.optimizer == summary.optimizer }) else {
                    return ComparisonRow(ours: summary, paper: nil, difference: nil, differenceInStd: nil, verdict: .notInPaper, short: short)
                }
                let difference = ours - paperRow.mean
                guard paperRow.std.isFinite, difference.isFinite else {
                    return ComparisonRow(ours: summary, paper: paperRow, difference: difference, differenceInStd: nil,
                                         verdict: .paperHasNoStd, short: short)
                }
                let inStd = paperRow.std > 0 ? difference / paperRow.std : (difference == 0 ? 0 : difference.sign == .minus ? -.infinity : .infinity)
                let verdict: Verdict = abs(inStd) <= k ? .within(k) : inStd < 0 ? .better : .worse
                return ComparisonRow(ours: summary, paper: paperRow, difference: difference, differenceInStd: inStd,
                                     verdict: verdict, short: short)
            }
            let common = rows.filter { $0.paper != nil && $0.ours.chosen.value(compared).mean.isFinite }
            let tau = kendallTau(common.map { $0.ours.chosen.value(compared).mean }, common.map { $0.paper!.mean })
            let ourWinner = common.min { $0.ours.chosen.value(compared).mean < $1.ours.chosen.value(compared).mean }?.ours.optimizer
            let paperWinner = common.min { $0.paper!.mean < $1.paper!.mean }?.ours.optimizer
            var comparison = Comparison(dataset: dataset, model: model, metric: metric, compared: compared, k: k, paperPath: paper.path,
                              protocolEpochs: protocolEpochs, rows: rows, tau: tau, tauCount: common.count,
                              ourWinner: ourWinner, paperWinner: paperWinner,
                              paperOverallWinner: paperRows.min { $0.mean < $1.mean }?.optimizer,
                              skippedRuns: skipped.filter { path in runs.contains { $0.directory == path && [$0.record.dataset, $0.record.model, $0.record.metric] == key } })
            comparison.paperHasRow = !paperRows.isEmpty
            comparison.paperRowsAvailable = Set(paper.rows.map { "\($0.dataset)/\($0.model)/\($0.metric)" }).sorted()
            return comparison
        }
    }

    /// The exit status for `--fail-outside K`: 1 when any compared cell is more than K paper std away, else 0.
    public static func exitStatus(_ comparisons: [Comparison], failOutside k: Double?) -> Int32 {
        guard let k else { return 0 }
        return comparisons.contains { !$0.rowsOutside(k).isEmpty } ? 1 : 0
    }

    // MARK: Output

    static func cell(_ s: Statistic) -> String {
        guard s.mean.isFinite else { return s.mean.isNaN ? "-" : formatNumber(s.mean, significant: 4) }
        return s.std.isFinite ? String(format: "%.2f ± %.2f", s.mean, s.std) : String(format: "%.2f", s.mean)
    }

    static func signed(_ x: Double?) -> String {
        guard let x else { return "-" }
        return x.isFinite ? String(format: "%+.2f", x) : formatNumber(x)
    }

    static func epochs(_ row: ComparisonRow, _ comparison: Comparison) -> String {
        let completed = row.ours.chosen.epochsCompleted
        let target = comparison.protocolEpochs ?? row.ours.chosen.epochsPlanned
        return "\(completed)/\(target)" + (row.short ? " (short)" : "")
    }

    /// A Markdown report: per dataset and model a table, then Kendall's τ and the winners.
    public static func markdown(_ comparisons: [Comparison]) -> String {
        var out: [String] = []
        for c in comparisons {
            out.append("## \(c.dataset) \(c.model): \(c.metric), \(c.compared.rawValue) over epochs, vs \(c.paperPath)")
            out.append("")
            out.append("| optimizer | setting | n | epochs | final | best | paper | diff | diff/std | verdict |")
            out.append("|---|---|---|---|---|---|---|---|---|---|")
            for r in c.rows {
                let s = r.ours.chosen
                let setting = "lr=\(formatNumber(s.setting.lr, significant: 6)) wd=\(formatNumber(s.setting.weightDecay, significant: 6))"
                    + (r.ours.settingsTried > 1 ? " (best of \(r.ours.settingsTried))" : "")
                let paper = r.paper.map { $0.std.isFinite ? String(format: "%.2f ± %.2f", $0.mean, $0.std) : String(format: "%.2f", $0.mean) } ?? "-"
                out.append("| \(r.ours.optimizer) | \(setting) | \(s.best.n) | \(epochs(r, c)) | \(cell(s.final)) | \(cell(s.best)) | "
                           + "\(paper) | \(signed(r.difference)) | \(signed(r.differenceInStd)) | \(r.verdict.text) |")
            }
            out.append("")
            out.append(contentsOf: summaryLines(c))
            out.append("")
        }
        return out.joined(separator: "\n")
    }

    static func summaryLines(_ c: Comparison) -> [String] {
        var lines: [String] = []
        if let line = c.noPaperRowLine { lines.append(line) }
        let tau = c.tau.map { String(format: "%.3f", $0) } ?? "undefined (needs two optimizers in both with different values)"
        lines.append("Kendall's tau between our ordering and the paper's (\(c.tauCount) optimizers in both): \(tau)")
        lines.append("Winner among them: ours \(c.ourWinner ?? "-"), paper \(c.paperWinner ?? "-")"
                     + (c.paperOverallWinner.map { $0 != c.paperWinner ? " (the paper's best over its whole row: \($0))" : "" } ?? ""))
        let shortRows = c.rows.filter(\.short)
        if let target = c.protocolEpochs, !shortRows.isEmpty {
            lines.append("Short: \(shortRows.map(\.ours.optimizer).joined(separator: ", ")) ran fewer epochs than the paper's "
                         + "protocol (\(target)); their numbers are not comparable with the paper's.")
        }
        let unfinished = c.rows.flatMap { r in r.ours.chosen.statuses.filter { $0.key != "completed" }.map { "\(r.ours.optimizer): \($0.value) \($0.key)" } }
        if !unfinished.isEmpty { lines.append("Not completed: " + unfinished.sorted().joined(separator: "; ")) }
        if !c.skippedRuns.isEmpty { lines.append("Left out (no finished epoch): " + c.skippedRuns.joined(separator: ", ")) }
        return lines
    }

    /// The same as CSV: one row per optimizer; τ and the winners as `#` comment lines at the end.
    public static func csv(_ comparisons: [Comparison]) -> String {
        var out = ["dataset,model,metric,compared,optimizer,lr,weight_decay,runs,epochs_completed,protocol_epochs,short,"
                   + "final_mean,final_std,best_mean,best_std,paper_mean,paper_std,difference,difference_in_std,verdict"]
        func n(_ x: Double?) -> String { x.map { formatNumber($0, significant: 6) } ?? "" }
        for c in comparisons {
            for r in c.rows {
                let s = r.ours.chosen
                out.append([c.dataset, c.model, c.metric, c.compared.rawValue, r.ours.optimizer, n(s.setting.lr), n(s.setting.weightDecay),
                            "\(s.best.n)", "\(s.epochsCompleted)", c.protocolEpochs.map(String.init) ?? "", r.short ? "true" : "false",
                            n(s.final.mean), n(s.final.std), n(s.best.mean), n(s.best.std), n(r.paper?.mean), n(r.paper?.std),
                            n(r.difference), n(r.differenceInStd), r.verdict.text].joined(separator: ","))
            }
            out.append("# \(c.dataset),\(c.model): kendall_tau=\(n(c.tau)) over \(c.tauCount); winner ours=\(c.ourWinner ?? "") "
                       + "paper=\(c.paperWinner ?? "")")
            if let line = c.noPaperRowLine { out.append("# " + line) }
        }
        return out.joined(separator: "\n") + "\n"
    }
}

import ArgumentParser
import Engine
import Foundation
import Reports
import Reproduction

/// `adai-bench collect results/<name>`: the sweep's summary.csv.
struct CollectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "collect",
        abstract: "Summarise an experiment's runs into summary.csv: one row per (optimizer, lr, weight decay).",
        discussion: """
            Columns: setting (the setting's directory), optimizer, lr, weight_decay, metric (test_error in percent or \
            test_ppl), seeds_done and seeds (the completed runs), final_mean, final_std, best_mean, best_std (over the \
            completed seeds; std is empty for one seed), the number of runs completed, diverged, failed, interrupted, \
            running and other, and epochs_planned. The file is the input of comparisons and lr × wd heatmaps.

            It also reports each optimizer's basin (Figure 5, docs/claims.md claim 11): the cells of its lr × wd grid \
            whose final metric, as the mean over seeds, lies within --basin-distance of its best cell (a diverged run \
            counts as worse than any finished one), and the same count on each seed's own grid; printed, and written \
            to basin.csv beside summary.csv.
            """)

    @Argument(help: "The experiment's results directory (results/<name>).")
    var experiment: String

    @Option(help: "Where to write the summary (default: <experiment>/summary.csv).")
    var output: String?

    @Option(help: "The basin's distance from the best cell, in the metric's units (percentage points of test error).")
    var basinDistance: Double = ClaimRules.basinDistance

    func run() throws {
        guard basinDistance.isFinite, basinDistance >= 0 else {
            throw ReportError("--basin-distance \(basinDistance): must be a number ≥ 0 in the metric's units (e.g. 1 for 1 percentage point of test error)")
        }
        let settings = try Collect.settings(experiment: experiment)
        let path = output ?? (experiment as NSString).appendingPathComponent("summary.csv")
        try AtomicFile.write(Collect.csv(settings), to: path)
        let runs = settings.flatMap(\.statuses).reduce(into: [String: Int]()) { $0[$1.key, default: 0] += $1.value }
        print("\(path): \(settings.count) setting\(settings.count == 1 ? "" : "s"), runs " + runs.keys.sorted().map { "\(runs[$0]!) \($0)" }.joined(separator: ", "))
        let basins = try Collect.basins(experiment: experiment, distance: basinDistance)
        let basinPath = ((path as NSString).deletingLastPathComponent as NSString).appendingPathComponent("basin.csv")
        try AtomicFile.write(Basin.csv(basins), to: basinPath)
        print("\(basinPath): the basin of each optimizer (docs/claims.md, claim 11)")
        for b in basins { print("  " + b.line) }
    }
}

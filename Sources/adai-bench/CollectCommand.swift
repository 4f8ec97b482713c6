import ArgumentParser
import Engine
import Foundation
import Reports

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
            """)

    @Argument(help: "The experiment's results directory (results/<name>).")
    var experiment: String

    @Option(help: "Where to write the summary (default: <experiment>/summary.csv).")
    var output: String?

    func run() throws {
        do {
            let settings = try Collect.settings(experiment: experiment)
            let path = output ?? (experiment as NSString).appendingPathComponent("summary.csv")
            try AtomicFile.write(Collect.csv(settings), to: path)
            let runs = settings.flatMap(\.statuses).reduce(into: [String: Int]()) { $0[$1.key, default: 0] += $1.value }
            print("\(path): \(settings.count) setting\(settings.count == 1 ? "" : "s"), runs " + runs.keys.sorted().map { "\(runs[$0]!) \($0)" }.joined(separator: ", "))
        } catch let error as ReportError {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(1)
        } catch let error as AtomicFile.WriteError {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}

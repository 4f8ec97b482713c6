import ArgumentParser
import Foundation
import Reports

extension RunValue: ExpressibleByArgument {}

/// `adai-bench compare results/<name>`: our numbers against the paper's table.
struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Compare an experiment's test errors with the paper's table (difference, std units, Kendall's tau).",
        discussion: """
            For each optimizer: our final and best test error (mean ± std over seeds, n), the paper's mean ± std, \
            the difference (ours − paper, of --value), that difference in units of the paper's std, and a verdict: \
            within K std, better or worse. Where an optimizer was run with several learning rates or weight decays, \
            the setting with the lowest mean is compared, as the paper picks its best lr. Then Kendall's tau between \
            our ordering of the optimizers and the paper's, and the winner in each. Runs shorter than the paper's \
            protocol (200 epochs on CIFAR) are marked "(short)". The paper's tables are in results/paper/ \
            (table2.csv: ICML Table 2; arxiv-v1.csv: the 2020 table without std).
            """)

    @Argument(help: "The experiment's results directory (results/<name>), holding <setting>/seed-<n>/run.json and metrics.csv.")
    var experiment: String

    @Option(help: "The paper table to compare with (CSV with dataset,model,optimizer,mean,std).")
    var paper: String = "results/paper/table2.csv"

    @Option(help: "Output format: md (Markdown) or csv.")
    var format: OutputFormat = .md

    @Option(help: "Which per-run number is compared: best (lowest over epochs, as in the paper) or final.")
    var value: RunValue = .best

    @Option(name: .customLong("fail-outside"), help: ArgumentHelp(
        "Exit with status 1 when any optimizer is further than K paper std from the paper.", valueName: "K"))
    var failOutside: Double?

    @Option(help: ArgumentHelp("The K of the verdict 'within K std' when --fail-outside is not given.", valueName: "K"))
    var within: Double = 2

    enum OutputFormat: String, ExpressibleByArgument, CaseIterable { case md, csv }

    func validate() throws {
        if let k = failOutside, !(k.isFinite && k > 0) { throw ValidationError("--fail-outside needs a positive number of std, got \(k)") }
        if !(within.isFinite && within > 0) { throw ValidationError("--within needs a positive number of std, got \(within)") }
    }

    func run() throws {
        let table = try PaperTable.read(paper)
        let comparisons = try Compare.compare(experiment: experiment, paper: table, compared: value, k: failOutside ?? within)
        print(format == .md ? Compare.markdown(comparisons) : Compare.csv(comparisons), terminator: "")
        let status = Compare.exitStatus(comparisons, failOutside: failOutside)
        if status != 0, let k = failOutside {
            let outside = comparisons.flatMap { c in c.rowsOutside(k).map { "\(c.dataset)/\(c.model) \($0.ours.optimizer)" } }
            FileHandle.standardError.write(Data("compare: \(outside.count) cell(s) further than \(formatNumberForCLI(k)) std from the paper: \(outside.joined(separator: ", "))\n".utf8))
            throw ExitCode(status)
        }
    }
}

/// `3` rather than `3.0`.
func formatNumberForCLI(_ x: Double) -> String { String(format: "%g", x) }

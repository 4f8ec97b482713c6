import ArgumentParser
import Engine
import Experiments
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
            (table2.csv: ICML Table 2; arxiv-v1.csv: the 2020 table without std). \
            With --layout table (the default of --format latex) the output is instead the layout of the paper's \
            Table 2: one row per (data set, model), one column per optimizer, mean with the std over seeds as a \
            subscript, the lowest of each row in bold, † for runs shorter than the paper's protocol; --with-paper \
            adds the paper's numbers in a row below ours. The LaTeX is a tabular (plain LaTeX, no packages) ready \
            for \\input inside a table environment.

            For runs of the AdaMomentum authors' AWD-LSTMs (configs/ptb-awd-lstm-*layer.json; a results directory or \
            one run directory) the comparison is instead per epoch with the authors' five runs of the same \
            configuration (optimizer, layers, lr, eps) in --authors-curves: their mean, s and a 95% prediction interval \
            for one new run, mean ± t(4, 0.975)·s·√(1 + 1/5), and whether ours is inside it at each epoch. --quantity \
            test compares the test perplexity (batch 1, as main.py evaluates); --quantity train compares main.py's \
            logged training perplexity (exp of the mean loss over the epoch's last complete 200-batch window) with \
            ours logged the same way (train_ppl_window).
            """)

    @Argument(help: "The experiment's results directory (results/<name>), holding <setting>/seed-<n>/run.json and metrics.csv.")
    var experiment: String

    @Option(help: ArgumentHelp("The paper table to compare with (CSV with dataset,model,optimizer,mean,std).",
                               discussion: "Default: results/paper/table2.csv of the working directory, else of the installation or checkout the binary comes from."))
    var paper: String?

    @Option(help: "Output format: md (Markdown), csv or latex.")
    var format: OutputFormat = .md

    @Option(help: "detail (a table per data set and model with the differences and verdicts) or table (the paper's Table 2 layout; the default with --format latex).")
    var layout: Layout?

    @Flag(name: .customLong("with-paper"), help: "In the table layout, add the paper's numbers in a row below ours.")
    var withPaper = false

    @Option(help: "Which per-run number is compared: best (lowest over epochs, as in the paper) or final.")
    var value: RunValue = .best

    @Option(name: .customLong("fail-outside"), help: ArgumentHelp(
        "Exit with status 1 when any optimizer is further than K paper std from the paper; for AWD-LSTM runs, when any epoch lies outside the authors' 95% prediction interval (the interval sets the bound there, K is not used).", valueName: "K"))
    var failOutside: Double?

    @Option(help: ArgumentHelp("The K of the verdict 'within K std' when --fail-outside is not given.", valueName: "K"))
    var within: Double = 2

    @Option(name: .customLong("authors-curves"), help: ArgumentHelp(
        "The AdaMomentum authors' per-epoch PTB curves (for AWD-LSTM runs).",
        discussion: "Default: results/paper/adamomentum-ptb-curves.csv of the working directory, else of the installation or checkout the binary comes from."))
    var authorsCurves: String?

    @Option(help: "For AWD-LSTM runs: test (test perplexity) or train (main.py's logged training perplexity, ours train_ppl_window).")
    var quantity: AuthorsCurves.Quantity = .test

    enum OutputFormat: String, ExpressibleByArgument, CaseIterable { case md, csv, latex }
    enum Layout: String, ExpressibleByArgument, CaseIterable { case detail, table }

    func validate() throws {
        if let k = failOutside, !(k.isFinite && k > 0) { throw ValidationError("--fail-outside needs a positive number of std, got \(k)") }
        if !(within.isFinite && within > 0) { throw ValidationError("--within needs a positive number of std, got \(within)") }
        if format == .latex && layout == .detail { throw ValidationError("--format latex has only the table layout; drop --layout detail or use --format md") }
        if withPaper && (layout ?? (format == .latex ? .table : .detail)) == .detail {
            throw ValidationError("--with-paper belongs to the table layout; add --layout table (the detail layout always shows the paper)")
        }
    }

    func run() throws {
        if try besideAuthors() { return }
        let table = try PaperTable.read(paper ?? ProjectFiles.path("results/paper/table2.csv"))
        let comparisons = try Compare.compare(experiment: experiment, paper: table, compared: value, k: failOutside ?? within)
        if (layout ?? (format == .latex ? .table : .detail)) == .table {
            let order = table.rows.map(\.optimizer)
            let t = ComparisonTable(comparisons, paperOrder: order, withPaper: withPaper)
            print(format == .latex ? t.latex() : format == .md ? t.markdown() : t.csv(), terminator: "")
        } else {
            print(format == .md ? Compare.markdown(comparisons) : Compare.csv(comparisons), terminator: "")
        }
        let status = Compare.exitStatus(comparisons, failOutside: failOutside)
        if status != 0, let k = failOutside {
            let outside = comparisons.flatMap { c in c.rowsOutside(k).map { "\(c.dataset)/\(c.model) \($0.ours.optimizer)" } }
            FileHandle.standardError.write(Data("compare: \(outside.count) cell(s) further than \(formatNumberForCLI(k)) std from the paper: \(outside.joined(separator: ", "))\n".utf8))
            throw ExitCode(status)
        }
    }
}

extension AuthorsCurves.Quantity: ExpressibleByArgument {}

extension CompareCommand {
    /// Runs of the authors' AWD-LSTMs are compared per epoch with the authors' curves; returns false for other runs.
    func besideAuthors() throws -> Bool {
        let runs = try RunLoader.load(experiment: experiment)
        guard runs.contains(where: { AuthorsCurves.layers(model: $0.record.model) != nil }) else { return false }
        if format == .latex || layout == .table {
            throw ValidationError("AWD-LSTM runs are compared epoch by epoch with the authors' runs; use --format md or csv without --layout table")
        }
        let comparisons = try BesideAuthors.compare(runs: runs, curves: try AuthorsCurves.read(authorsCurves ?? ProjectFiles.path(AuthorsCurves.defaultPath)), quantity: quantity)
        print(format == .md ? BesideAuthors.markdown(comparisons) : BesideAuthors.csv(comparisons), terminator: "")
        if let k = failOutside, comparisons.contains(where: { !$0.outside.isEmpty }) {
            FileHandle.standardError.write(Data("compare: some epochs are outside the authors' prediction interval (--fail-outside \(formatNumberForCLI(k)) asks for none)\n".utf8))
            throw ExitCode(1)
        }
        return true
    }
}

/// `3` rather than `3.0`.
func formatNumberForCLI(_ x: Double) -> String { NumberFormat.g(6).string(x) }

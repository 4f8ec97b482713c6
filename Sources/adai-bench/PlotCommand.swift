import ArgumentParser
import Engine
import Experiments
import Foundation
import Plot
import Reports
import Reproduction

extension ImageFormat: ExpressibleByArgument {}

/// `adai-bench plot curves|loss|heatmap|escape|hessian|sharpness|saddle`: figures drawn through cairo.
struct PlotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plot",
        abstract: "Draw figures of experiments and analyses as PNG, PDF or SVG: test-error curves, training loss, lr × wd heatmaps, escape rates, Hessian spectra, sharpness, saddle escape.",
        discussion: """
            Figures are drawn with cairo in DejaVu Sans and the colour-blind-safe Okabe-Ito palette, sized in points \
            for a paper (the default 360×240 pt is 5×3.3 in; one column of a two-column paper is about 234 pt wide, \
            a full page width about 486 pt). PDF and SVG are vector graphics; PNG is rendered at --dpi. The format \
            follows --format, else the extension of --out, else PNG. Without --out the figure is written beside the \
            input (results/<name>/curves.png, loss.png, heatmap-<optimizer>.png; escape.png, hessian.png, \
            sharpness.png, saddle.png beside the first CSV). On one machine the same input gives the same bytes in every format.
            """,
        subcommands: [PlotCurves.self, PlotLoss.self, PlotHeatmap.self, PlotEscape.self, PlotHessian.self, PlotSharpness.self,
                      PlotSaddle.self])
}

/// Where and how a figure is written: shared by every plot subcommand.
struct OutputOptions: ParsableArguments {
    @Option(help: "The file to write (default: beside the input); its extension (.png, .pdf, .svg) sets the format.")
    var out: String?

    @Option(help: "png, pdf or svg (default: from the extension of --out, else png).")
    var format: ImageFormat?

    @Option(help: "Resolution of a PNG in dots per inch (pixels = points × dpi / 72).")
    var dpi: Double = 150

    @Option(help: "Figure title (default: from the input).")
    var title: String?

    func validate() throws {
        guard dpi.isFinite, (36...1200).contains(dpi) else { throw ValidationError("--dpi must be 36...1200, got \(formatNumberForCLI(dpi))") }
        if let out, format == nil, !(out as NSString).pathExtension.isEmpty, ImageFormat(path: out) == nil {
            throw ValidationError("--out \(out): unknown extension; use .png, .pdf or .svg, or pass --format")
        }
    }

    /// The path written: --out, else `base` (a path without extension) with the format's extension.
    func path(base: String) -> String { out ?? base + "." + resolvedFormat.rawValue }

    var resolvedFormat: ImageFormat { format ?? out.flatMap { ImageFormat(path: $0) } ?? .png }

    func write(_ figure: Figure, base: String) throws {
        let path = path(base: base)
        let (w, h) = try figure.write(to: path, format: resolvedFormat, dpi: dpi)
        print("wrote \(path) (" + (resolvedFormat == .png ? "\(w)×\(h) px at \(formatNumberForCLI(dpi)) dpi" : "\(w)×\(h) pt") + ")")
    }
}

/// Options of the line charts: the output and the size in points.
struct ChartOptions: ParsableArguments {
    @OptionGroup var output: OutputOptions

    @Option(help: "Width of the figure in points (1/72 in).")
    var width: Double = 360

    @Option(help: "Height of the figure in points.")
    var height: Double = 240

    func validate() throws {
        guard width.isFinite, height.isFinite, (150...2000).contains(width), (100...2000).contains(height) else {
            throw ValidationError("--width must be 150...2000 and --height 100...2000 points, got \(formatNumberForCLI(width))×\(formatNumberForCLI(height))")
        }
    }

    var title: String? { output.title }

    func write(_ chart: LineChart, base: String) throws {
        var chart = chart
        chart.width = width; chart.height = height
        try output.write(chart.figure(), base: base)
    }
}

/// Draws an analysis's figure as `<csv without extension>.png` beside its CSV. The CSV is the result: when the
/// figure cannot be drawn, a warning says why and the command still succeeds.
func drawBeside(csv: String, _ chart: () throws -> LineChart) {
    let path = (csv as NSString).deletingPathExtension + ".png"
    do {
        try chart().figure().write(to: path)
        print("wrote \(path)")
    } catch {
        FileHandle.standardError.write(Data("warning: \(csv) is written but its figure is not: \(error); draw it with adai-bench plot\n".utf8))
    }
}

/// The directory of a CSV (`.` when it has none) joined with `name`.
func besideFile(_ path: String, _ name: String) -> String {
    let directory = (path as NSString).deletingLastPathComponent
    return ((directory.isEmpty ? "." : directory) as NSString).appendingPathComponent(name)
}

struct PlotCurves: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "curves",
        abstract: "Test error against epoch, one line per optimizer: mean over seeds with a shaded ± std band (Figures 2-3).",
        discussion: """
            Runs of the AdaMomentum authors' AWD-LSTMs (awd-lstm-1layer, -2layer, -3layer) are drawn beside the authors' \
            five runs of the same configuration from --authors-curves: their mean with a shaded 95% prediction interval \
            for one new run (mean ± t(4, 0.975)·s·√(1 + 1/5)), and ours per run, up to our last epoch; \
            the command prints at which epochs ours is outside the interval. --metric test_ppl (the default for these \
            runs) or train_ppl_window (main.py's logged training perplexity); --no-authors draws ours alone.
            """)

    @Argument(help: "The experiment's results directory (results/<name>).")
    var experiment: String

    @Option(help: "The metrics.csv column to draw (test_error; test_ppl for language models; any column).")
    var metric: String = "test_error"

    @Option(parsing: .upToNextOption, help: "Only these optimizers (default: all in the experiment).")
    var optimizers: [String] = []

    @Option(name: .customLong("authors-curves"), help: ArgumentHelp(
        "For runs of the authors' AWD-LSTMs: the authors' per-epoch PTB curves drawn beside ours.",
        discussion: "Default: results/paper/adamomentum-ptb-curves.csv of the working directory, else of the installation or checkout the binary comes from."))
    var authorsCurves: String?

    @Flag(name: .customLong("no-authors"), help: "For AWD-LSTM runs, draw ours alone (mean ± std over seeds) instead of beside the authors' runs.")
    var noAuthors = false

    @OptionGroup var chart: ChartOptions

    func run() throws {
        let runs = try RunLoader.load(experiment: experiment)
        let selected = optimizers.isEmpty ? runs : runs.filter { optimizers.contains($0.record.optimizer) }
        if !noAuthors, !selected.isEmpty, selected.allSatisfy({ AuthorsCurves.layers(model: $0.record.model) != nil }) {
            let quantity: AuthorsCurves.Quantity
            switch metric {
            case "test_error", "test_ppl": quantity = .test
            case "train_ppl_window": quantity = .train
            default: throw ValidationError("beside the authors' runs --metric is test_ppl or train_ppl_window (their logged training perplexity); "
                                           + "pass --no-authors to draw \(metric) alone")
            }
            let comparisons = try BesideAuthors.compare(runs: selected, curves: try AuthorsCurves.read(authorsCurves ?? ProjectFiles.path(AuthorsCurves.defaultPath)), quantity: quantity)
            let title = chart.title ?? "\(selected[0].record.model) beside the authors' runs"
            try chart.write(try BesideAuthors.chart(comparisons, title: title), base: (experiment as NSString).appendingPathComponent("curves"))
            for c in comparisons { print("\(c.run.directory): \(c.summary)") }
            return
        }
        let plot = try Plots.curves(runs: runs, column: metric, optimizers: optimizers,
                                    title: chart.title ?? Plots.defaultTitle(runs, experiment: experiment))
        try chart.write(plot, base: (experiment as NSString).appendingPathComponent("curves"))
    }
}

struct PlotLoss: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loss",
        abstract: "Training loss against epoch on a log scale, one line per optimizer (mean ± std over seeds).")

    @Argument(help: "The experiment's results directory (results/<name>).")
    var experiment: String

    @Option(help: "The metrics.csv column to draw.")
    var metric: String = "train_loss"

    @Option(parsing: .upToNextOption, help: "Only these optimizers (default: all in the experiment).")
    var optimizers: [String] = []

    @OptionGroup var chart: ChartOptions

    func run() throws {
        let plot = try Plots.loss(experiment: experiment, column: metric, optimizers: optimizers, title: chart.title)
        try chart.write(plot, base: (experiment as NSString).appendingPathComponent("loss"))
    }
}

/// A number as `--help` shows a default: 1, not 1.0.
private func formatted(_ x: Double) -> String { NumberFormat.g(6).string(x) }

struct PlotHeatmap: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "heatmap",
        abstract: "Test error over the learning rate × weight decay grid of a sweep, one optimizer (Figure 5).",
        discussion: """
            Each cell is the mean over seeds, printed in the cell; grey cells were not run. The figure's size follows the \
            grid. --basin outlines the cells within --basin-distance of the lowest cell drawn (Figure 5's basin, \
            docs/claims.md claim 11; with --value final they are the cells `collect` counts).
            """)

    @Argument(help: "The sweep's results directory (results/<name>).")
    var experiment: String

    @Option(help: "The optimizer whose grid is drawn.")
    var optimizer: String

    @Option(help: "final (after the last epoch) or best (lowest over epochs).")
    var value: RunValue = .final

    @Flag(help: "Outline the cells of the basin.")
    var basin = false

    @Option(help: "The basin's distance from the lowest cell, in the metric's units (percentage points of test error; default \(formatted(ClaimRules.basinDistance)), docs/claims.md claim 11); implies --basin.")
    var basinDistance: Double?

    @OptionGroup var output: OutputOptions

    func run() throws {
        let map = try Plots.heatmap(experiment: experiment, optimizer: optimizer, value: value, title: output.title,
                                    basinDistance: basinDistance ?? (basin ? ClaimRules.basinDistance : nil))
        try output.write(map.figure(), base: (experiment as NSString).appendingPathComponent("heatmap-\(optimizer)"))
    }
}

struct PlotEscape: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "escape",
        abstract: "Escape rate (log scale) against inverse sharpness 1/k, with a fitted line per optimizer (Figure 6).",
        discussion: """
            Input: a CSV with the header optimizer,k,escape_rate,ci_low,ci_high: one row per optimizer and \
            sharpness factor k (> 0); escape_rate is escapes per iteration (> 0) and [ci_low, ci_high] its \
            confidence interval, drawn as a bar. Lines starting with # are comments. The dashed line is the \
            least-squares fit of log10(escape_rate) against 1/k; its slope is shown in the legend.
            """)

    @Argument(help: "The escape CSV (optimizer,k,escape_rate,ci_low,ci_high).")
    var csv: String

    @OptionGroup var chart: ChartOptions

    func run() throws {
        let plot = try Plots.escape(csv: csv, title: chart.title)
        try chart.write(plot, base: besideFile(csv, "escape"))
    }
}

struct PlotHessian: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hessian",
        abstract: "Top Hessian eigenvalues against rank, one line per CSV of `adai-bench hessian`, the trace in the legend (Figure 7).",
        discussion: "Bars: the Lanczos residual bound of each eigenvalue. Log scale when every eigenvalue is positive.")

    @Argument(help: "CSV files written by `adai-bench hessian --out` (quantity,index,value,uncertainty).")
    var csvs: [String]

    @Option(parsing: .upToNextOption, help: "Legend labels, one per file (default: the file names).")
    var label: [String] = []

    @OptionGroup var chart: ChartOptions

    func run() throws {
        let plot = try Plots.hessian(csvs: csvs, labels: label, title: chart.title)
        try chart.write(plot, base: besideFile(csvs[0], "hessian"))
    }
}

struct PlotSharpness: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sharpness",
        abstract: "Expected sharpness against the noise level σ, one line per CSV of `adai-bench sharpness` (Figure 14).",
        discussion: "Bars: ± one standard error over the perturbations.")

    @Argument(help: "CSV files written by `adai-bench sharpness --out` (sigma,samples,base_loss,expected_sharpness,std_error).")
    var csvs: [String]

    @Option(parsing: .upToNextOption, help: "Legend labels, one per file (default: the file names).")
    var label: [String] = []

    @OptionGroup var chart: ChartOptions

    func run() throws {
        let plot = try Plots.sharpness(csvs: csvs, labels: label, title: chart.title)
        try chart.write(plot, base: besideFile(csvs[0], "sharpness"))
    }
}

struct PlotSaddle: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "saddle",
        abstract: "Mean squared displacement against iterations from a strict saddle, one line per optimizer (log scale).")

    @Argument(help: "The CSV written by `adai-bench saddle --out` (optimizer,step,msd_escape,msd_positive).")
    var csv: String

    @Option(help: "msd_escape (along the escape direction) or msd_positive (along the positive directions).")
    var column: String = "msd_escape"

    @OptionGroup var chart: ChartOptions

    func run() throws {
        let plot = try Plots.saddle(csv: csv, column: column, title: chart.title)
        try chart.write(plot, base: besideFile(csv, "saddle"))
    }
}

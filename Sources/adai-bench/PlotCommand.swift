import ArgumentParser
import Foundation
import Plot
import Reports

/// `adai-bench plot curves|loss|heatmap|escape`: PNG charts drawn through libpng.
struct PlotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plot",
        abstract: "Draw PNG charts of experiments: test-error curves, training loss, lr × wd heatmaps, escape rates.",
        discussion: """
            Charts are drawn with a built-in bitmap font and the colour-blind-safe Okabe-Ito palette; the same \
            input always gives the same bytes. Without --out the PNG is written beside the input \
            (results/<name>/curves.png, loss.png, heatmap-<optimizer>.png; escape.png beside the CSV).
            """,
        subcommands: [PlotCurves.self, PlotLoss.self, PlotHeatmap.self, PlotEscape.self])
}

/// Options shared by the chart subcommands.
struct ChartOptions: ParsableArguments {
    @Option(help: "The PNG file to write (default: beside the input).")
    var out: String?

    @Option(help: "Chart title (default: dataset and model).")
    var title: String?

    @Option(help: "Width of the image in pixels.")
    var width: Int = 820

    @Option(help: "Height of the image in pixels.")
    var height: Int = 520

    func validate() throws {
        guard (320...4000).contains(width), (240...4000).contains(height) else {
            throw ValidationError("--width must be 320...4000 and --height 240...4000 pixels, got \(width)×\(height)")
        }
    }

    func write(_ chart: LineChart, defaultPath: String) throws {
        var chart = chart
        chart.width = width; chart.height = height
        try save(chart.render(), defaultPath: defaultPath)
    }

    func save(_ canvas: Canvas, defaultPath: String) throws {
        let path = out ?? defaultPath
        try canvas.writePNG(to: path)
        print("wrote \(path) (\(canvas.width)×\(canvas.height))")
    }
}

struct PlotCurves: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "curves",
        abstract: "Test error against epoch, one line per optimizer: mean over seeds with a shaded ± std band (Figures 2-3).")

    @Argument(help: "The experiment's results directory (results/<name>).")
    var experiment: String

    @Option(help: "The metrics.csv column to draw (test_error; test_ppl for language models; any column).")
    var metric: String = "test_error"

    @Option(parsing: .upToNextOption, help: "Only these optimizers (default: all in the experiment).")
    var optimizers: [String] = []

    @OptionGroup var chart: ChartOptions

    func run() throws {
        let plot = try Plots.curves(experiment: experiment, column: metric, optimizers: optimizers, title: chart.title)
        try chart.write(plot, defaultPath: (experiment as NSString).appendingPathComponent("curves.png"))
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
        try chart.write(plot, defaultPath: (experiment as NSString).appendingPathComponent("loss.png"))
    }
}

struct PlotHeatmap: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "heatmap",
        abstract: "Test error over the learning rate × weight decay grid of a sweep, one optimizer (Figure 5).",
        discussion: "Each cell is the mean over seeds, printed in the cell; grey cells were not run. Image size follows the grid.")

    @Argument(help: "The sweep's results directory (results/<name>).")
    var experiment: String

    @Option(help: "The optimizer whose grid is drawn.")
    var optimizer: String

    @Option(help: "final (after the last epoch) or best (lowest over epochs).")
    var value: RunValue = .final

    @Option(help: "The PNG file to write (default: results/<name>/heatmap-<optimizer>.png).")
    var out: String?

    @Option(help: "Chart title.")
    var title: String?

    func run() throws {
        let map = try Plots.heatmap(experiment: experiment, optimizer: optimizer, value: value, title: title)
        let canvas = map.render()
        let path = out ?? (experiment as NSString).appendingPathComponent("heatmap-\(optimizer).png")
        try canvas.writePNG(to: path)
        print("wrote \(path) (\(canvas.width)×\(canvas.height))")
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
        let directory = (csv as NSString).deletingLastPathComponent
        try chart.write(plot, defaultPath: ((directory.isEmpty ? "." : directory) as NSString).appendingPathComponent("escape.png"))
    }
}

import Foundation
import Plot

/// Builders of the `adai-bench plot` charts from results directories and CSV files.
public enum Plots {
    /// Readable axis titles for the metric columns of docs/RESULTS.md.
    public static func axisTitle(_ column: String) -> String {
        switch column {
        case "test_error": return "test error (%)"
        case "train_error": return "training error (%)"
        case "train_loss": return "training loss"
        case "test_loss": return "test loss"
        case "valid_loss": return "validation loss"
        case "test_ppl": return "test perplexity"
        case "valid_ppl": return "validation perplexity"
        case "train_ppl": return "training perplexity"
        case "lr": return "learning rate"
        default: return column
        }
    }

    /// One line per setting: the mean of `column` over seeds per epoch, with a band of ± one std (over the seeds
    /// that reached that epoch; no band where only one did). Settings are named by their optimizer when each
    /// optimizer has one setting, else by optimizer, lr and wd. `optimizers` (if not empty) keeps only those.
    public static func seedSeries(_ runs: [Run], column: String, optimizers: [String] = [], band: Bool = true) throws -> [Series] {
        let selected = optimizers.isEmpty ? runs : runs.filter { optimizers.contains($0.record.optimizer) }
        guard !selected.isEmpty else {
            let available = Set(runs.map(\.record.optimizer)).sorted().joined(separator: ", ")
            throw ReportError("no runs of \(optimizers.joined(separator: ", ")) in this experiment (it has \(available)); "
                              + "pass optimizers from that list")
        }
        let groups = Dictionary(grouping: selected, by: \.setting)
        let perOptimizer = Dictionary(grouping: groups.keys, by: \.optimizer)
        var series: [Series] = []
        for setting in groups.keys.sorted() {
            var byEpoch: [Int: [Double]] = [:]
            for run in groups[setting]! {
                for (epoch, value) in try run.series(column) where value.isFinite { byEpoch[epoch, default: []].append(value) }
            }
            guard !byEpoch.isEmpty else { continue }
            let epochs = byEpoch.keys.sorted()
            let stats = epochs.map { Statistic(byEpoch[$0]!) }
            let name = perOptimizer[setting.optimizer]!.count == 1 ? setting.optimizer
                : "\(setting.optimizer) lr=\(formatNumber(setting.lr, significant: 4)) wd=\(formatNumber(setting.weightDecay, significant: 4))"
            let n = groups[setting]!.count
            var s = Series(name: n > 1 ? "\(name) (n=\(n))" : name, xs: epochs.map(Double.init), ys: stats.map(\.mean))
            if band && stats.contains(where: { $0.n > 1 }) {
                s.lower = stats.map { $0.n > 1 ? $0.mean - $0.std : $0.mean }
                s.upper = stats.map { $0.n > 1 ? $0.mean + $0.std : $0.mean }
            }
            series.append(s)
        }
        guard !series.isEmpty else {
            throw ReportError("the runs have no finished epoch with a finite \(column); wait for the first epoch or check the runs")
        }
        return series
    }

    /// Test error (or another metric column) against epoch, one line per optimizer, mean ± std over seeds.
    public static func curves(experiment: String, column: String = "test_error", optimizers: [String] = [], title: String? = nil) throws -> LineChart {
        let runs = try RunLoader.load(experiment: experiment)
        return try curves(runs: runs, column: column, optimizers: optimizers, title: title ?? defaultTitle(runs, experiment: experiment))
    }

    /// The same chart from chosen runs (for example a comparison's seeds without the lr-selection runs beside them).
    public static func curves(runs: [Run], column: String = "test_error", optimizers: [String] = [], title: String) throws -> LineChart {
        let series = try seedSeries(runs, column: column, optimizers: optimizers)
        // "mean ± std" only where some setting has more than one seed (the legend gives each n).
        let banded = series.contains { $0.lower != nil }
        return LineChart(title: title, xLabel: "epoch", yLabel: axisTitle(column) + (banded ? ", mean ± std" : ""), series: series)
    }

    /// Training loss against epoch on a log scale, one line per optimizer (mean over seeds, ± std band).
    public static func loss(experiment: String, column: String = "train_loss", optimizers: [String] = [], title: String? = nil) throws -> LineChart {
        let runs = try RunLoader.load(experiment: experiment)
        return try loss(runs: runs, column: column, optimizers: optimizers, title: title ?? defaultTitle(runs, experiment: experiment),
                        source: experiment)
    }

    /// The same chart from chosen runs; `source` names them in an error.
    public static func loss(runs: [Run], column: String = "train_loss", optimizers: [String] = [], title: String,
                            source: String = "these runs") throws -> LineChart {
        var series = try seedSeries(runs, column: column, optimizers: optimizers)
        for i in series.indices {  // a band reaching zero or below cannot be drawn on a log scale; keep it positive
            if let lower = series[i].lower { series[i].lower = zip(lower, series[i].ys).map { $0 > 0 ? $0 : $1 } }
        }
        guard series.contains(where: { $0.ys.contains { $0 > 0 } }) else {
            throw ReportError("\(source): no positive \(column) values, which a log scale needs; plot another column with --metric")
        }
        return LineChart(title: title, xLabel: "epoch", yLabel: axisTitle(column) + " (log scale)",
                         series: series, logY: true)
    }

    public static func defaultTitle(_ runs: [Run], experiment: String) -> String {
        let pairs = Set(runs.map { "\($0.record.dataset) \($0.record.model)" }).sorted()
        return pairs.count == 1 ? pairs[0] : (experiment as NSString).lastPathComponent
    }

    /// The mean over seeds of the final or best metric for each lr (columns) × weight decay (rows) of one optimizer.
    /// With `basinDistance`, the cells of the drawn grid within that distance of its lowest cell are outlined (Figure 5's
    /// basin, docs/claims.md claim 11; with `value` final the cells are those `collect` counts).
    public static func heatmap(experiment: String, optimizer: String, value which: RunValue = .final, title: String? = nil,
                               basinDistance: Double? = nil) throws -> Heatmap {
        let runs = try RunLoader.load(experiment: experiment)
        let (settings, _) = try Summaries.settings(runs)
        let mine = settings.filter { $0.setting.optimizer == optimizer }
        guard !mine.isEmpty else {
            let available = Set(settings.map(\.setting.optimizer)).sorted().joined(separator: ", ")
            throw ReportError("\(experiment): no finished runs of optimizer '\(optimizer)' (it has \(available)); pass --optimizer with one of those")
        }
        let lrs = Set(mine.map(\.setting.lr)).sorted(), wds = Set(mine.map(\.setting.weightDecay)).sorted()
        let values = wds.map { wd in
            lrs.map { lr in mine.first { $0.setting.lr == lr && $0.setting.weightDecay == wd }?.value(which).mean ?? .nan }
        }
        let metric = mine[0].metric
        var map = Heatmap(title: title ?? "\(optimizer): \(which.rawValue) \(axisTitle(metric))", xLabel: "learning rate",
                          yLabel: "weight decay", columnLabels: lrs.map(gridLabel), rowLabels: wds.map(gridLabel),
                          values: values)
        map.valueLabel = axisTitle(metric)
        if let distance = basinDistance {
            guard distance.isFinite, distance >= 0 else {
                throw ReportError("the basin distance must be a number ≥ 0 in the metric's units (e.g. 1 for 1 percentage point of test error), got \(distance)")
            }
            let members = Basin.members(values.flatMap { $0 }, distance: distance)
            map.marked = wds.indices.map { r in lrs.indices.map { c in members[r * lrs.count + c] } }
            let count = members.filter { $0 }.count
            map.markNote = "outlined: the basin, \(count) of \(members.count) cells within \(formatNumber(distance, significant: 4)) of the lowest \(which.rawValue) value"
        }
        return map
    }

    /// A grid value as a heatmap labels it: the tick label when that is exact, else three significant digits
    /// (1.58e-4, 0.00158, 3.16), so that a half-decade grid is not labelled with rounded neighbours.
    static func gridLabel(_ v: Double) -> String {
        let plain = Ticks.label(v)
        if let x = Double(plain), abs(x - v) <= 1e-9 * abs(v) { return plain }
        if abs(v) < 1e-3 { return String(format: "%.2e", v).replacingOccurrences(of: "e-0", with: "e-") }
        return String(format: "%.3g", v)
    }

    /// One optimizer's measured escape rates with their confidence intervals, as read from an escape CSV.
    public struct EscapeSeries: Equatable {
        public var optimizer: String
        public var k: [Double], rate: [Double], low: [Double], high: [Double]
        /// Least-squares fit of log10(rate) = intercept + slope · (1/k); nil with fewer than two distinct k.
        public var slope: Double?, intercept: Double?
    }

    /// Reads an escape CSV with columns `optimizer,k,escape_rate,ci_low,ci_high` (one row per optimizer and
    /// sharpness factor k; rates per iteration, > 0; the interval brackets the rate) and fits each optimizer.
    public static func readEscape(_ path: String) throws -> [EscapeSeries] {
        let table = try CSVTable.read(path)
        let purpose = "an escape file has optimizer,k,escape_rate,ci_low,ci_high"
        let o = try table.requireColumn("optimizer", purpose: purpose), k = try table.requireColumn("k", purpose: purpose)
        let r = try table.requireColumn("escape_rate", purpose: purpose)
        let lo = try table.requireColumn("ci_low", purpose: purpose), hi = try table.requireColumn("ci_high", purpose: purpose)
        var order: [String] = [], rows: [String: [(Double, Double, Double, Double)]] = [:]
        for i in table.rows.indices {
            let where_ = "\(path):\(table.lineNumbers[i])"
            let (kv, rate, low, high) = (try table.number(row: i, column: k), try table.number(row: i, column: r),
                                         try table.number(row: i, column: lo), try table.number(row: i, column: hi))
            guard kv.isFinite, kv > 0 else { throw ReportError("\(where_): k must be a positive number, got \(table.rows[i][k])") }
            guard rate.isFinite, rate > 0 else {
                throw ReportError("\(where_): escape_rate must be > 0 for a log scale, got \(table.rows[i][r]); leave out runs that never escaped")
            }
            guard low.isFinite, high.isFinite, low <= rate, rate <= high else {
                throw ReportError("\(where_): the interval [\(table.rows[i][lo]), \(table.rows[i][hi])] does not bracket the rate \(table.rows[i][r]); fix ci_low/ci_high")
            }
            let name = table.rows[i][o]
            if rows[name] == nil { order.append(name) }
            rows[name, default: []].append((kv, rate, low, high))
        }
        guard !order.isEmpty else { throw ReportError("\(path): no data rows below the header; run the escape experiment first") }
        return order.map { name in
            let points = rows[name]!.sorted { $0.0 < $1.0 }
            var series = EscapeSeries(optimizer: name, k: points.map(\.0), rate: points.map(\.1), low: points.map(\.2), high: points.map(\.3))
            let xs = points.map { 1 / $0.0 }, ys = points.map { log10($0.1) }
            if Set(xs).count >= 2 {
                let mx = xs.reduce(0, +) / Double(xs.count), my = ys.reduce(0, +) / Double(ys.count)
                let sxy = zip(xs, ys).reduce(0) { $0 + ($1.0 - mx) * ($1.1 - my) }, sxx = xs.reduce(0) { $0 + ($1 - mx) * ($1 - mx) }
                series.slope = sxy / sxx
                series.intercept = my - series.slope! * mx
            }
            return series
        }
    }

    /// Escape rate (log scale) against 1/k, markers with confidence-interval bars and a dashed fitted line per optimizer.
    public static func escape(csv path: String, title: String? = nil) throws -> LineChart {
        let data = try readEscape(path)
        let series = data.map { e -> Series in
            let xs = e.k.map { 1 / $0 }
            var fitXs: [Double]?, fitYs: [Double]?
            if let slope = e.slope, let intercept = e.intercept, let a = xs.min(), let b = xs.max() {
                fitXs = [a, b]; fitYs = [a, b].map { pow(10, intercept + slope * $0) }
            }
            let name = e.slope.map { "\(e.optimizer) (slope \(formatNumber($0, significant: 3)))" } ?? e.optimizer
            return Series.points(name: name, xs: xs, ys: e.rate, errorLow: e.low, errorHigh: e.high, fitXs: fitXs, fitYs: fitYs)
        }
        return LineChart(title: title ?? "escape rate against inverse sharpness", xLabel: "1/k (inverse sharpness)",
                         yLabel: "escape rate per iteration (log scale)", series: series, logY: true)
    }

    // MARK: Figures of the analyses (adai-bench hessian, sharpness, saddle)

    /// A label for an input file: its name without directory and extension.
    static func fileLabel(_ path: String) -> String { ((path as NSString).lastPathComponent as NSString).deletingPathExtension }

    static func labels(_ paths: [String], _ given: [String]) throws -> [String] {
        guard given.isEmpty || given.count == paths.count else {
            throw ReportError("\(given.count) labels for \(paths.count) files; pass one --label per file, in the same order, or none")
        }
        return given.isEmpty ? paths.map(fileLabel) : given
    }

    /// "1001 ± 280", "12.0 ± 8.4": the value to the decimal place of the error's second significant digit.
    public static func plusMinus(_ value: Double, _ error: Double?) -> String {
        guard let error, error.isFinite, error > 0 else { return formatNumber(value, significant: 4) }
        let decimals = min(6, max(0, 1 - Int(floor(log10(error)))))
        return String(format: "%.\(decimals)f ± %.\(decimals)f", value, error)
    }

    /// The output of `adai-bench hessian`: eigenvalues (largest first) with their Lanczos residuals, and the trace if estimated.
    public struct HessianEstimate: Equatable {
        public var eigenvalues: [Double], residuals: [Double]
        public var trace: Double?, traceStandardError: Double?
    }

    /// Reads a CSV written by `adai-bench hessian` (quantity,index,value,uncertainty).
    public static func readHessian(_ path: String) throws -> HessianEstimate {
        let table = try CSVTable.read(path)
        let purpose = "a Hessian file from adai-bench hessian has quantity,index,value,uncertainty"
        let q = try table.requireColumn("quantity", purpose: purpose), v = try table.requireColumn("value", purpose: purpose)
        let u = try table.requireColumn("uncertainty", purpose: purpose)
        var estimate = HessianEstimate(eigenvalues: [], residuals: [], trace: nil, traceStandardError: nil)
        for i in table.rows.indices {
            let value = try table.number(row: i, column: v), uncertainty = try table.number(row: i, column: u)
            switch table.rows[i][q] {
            case "eigenvalue": estimate.eigenvalues.append(value); estimate.residuals.append(uncertainty)
            case "trace": estimate.trace = value; estimate.traceStandardError = uncertainty
            case let other:
                throw ReportError("\(path):\(table.lineNumbers[i]): unknown quantity '\(other)' (expected eigenvalue or trace); "
                                  + "pass a file written by adai-bench hessian")
            }
        }
        guard !estimate.eigenvalues.isEmpty else { throw ReportError("\(path): no eigenvalue rows; run adai-bench hessian --out \(path) first") }
        return estimate
    }

    /// The top of the Hessian spectrum of one or more checkpoints (one line each; bars: Lanczos residual bounds),
    /// the trace in the legend (Figure 7). Log scale when every eigenvalue is positive.
    public static func hessian(csvs paths: [String], labels given: [String] = [], title: String? = nil) throws -> LineChart {
        let names = try labels(paths, given)
        var series: [Series] = []
        for (path, name) in zip(paths, names) {
            let e = try readHessian(path)
            let trace = e.trace.map { "trace " + plusMinus($0, e.traceStandardError) }
            var s = Series(name: trace.map { "\(name) (\($0))" } ?? name, xs: e.eigenvalues.indices.map { Double($0 + 1) }, ys: e.eigenvalues)
            s.errorLow = zip(e.eigenvalues, e.residuals).map { $0 - ($1.isFinite ? $1 : 0) }
            s.errorHigh = zip(e.eigenvalues, e.residuals).map { $0 + ($1.isFinite ? $1 : 0) }
            series.append(s)
        }
        let positive = series.allSatisfy { $0.ys.allSatisfy { $0 > 0 } }
        return LineChart(title: title ?? "top Hessian eigenvalues", xLabel: "eigenvalue rank",
                         yLabel: "eigenvalue" + (positive ? " (log scale)" : ""), series: series, logY: positive)
    }

    /// Reads a CSV of `adai-bench sharpness`: (σ, expected sharpness, its standard error) per row, by increasing σ.
    public static func readSharpness(_ path: String) throws -> [(sigma: Double, sharpness: Double, standardError: Double)] {
        let table = try CSVTable.read(path)
        let purpose = "a sharpness file from adai-bench sharpness has sigma,samples,base_loss,expected_sharpness,std_error"
        let sc = try table.requireColumn("sigma", purpose: purpose), ec = try table.requireColumn("expected_sharpness", purpose: purpose)
        let se = try table.requireColumn("std_error", purpose: purpose)
        var rows: [(sigma: Double, sharpness: Double, standardError: Double)] = []
        for i in table.rows.indices {
            let sigma = try table.number(row: i, column: sc)
            guard sigma.isFinite, sigma > 0 else {
                throw ReportError("\(path):\(table.lineNumbers[i]): sigma must be a positive number, got \(table.rows[i][sc])")
            }
            rows.append((sigma, try table.number(row: i, column: ec), try table.number(row: i, column: se)))
        }
        guard !rows.isEmpty else { throw ReportError("\(path): no data rows; run adai-bench sharpness --out \(path) first") }
        return rows.sorted { $0.sigma < $1.sigma }
    }

    /// Expected sharpness against the noise level σ (log scale), one line per CSV of `adai-bench sharpness`,
    /// bars ± one standard error (Figure 14).
    public static func sharpness(csvs paths: [String], labels given: [String] = [], title: String? = nil) throws -> LineChart {
        let names = try labels(paths, given)
        var series: [Series] = []
        for (path, name) in zip(paths, names) {
            let rows = try readSharpness(path)
            var s = Series(name: name, xs: rows.map(\.0), ys: rows.map(\.1))
            s.errorLow = rows.map { $0.1 - ($0.2.isFinite ? $0.2 : 0) }
            s.errorHigh = rows.map { $0.1 + ($0.2.isFinite ? $0.2 : 0) }
            series.append(s)
        }
        return LineChart(title: title ?? "expected sharpness", xLabel: "noise level σ (log scale)",
                         yLabel: "E[L(θ+ζ)] − L(θ)", series: series, logX: true)
    }

    /// Mean squared displacement against iterations from a strict saddle, one line per optimizer, from a CSV of
    /// `adai-bench saddle` (`column`: msd_escape along the escape direction, or msd_positive), on a log scale.
    public static func saddle(csv path: String, column: String = "msd_escape", title: String? = nil) throws -> LineChart {
        let table = try CSVTable.read(path)
        let purpose = "a saddle file from adai-bench saddle has optimizer,step,msd_escape,msd_positive"
        let o = try table.requireColumn("optimizer", purpose: purpose), st = try table.requireColumn("step", purpose: purpose)
        let v = try table.requireColumn(column, purpose: purpose)
        var order: [String] = [], points: [String: [(Double, Double)]] = [:]
        for i in table.rows.indices {
            let name = table.rows[i][o]
            if points[name] == nil { order.append(name) }
            points[name, default: []].append((try table.number(row: i, column: st), try table.number(row: i, column: v)))
        }
        guard !order.isEmpty else { throw ReportError("\(path): no data rows; run adai-bench saddle --out \(path) first") }
        let series = order.map { name -> Series in
            let p = points[name]!.sorted { $0.0 < $1.0 }
            return Series(name: name, xs: p.map(\.0), ys: p.map(\.1))
        }
        guard series.contains(where: { $0.ys.contains { $0 > 0 } }) else {
            throw ReportError("\(path): no positive \(column) values, which a log scale needs")
        }
        let what = column == "msd_escape" ? "along the escape direction" : column == "msd_positive" ? "along the positive directions" : column
        return LineChart(title: title ?? "strict saddle: displacement \(what)", xLabel: "iteration",
                         yLabel: "mean squared displacement (log scale)", series: series, logY: true)
    }
}

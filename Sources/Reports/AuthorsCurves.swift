import Foundation
import Plot

/// The AdaMomentum authors' per-epoch PTB curves (`results/paper/adamomentum-ptb-curves.csv`, written by
/// scripts/fixtures/extract_adamomentum_curves.py from wyzjack/AdaM3 `LSTM_Penn_Treebank/curve/`): 26
/// configurations of optimizer, layers, lr and eps with five runs each, in long form.
public struct AuthorsCurves {
    /// One of the authors' configurations. `lr` and `eps` are the strings of the curve files' names.
    public struct Configuration: Hashable, Comparable, CustomStringConvertible {
        public var optimizer: String, scriptOptimizer: String
        public var layers: Int
        public var lr: String, eps: String
        public var description: String {
            "\(optimizer)\(scriptOptimizer == optimizer ? "" : " (main.py --optimizer \(scriptOptimizer))"), "
                + "\(layers) layer\(layers == 1 ? "" : "s"), lr \(lr), eps \(eps)"
        }
        public static func < (a: Configuration, b: Configuration) -> Bool {
            (a.layers, a.optimizer, a.lr, a.eps) < (b.layers, b.optimizer, b.lr, b.eps)
        }
    }

    /// What the file stores per epoch: `train` is main.py's logged `train_loss` (exp of the mean loss over the
    /// epoch's last complete 200-batch window), `test` the test perplexity at batch 1.
    public struct Point: Equatable { public var train: Double, test: Double }

    public var path: String
    /// configuration → run → epoch → numbers.
    public var runs: [Configuration: [Int: [Int: Point]]]

    public static let defaultPath = "results/paper/adamomentum-ptb-curves.csv"

    public static func read(_ path: String = defaultPath) throws -> AuthorsCurves {
        guard FileManager.default.fileExists(atPath: path) else {
            throw ReportError("\(path): no such file; the authors' curves are results/paper/adamomentum-ptb-curves.csv "
                              + "(run from the repository root or pass --authors-curves)")
        }
        let table = try CSVTable.read(path)
        let purpose = "the authors' curves have optimizer,script_optimizer,layers,lr,eps,run,epoch,train_ppl,test_ppl"
        let c = try ["optimizer", "script_optimizer", "layers", "lr", "eps", "run", "epoch", "train_ppl", "test_ppl"]
            .map { try table.requireColumn($0, purpose: purpose) }
        var runs: [Configuration: [Int: [Int: Point]]] = [:]
        for i in table.rows.indices {
            let row = table.rows[i]
            let layers = try table.number(row: i, column: c[2]), run = try table.number(row: i, column: c[5])
            let epoch = try table.number(row: i, column: c[6])
            guard [layers, run, epoch].allSatisfy({ $0.isFinite && $0 == $0.rounded() && $0 >= 0 }) else {
                throw ReportError("\(path):\(table.lineNumbers[i]): layers, run and epoch must be whole numbers; fix that line")
            }
            let key = Configuration(optimizer: row[c[0]], scriptOptimizer: row[c[1]], layers: Int(layers), lr: row[c[3]], eps: row[c[4]])
            let point = Point(train: try table.number(row: i, column: c[7]), test: try table.number(row: i, column: c[8]))
            guard runs[key, default: [:]][Int(run), default: [:]].updateValue(point, forKey: Int(epoch)) == nil else {
                throw ReportError("\(path):\(table.lineNumbers[i]): a second line for \(key), run \(Int(run)), epoch \(Int(epoch)); keep one")
            }
        }
        guard !runs.isEmpty else { throw ReportError("\(path): no curves in the file (only a header); regenerate it") }
        return AuthorsCurves(path: path, runs: runs)
    }

    /// The number of layers of one of the authors' AWD-LSTMs (`awd-lstm-<n>layer`), nil for any other model.
    public static func layers(model: String) -> Int? {
        guard model.hasPrefix("awd-lstm-"), model.hasSuffix("layer") else { return nil }
        return Int(model.dropFirst("awd-lstm-".count).dropLast("layer".count))
    }

    /// The authors' configuration a run of ours corresponds to: the same optimizer (our name is either column,
    /// e.g. `adamomentum` or `sgd`), the same number of layers, the same lr and, where our optimizer has an
    /// eps, the same eps (numbers compared to a relative 1e-9). The error lists what the authors ran.
    public func configuration(optimizer: String, layers: Int, lr: Double, eps: Double?) throws -> Configuration {
        func same(_ text: String, _ x: Double) -> Bool {
            guard let y = Double(text) else { return false }
            return abs(x - y) <= 1e-9 * max(abs(x), abs(y))
        }
        let matches = runs.keys.filter { k in
            (k.optimizer == optimizer || k.scriptOptimizer == optimizer) && k.layers == layers && same(k.lr, lr)
                && (eps.map { same(k.eps, $0) } ?? true)
        }
        guard matches.count == 1 else {
            let wanted = "\(optimizer), \(layers) layer\(layers == 1 ? "" : "s"), lr \(formatNumber(lr, significant: 6))"
                + (eps.map { ", eps \(formatNumber($0, significant: 6))" } ?? "")
            if matches.count > 1 {
                throw ReportError("\(path): \(matches.count) of the authors' configurations match \(wanted) "
                                  + "(\(matches.sorted().map(\.description).joined(separator: "; "))); give the run an eps")
            }
            let same = runs.keys.filter { $0.layers == layers }.sorted().map(\.description)
            throw ReportError("no configuration of the authors matches \(wanted) (\(path)); with \(layers) layer"
                              + "\(layers == 1 ? "" : "s") they ran: " + (same.isEmpty ? "nothing" : same.joined(separator: "; "))
                              + ". Train one of those settings (configs/ptb-awd-lstm-\(layers)layer.json) to compare with their runs")
        }
        return matches[0]
    }

    /// The authors' values of one configuration per epoch over their runs (epochs in order).
    public func values(_ key: Configuration, _ quantity: Quantity) -> [(epoch: Int, values: [Double])] {
        let byRun = runs[key] ?? [:]
        let epochs = Set(byRun.values.flatMap(\.keys)).sorted()
        return epochs.map { e in
            (e, byRun.keys.sorted().compactMap { byRun[$0]?[e] }.map { quantity == .test ? $0.test : $0.train }.filter(\.isFinite))
        }
    }

    /// Which curve is compared: the test perplexity (ours `test_ppl`, theirs `test_ppl`) or the logged training
    /// perplexity (ours `train_ppl_window`, main.py's own logging, theirs `train_ppl`).
    public enum Quantity: String, CaseIterable, Sendable {
        case test, train
        public var ourColumn: String { self == .test ? "test_ppl" : "train_ppl_window" }
        public var describe: String {
            self == .test ? "test perplexity (the test set at batch 1 after each epoch, main.py's test_loss)"
                : "training perplexity as main.py logs it (exp of the mean loss over the epoch's last complete 200-batch window; ours: train_ppl_window)"
        }
    }
}

/// A prediction interval for one new run from n runs: mean ± t(n−1, (1+level)/2) · s · √(1 + 1/n). With five runs
/// and level 0.95 the half-width is t(4, 0.975) · √1.2 · s = 2.7764 · 1.0954 · s = 3.0414 · s.
public struct PredictionInterval: Equatable {
    public var n: Int, mean: Double, std: Double, low: Double, high: Double
    /// Nil with fewer than two values (no spread to scale).
    public init?(_ values: [Double], level: Double = 0.95) {
        let s = Statistic(values)
        guard s.n >= 2, s.std.isFinite else { return nil }
        let half = studentTQuantile((1 + level) / 2, df: Double(s.n - 1)) * s.std * (1 + 1 / Double(s.n)).squareRoot()
        n = s.n; mean = s.mean; std = s.std; low = s.mean - half; high = s.mean + half
    }
    public func contains(_ x: Double) -> Bool { x.isFinite && low <= x && x <= high }
}

/// One run of ours beside the authors' runs of the same configuration, epoch by epoch.
public struct BesideAuthors {
    public struct Row: Equatable {
        public var epoch: Int
        public var ours: Double
        /// Nil where the authors have fewer than two runs at this epoch (or none: ours ran longer).
        public var interval: PredictionInterval?
        public var inside: Bool? { interval.map { $0.contains(ours) } }
    }
    public var run: Run
    public var configuration: AuthorsCurves.Configuration
    public var quantity: AuthorsCurves.Quantity
    public var rows: [Row]
    /// The run's weight-drop variant (config.model.weightDrop); the authors' runs are all `authors`.
    public var weightDrop: String?

    public static let level = 0.95

    /// Matches every run to the authors' configuration. Runs that are not the authors' AWD-LSTMs are refused.
    public static func compare(runs: [Run], curves: AuthorsCurves, quantity: AuthorsCurves.Quantity = .test) throws -> [BesideAuthors] {
        try runs.map { run in
            guard let layers = AuthorsCurves.layers(model: run.record.model) else {
                throw ReportError("\(run.directory): model \(run.record.model) is not one of the authors' AWD-LSTMs "
                                  + "(awd-lstm-1layer, awd-lstm-2layer, awd-lstm-3layer); their curves compare only with those")
            }
            let eps: Double? = { if case .number(let x)? = run.record.config?.optimizer.options["eps"] { return x }; return nil }()
            let key = try curves.configuration(optimizer: run.record.optimizer, layers: layers, lr: run.record.lr, eps: eps)
            let theirs = Dictionary(uniqueKeysWithValues: curves.values(key, quantity).map { ($0.epoch, $0.values) })
            let rows = try run.series(quantity.ourColumn).map { e in
                Row(epoch: e.epoch, ours: e.value, interval: theirs[e.epoch].flatMap { PredictionInterval($0, level: level) })
            }
            return BesideAuthors(run: run, configuration: key, quantity: quantity, rows: rows,
                                 weightDrop: run.record.config?.model.weightDrop.rawValue)
        }
    }

    public var judged: [Row] { rows.filter { $0.inside != nil } }
    public var outside: [Row] { rows.filter { $0.inside == false } }

    public var heading: String {
        let r = run.record
        return "\(run.directory): \(r.optimizer) lr \(formatNumber(r.lr, significant: 6)), seed \(r.seed), "
            + "\(r.epochsCompleted) of \(r.epochsPlanned) epochs"
    }

    /// Notes on what is compared, shared by every format.
    public var notes: [String] {
        let n = rows.compactMap { $0.interval?.n }.max() ?? 0
        var notes = ["beside the authors' \(n) runs of \(configuration)",
                     "compared: \(quantity.describe)",
                     "interval: \(Int(Self.level * 100))% prediction interval for one new run, mean ± t(n−1, 0.975)·s·√(1 + 1/n)"
                        + (n >= 2 ? " = mean ± \(formatNumber(studentTQuantile(0.975, df: Double(n - 1)) * (1 + 1 / Double(n)).squareRoot(), significant: 5))·s with n = \(n)" : "")]
        if let w = weightDrop, w != "authors" {
            notes.append("warning: this run's weight drop is '\(w)'; every run of the authors froze the raw recurrent weights "
                         + "(weightDrop authors), so it is not their model")
        }
        return notes
    }

    public var summary: String {
        let judged = judged, outside = outside
        guard !judged.isEmpty else { return "no epoch to judge (the authors have no two runs at our epochs)" }
        var s = "inside at \(judged.count - outside.count) of \(judged.count) epochs"
        if !outside.isEmpty {
            // Runs of consecutive epochs on the same side, e.g. "2-17 (above), 22 (below)".
            var spans: [(first: Int, last: Int, above: Bool)] = []
            for r in outside {
                let above = r.ours > r.interval!.high
                if let l = spans.last, l.last + 1 == r.epoch, l.above == above { spans[spans.count - 1].last = r.epoch }
                else { spans.append((r.epoch, r.epoch, above)) }
            }
            s += "; outside at " + spans.map { ($0.first == $0.last ? "\($0.first)" : "\($0.first)-\($0.last)") + " (\($0.above ? "above" : "below"))" }
                .joined(separator: ", ")
        }
        return s
    }

    public static func markdown(_ comparisons: [BesideAuthors]) -> String {
        var out = ""
        for c in comparisons {
            out += "## \(c.heading)\n\n" + c.notes.map { "- \($0)\n" }.joined() + "\n"
            out += "| epoch | ours | authors' mean | authors' s | n | interval | inside |\n|---:|---:|---:|---:|---:|---|---|\n"
            for r in c.rows {
                let f = { (x: Double) in String(format: "%.2f", x) }
                if let i = r.interval {
                    out += "| \(r.epoch) | \(f(r.ours)) | \(f(i.mean)) | \(f(i.std)) | \(i.n) | [\(f(i.low)), \(f(i.high))] | \(r.inside! ? "yes" : (r.ours > i.high ? "no (above)" : "no (below)")) |\n"
                } else {
                    out += "| \(r.epoch) | \(f(r.ours)) | | | | | (no authors' interval) |\n"
                }
            }
            out += "\n" + c.summary + "\n\n"
        }
        return out
    }

    public static func csv(_ comparisons: [BesideAuthors]) -> String {
        var out = "run,optimizer,layers,lr,eps,quantity,epoch,ours,authors_n,authors_mean,authors_std,interval_low,interval_high,inside\n"
        for c in comparisons {
            let k = c.configuration
            for r in c.rows {
                let i = r.interval
                let fields = [c.run.directory, k.optimizer, String(k.layers), k.lr, k.eps, c.quantity.rawValue, String(r.epoch),
                              formatNumber(r.ours), i.map { String($0.n) } ?? "", i.map { formatNumber($0.mean) } ?? "",
                              i.map { formatNumber($0.std) } ?? "", i.map { formatNumber($0.low) } ?? "",
                              i.map { formatNumber($0.high) } ?? "", r.inside.map { $0 ? "yes" : "no" } ?? ""]
                out += fields.joined(separator: ",") + "\n"
            }
        }
        return out
    }

    /// Ours per run, the authors' mean with the prediction interval as a band, up to our last epoch.
    public static func chart(_ comparisons: [BesideAuthors], title: String) throws -> LineChart {
        var series: [Series] = []
        var drawn = Set<AuthorsCurves.Configuration>()
        for c in comparisons where drawn.insert(c.configuration).inserted {
            let last = comparisons.filter { $0.configuration == c.configuration }.flatMap { $0.rows.map(\.epoch) }.max() ?? 0
            let rows = comparisons.filter { $0.configuration == c.configuration }.flatMap(\.rows)
            var byEpoch: [Int: PredictionInterval] = [:]
            for r in rows { if let i = r.interval { byEpoch[r.epoch] = i } }
            let epochs = byEpoch.keys.filter { $0 <= last }.sorted()
            guard !epochs.isEmpty else { continue }
            let k = c.configuration
            series.append(Series(name: "\(k.optimizer): authors (n=\(byEpoch[epochs[0]]!.n))",
                                 xs: epochs.map(Double.init), ys: epochs.map { byEpoch[$0]!.mean },
                                 lower: epochs.map { byEpoch[$0]!.low }, upper: epochs.map { byEpoch[$0]!.high }))
        }
        for c in comparisons {
            let rows = c.rows.filter { $0.ours.isFinite && $0.ours > 0 }
            guard !rows.isEmpty else { continue }
            series.append(Series(name: "\(c.run.record.optimizer): ours, seed \(c.run.record.seed)",
                                 xs: rows.map { Double($0.epoch) }, ys: rows.map(\.ours)))
        }
        guard !series.isEmpty else {
            throw ReportError("the runs have no finished epoch with a finite \(comparisons.first?.quantity.ourColumn ?? "test_ppl"); wait for the first epoch")
        }
        let label = comparisons.first?.quantity == .train ? "training perplexity (last 200-batch window)" : "test perplexity"
        return LineChart(title: title, xLabel: "epoch", yLabel: label + "; band: authors' 95% PI", series: series)
    }
}

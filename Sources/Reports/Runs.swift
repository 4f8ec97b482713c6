import Foundation
import RunFormat

/// One run directory: its `run.json` and its `metrics.csv`.
public struct Run {
    public var directory: String
    public var record: RunRecord
    public var metrics: CSVTable

    /// The values of `column` per epoch, in file order, as (epoch, value).
    public func series(_ column: String) throws -> [(epoch: Int, value: Double)] {
        let epochColumn = try metrics.requireColumn("epoch")
        let valueColumn = try metrics.requireColumn(column, purpose: "the metric asked for")
        return try metrics.rows.indices.map { row in
            let epoch = try metrics.number(row: row, column: epochColumn)
            guard epoch.isFinite, epoch == epoch.rounded() else {
                throw ReportError("\(metrics.path):\(metrics.lineNumbers[row]): epoch '\(metrics.rows[row][epochColumn])' is not a whole number")
            }
            return (Int(epoch), try metrics.number(row: row, column: valueColumn))
        }
    }

    /// The run's value of its metric after the last epoch and the lowest over epochs (non-finite values,
    /// as after a divergence, count as worse than any finite one). Nil when no epoch finished.
    public func finalAndBest() throws -> (final: Double, best: Double)? {
        let values = try series(record.metric).map(\.value)
        guard let last = values.last else { return nil }
        let finite = values.filter { $0.isFinite }
        return (last, finite.min() ?? last)
    }

    /// The setting the run belongs to, e.g. `adai-lr1-wd0.0005`.
    public var setting: Setting { Setting(optimizer: record.optimizer, lr: record.lr, weightDecay: record.weightDecay) }
}

/// An optimizer with its learning rate and weight decay.
public struct Setting: Hashable, Comparable, CustomStringConvertible {
    public var optimizer: String
    public var lr: Double
    public var weightDecay: Double
    public init(optimizer: String, lr: Double, weightDecay: Double) {
        self.optimizer = optimizer; self.lr = lr; self.weightDecay = weightDecay
    }
    public var description: String { "\(optimizer) lr=\(lr) wd=\(weightDecay)" }
    public static func < (a: Setting, b: Setting) -> Bool {
        (a.optimizer, a.lr, a.weightDecay) < (b.optimizer, b.lr, b.weightDecay)
    }
}

/// Reads the run directories of an experiment (`results/<experiment>/<setting>/seed-<n>/`).
public enum RunLoader {
    /// Every run below `directory` that has a `run.json`, sorted by path. Runs whose `metrics.csv` is missing
    /// are returned with an empty table (they have not finished an epoch). Errors name the file and the fix.
    public static func load(experiment directory: String) throws -> [Run] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) else {
            throw ReportError("\(directory): no such directory; pass the results directory of an experiment, "
                              + "e.g. results/<name> as written by `adai-bench train`")
        }
        guard isDirectory.boolValue else {
            throw ReportError("\(directory) is a file, not a results directory; pass the directory that holds the run "
                              + "directories (results/<name>)")
        }
        let root = URL(fileURLWithPath: directory)
        guard let enumerator = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil) else {
            throw ReportError("\(directory): cannot list the directory; check its permissions")
        }
        var runFiles: [String] = []
        for case let url as URL in enumerator {
            if url.lastPathComponent == RunDirectory.checkpointName { enumerator.skipDescendants(); continue }
            if url.lastPathComponent == RunDirectory.runJSONName { runFiles.append(url.path) }
        }
        runFiles.sort()
        guard !runFiles.isEmpty else {
            throw ReportError("\(directory): no runs found (no <setting>/seed-<n>/run.json below it); train first with "
                              + "`adai-bench train --config ...` or pass the experiment's directory")
        }
        return try runFiles.map(loadRun(runJSON:))
    }

    public static func loadRun(runJSON path: String) throws -> Run {
        let directory = RunDirectory((path as NSString).deletingLastPathComponent)
        guard let record = try directory.readRecord() else {
            throw ReportError("\(path): cannot read the file; check its permissions")
        }
        let metrics = FileManager.default.fileExists(atPath: directory.metricsCSV)
            ? try CSVTable.read(directory.metricsCSV)
            : CSVTable(path: directory.metricsCSV, header: ["epoch", record.metric], rows: [])
        return Run(directory: directory.path, record: record, metrics: metrics)
    }
}

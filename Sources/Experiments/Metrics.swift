import Engine
import Foundation
import RunFormat

/// The per-epoch table of one run (`metrics.csv`).
public struct MetricsTable: Equatable {
    public static let classificationColumns = ["epoch", "lr", "train_loss", "train_error", "test_loss", "test_error",
                                               "epoch_seconds", "examples_per_second"]
    public static let languageModelColumns = ["epoch", "lr", "train_loss", "train_ppl", "valid_loss", "valid_ppl",
                                              "test_loss", "test_ppl", "epoch_seconds", "tokens_per_second"]
    /// Image classification with a validation split held out of the training images (`dataset.validation`).
    public static let classificationValidationColumns = ["epoch", "lr", "train_loss", "train_error", "valid_loss", "valid_error",
                                                         "test_loss", "test_error", "epoch_seconds", "examples_per_second"]
    /// The columns of an experiment's metrics.csv.
    public static func columns(_ config: ExperimentConfig) -> [String] {
        config.isLanguageModel ? languageModelColumns : config.dataset.validation > 0 ? classificationValidationColumns : classificationColumns
    }
    public static let timingColumns: Set<String> = ["epoch_seconds", "examples_per_second", "tokens_per_second"]

    public var columns: [String]
    public var rows: [[Double]]

    public init(columns: [String], rows: [[Double]] = []) {
        self.columns = columns
        self.rows = rows
    }

    public func column(_ name: String) -> [Double]? {
        columns.firstIndex(of: name).map { i in rows.map { $0[i] } }
    }

    /// 9 significant digits: enough to round-trip a Float32 exactly.
    static func format(_ x: Double) -> String { NumberFormat.metrics.string(x) }

    public var csv: String {
        var text = columns.joined(separator: ",") + "\n"
        for row in rows { text += row.map(MetricsTable.format).joined(separator: ",") + "\n" }
        return text
    }

    public func write(to path: String) throws { try AtomicFile.write(csv, to: path) }

    public static func read(path: String) throws -> MetricsTable {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw TrainError("cannot read \(path)")
        }
        var lines = text.split(separator: "\n").map(String.init)
        guard !lines.isEmpty else { throw TrainError("\(path) is empty; expected a header line") }
        let columns = lines.removeFirst().split(separator: ",").map(String.init)
        var rows: [[Double]] = []
        for (i, line) in lines.enumerated() {
            let values = line.split(separator: ",", omittingEmptySubsequences: false).map { Double($0) }
            guard values.count == columns.count, values.allSatisfy({ $0 != nil }) else {
                throw TrainError("\(path):\(i + 2): expected \(columns.count) numbers, got \"\(line)\"")
            }
            rows.append(values.map { $0! })
        }
        return MetricsTable(columns: columns, rows: rows)
    }
}

/// An error of the training runner, with a message that says what and where.
public struct TrainError: Error, CustomStringConvertible {
    public let description: String
    public init(_ message: String) { description = message }
}

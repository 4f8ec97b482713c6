import Foundation

/// How one column of two metric CSVs differs.
public struct ColumnDifference: Equatable {
    public var column: String
    /// The largest |a − b| over the rows (infinity where only one side is NaN or a text field differs),
    /// and the row key (epoch) where it occurs.
    public var largest: Double, largestAt: String
    /// The first row key where |a − b| exceeds the tolerance, nil when they never part.
    public var firstBeyondTolerance: String?
}

/// The comparison of two metric CSVs (metrics.csv or curves.csv), row by row.
public struct MetricDiff {
    public var pathA: String, pathB: String
    public var tolerance: Double
    public var columns: [ColumnDifference]
    public var ignoredColumns: [String]
    public var onlyInA: [String], onlyInB: [String]
    public var rowsA: Int, rowsB: Int

    /// True when any compared column parts beyond the tolerance, the row counts differ, or a column is missing on one side.
    public var differs: Bool {
        columns.contains { $0.firstBeyondTolerance != nil } || rowsA != rowsB || !onlyInA.isEmpty || !onlyInB.isEmpty
    }

    /// Columns that time the run rather than describe its numbers; they differ between any two runs.
    public static let timingColumns: Set<String> = ["epoch_seconds", "examples_per_second", "tokens_per_second"]

    /// Compares `a` and `b` row by row. Rows are named by their key columns (`optimizer,lr,weight_decay,seed,epoch`,
    /// those present) in messages. Timing columns are ignored unless `includeTiming`.
    public static func compare(_ a: CSVTable, _ b: CSVTable, tolerance: Double, includeTiming: Bool = false) throws -> MetricDiff {
        guard tolerance.isFinite, tolerance >= 0 else {
            throw ReportError("the tolerance must be a number >= 0, got \(tolerance)")
        }
        guard !a.rows.isEmpty else { throw ReportError("\(a.path): no data rows below the header; nothing to compare") }
        guard !b.rows.isEmpty else { throw ReportError("\(b.path): no data rows below the header; nothing to compare") }
        // In curves.csv a row is (optimizer, lr, weight_decay, seed, epoch); in metrics.csv `lr` is the epoch's lr, not a key.
        let keyNames = (a.columnIndex("optimizer") != nil ? ["optimizer", "lr", "weight_decay", "seed", "epoch"] : ["epoch"])
            .filter { a.columnIndex($0) != nil }
        func key(_ row: Int) -> String {
            let parts = keyNames.map { "\($0) \(a.rows[row][a.columnIndex($0)!])" }
            return parts.isEmpty ? "row \(row + 1)" : parts.joined(separator: " ")
        }
        let ignored = includeTiming ? [] : a.header.filter { timingColumns.contains($0) && b.columnIndex($0) != nil }
        let rows = min(a.rows.count, b.rows.count)
        var columns: [ColumnDifference] = []
        for name in a.header where !ignored.contains(name) {
            guard let j = b.columnIndex(name) else { continue }
            let i = a.columnIndex(name)!
            var largest = 0.0, largestAt = rows > 0 ? key(0) : "", first: String?
            for r in 0..<rows {
                let fa = a.rows[r][i], fb = b.rows[r][j]
                let difference: Double
                if let x = Double(fa), let y = Double(fb) {
                    if x.isNaN && y.isNaN || x == y { difference = 0 }  // equal infinities included
                    else if x.isFinite && y.isFinite { difference = abs(x - y) }
                    else { difference = .infinity }
                } else {
                    difference = fa == fb ? 0 : .infinity
                }
                if difference > largest { largest = difference; largestAt = key(r) }
                if first == nil && difference > tolerance { first = key(r) }
            }
            columns.append(ColumnDifference(column: name, largest: largest, largestAt: largestAt, firstBeyondTolerance: first))
        }
        return MetricDiff(pathA: a.path, pathB: b.path, tolerance: tolerance, columns: columns, ignoredColumns: ignored,
                          onlyInA: a.header.filter { b.columnIndex($0) == nil }, onlyInB: b.header.filter { a.columnIndex($0) == nil },
                          rowsA: a.rows.count, rowsB: b.rows.count)
    }

    /// A plain-text report: one line per column, then the verdict.
    public func report() -> String {
        var lines = ["A: \(pathA) (\(rowsA) rows)", "B: \(pathB) (\(rowsB) rows)", "tolerance: \(formatNumber(tolerance, significant: 6))", ""]
        let width = max(6, columns.map(\.column.count).max() ?? 0)
        lines.append("column".padding(toLength: width, withPad: " ", startingAt: 0) + "  largest |A-B|  at                    first beyond tolerance")
        for c in columns {
            let largest = formatNumber(c.largest, significant: 6)
            lines.append(c.column.padding(toLength: width, withPad: " ", startingAt: 0) + "  "
                         + largest.padding(toLength: 13, withPad: " ", startingAt: 0) + "  "
                         + (c.largest > 0 ? c.largestAt : "-").padding(toLength: 20, withPad: " ", startingAt: 0) + "  "
                         + (c.firstBeyondTolerance ?? "-"))
        }
        if !ignoredColumns.isEmpty { lines.append("ignored (timing; --include-timing compares them): " + ignoredColumns.joined(separator: ", ")) }
        if !onlyInA.isEmpty { lines.append("only in A: " + onlyInA.joined(separator: ", ")) }
        if !onlyInB.isEmpty { lines.append("only in B: " + onlyInB.joined(separator: ", ")) }
        if rowsA != rowsB { lines.append("row counts differ: A has \(rowsA), B has \(rowsB); the first \(min(rowsA, rowsB)) rows were compared") }
        let parted = columns.filter { $0.firstBeyondTolerance != nil }
        lines.append(differs
            ? "DIFFER: " + (parted.isEmpty ? "in shape" : parted.map { "\($0.column) from \($0.firstBeyondTolerance!)" }.joined(separator: "; "))
            : "SAME within the tolerance")
        return lines.joined(separator: "\n")
    }
}

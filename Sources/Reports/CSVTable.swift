import enum Engine.NumberFormat
import Foundation

/// A small CSV table: a header and rows of fields. Lines starting with `#` and blank lines are skipped,
/// so the `# source:` comments of `results/paper/*.csv` are allowed. Fields are not quoted (none of our
/// files need quoting); a line with another number of fields than the header is an error.
public struct CSVTable: Equatable {
    public let path: String
    public let header: [String]
    public let rows: [[String]]
    /// The 1-based line number in the file of each row, for messages.
    public let lineNumbers: [Int]
    /// The `#` comment lines, without the leading `#` and space.
    public let comments: [String]

    public init(path: String, header: [String], rows: [[String]], lineNumbers: [Int]? = nil, comments: [String] = []) {
        self.path = path; self.header = header; self.rows = rows
        self.lineNumbers = lineNumbers ?? rows.indices.map { $0 + 2 }
        self.comments = comments
    }

    /// Reads and parses `path`.
    public static func read(_ path: String) throws -> CSVTable {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ReportError("\(path): no such file; check the path (metric files are <run>/metrics.csv or <experiment>/curves.csv)")
        }
        guard !isDirectory.boolValue else {
            throw ReportError("\(path) is a directory, not a CSV file; name a file such as \(path)/metrics.csv")
        }
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw ReportError("\(path): cannot read it as UTF-8 text; check that it is a CSV file and readable")
        }
        return try parse(text, path: path)
    }

    /// Parses CSV text; `path` only names the source in messages.
    public static func parse(_ text: String, path: String) throws -> CSVTable {
        var header: [String]?
        var rows: [[String]] = [], numbers: [Int] = [], comments: [String] = []
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.hasSuffix("\r") ? String(rawLine.dropLast()) : String(rawLine)
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            if trimmed.hasPrefix("#") {
                comments.append(String(trimmed.dropFirst()).trimmingCharacters(in: .whitespaces))
                continue
            }
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard let columns = header else {
                if let duplicate = Dictionary(grouping: fields, by: { $0 }).first(where: { $0.value.count > 1 })?.key {
                    throw ReportError("\(path):\(index + 1): the header names column '\(duplicate)' twice; fix the header line")
                }
                header = fields
                continue
            }
            guard fields.count == columns.count else {
                throw ReportError("\(path):\(index + 1): \(fields.count) fields where the header has \(columns.count) "
                                  + "(\(columns.joined(separator: ","))); fix or remove that line")
            }
            rows.append(fields)
            numbers.append(index + 1)
        }
        guard let columns = header else {
            throw ReportError("\(path): the file is empty (no header line); regenerate it or pass another file")
        }
        return CSVTable(path: path, header: columns, rows: rows, lineNumbers: numbers, comments: comments)
    }

    public func columnIndex(_ name: String) -> Int? { header.firstIndex(of: name) }

    /// The index of a column that must be present.
    public func requireColumn(_ name: String, purpose: String = "") throws -> Int {
        guard let index = columnIndex(name) else {
            throw ReportError("\(path): no column '\(name)'\(purpose.isEmpty ? "" : " (\(purpose))"); its columns are "
                              + "\(header.joined(separator: ",")); check that this is the right kind of file")
        }
        return index
    }

    /// The number in `column` of row `row`; an empty field or "nan" is NaN, anything else unparsable is an error.
    public func number(row: Int, column: Int) throws -> Double {
        let field = rows[row][column]
        if field.isEmpty || field.lowercased() == "nan" { return .nan }
        if let value = Double(field) { return value }
        switch field.lowercased() {
        case "inf", "+inf", "infinity": return .infinity
        case "-inf", "-infinity": return -.infinity
        default:
            throw ReportError("\(path):\(lineNumbers[row]): column '\(header[column])' holds '\(field)', which is not a number; "
                              + "fix that field")
        }
    }
}

/// Formats a number with up to `significant` significant digits, the way our CSV files do.
func formatNumber(_ value: Double, significant: Int = 9) -> String { NumberFormat.csv(significant: significant).string(value) }

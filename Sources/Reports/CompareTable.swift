import Foundation

/// The comparison in the layout of the paper's Table 2: one row per (data set, model), one column per optimizer,
/// mean with the std as a subscript, the best of each row in bold; optionally the paper's numbers in a row of their
/// own below ours. As LaTeX (a `tabular` ready for `\input`), Markdown or CSV.
public struct ComparisonTable {
    public struct Cell: Equatable {
        public var mean: Double, std: Double
        /// The runs behind the cell are shorter than the paper's protocol.
        public var short: Bool
        public var best: Bool
    }

    public struct Row: Equatable {
        public var dataset: String, model: String
        /// "ours" or "paper".
        public var source: String
        /// One per column; nil where the optimizer has no number.
        public var cells: [Cell?]
    }

    public var optimizers: [String]
    public var rows: [Row]
    public var compared: RunValue
    public var metric: String

    /// Builds the table from the comparisons; columns in the paper table's order of optimizers (`paperOrder`), then
    /// the others alphabetically. `withPaper` adds the paper's row under each of ours.
    public init(_ comparisons: [Comparison], paperOrder: [String] = [], withPaper: Bool = false) {
        let ours = Set(comparisons.flatMap { $0.rows.map(\.ours.optimizer) })
        var order: [String] = []
        for name in paperOrder where ours.contains(name) && !order.contains(name) { order.append(name) }
        order += ours.subtracting(order).sorted()
        optimizers = order
        compared = comparisons.first?.compared ?? .best
        metric = Set(comparisons.map(\.metric)).sorted().joined(separator: ", ")
        func bolded(_ cells: [Cell?]) -> [Cell?] {
            let lowest = cells.compactMap { $0?.mean }.filter(\.isFinite).min()
            return cells.map { cell in cell.map { var c = $0; c.best = lowest != nil && c.mean == lowest!; return c } }
        }
        var rows: [Row] = []
        for c in comparisons {
            let byName = Dictionary(c.rows.map { ($0.ours.optimizer, $0) }, uniquingKeysWith: { a, _ in a })
            let ourCells: [Cell?] = order.map { name in
                byName[name].map { r in
                    let s = r.ours.chosen.value(c.compared)
                    return Cell(mean: s.mean, std: s.std, short: r.short, best: false)
                }
            }
            rows.append(Row(dataset: c.dataset, model: c.model, source: "ours", cells: bolded(ourCells)))
            if withPaper {
                let paperCells: [Cell?] = order.map { name in
                    byName[name]?.paper.map { Cell(mean: $0.mean, std: $0.std, short: false, best: false) }
                }
                rows.append(Row(dataset: c.dataset, model: c.model, source: "paper", cells: bolded(paperCells)))
            }
        }
        self.rows = rows
        notes = comparisons.compactMap(\.noPaperRowLine)
    }

    /// One line per data set and model the paper has no row for.
    public var notes: [String] = []

    var withPaper: Bool { rows.contains { $0.source == "paper" } }
    var anyShort: Bool { rows.contains { $0.cells.contains { $0?.short ?? false } } }

    /// Special characters of LaTeX escaped in plain text.
    public static func latexEscaped(_ text: String) -> String {
        var out = ""
        for ch in text {
            switch ch {
            case "\\": out += "\\textbackslash{}"
            case "&", "%", "$", "#", "_", "{", "}": out += "\\\(ch)"
            case "~": out += "\\textasciitilde{}"
            case "^": out += "\\textasciicircum{}"
            default: out.append(ch)
            }
        }
        return out
    }

    /// A `tabular` (with `\hline` rules: plain LaTeX, no packages needed) ready for `\input` inside a table environment.
    public func latex() -> String {
        let lead = withPaper ? ["Dataset", "Model", ""] : ["Dataset", "Model"]
        var out = ["% adai-bench compare --format latex: \(metric), \(compared.rawValue) over epochs; mean with std over seeds as subscript;",
                   "% the lowest of each row in bold" + (anyShort ? "; \\dag: fewer epochs than the paper's protocol" : "") + "."]
        out.append("\\begin{tabular}{" + String(repeating: "l", count: lead.count) + String(repeating: "c", count: optimizers.count) + "}")
        out.append("\\hline")
        out.append((lead + optimizers.map(ComparisonTable.latexEscaped)).joined(separator: " & ") + " \\\\")
        out.append("\\hline")
        for row in rows {
            let first = row.source == "ours"
            var fields = [first ? ComparisonTable.latexEscaped(row.dataset) : "", first ? ComparisonTable.latexEscaped(row.model) : ""]
            if withPaper { fields.append(row.source == "ours" ? "ours" : "paper") }
            fields += row.cells.map { cell in
                guard let cell, cell.mean.isFinite else { return "--" }
                let mean = String(format: "%.2f", cell.mean)
                var text = cell.best ? "\\mathbf{\(mean)}" : mean
                if cell.std.isFinite { text += String(format: "_{\\pm %.2f}", cell.std) }
                if cell.short { text += "^{\\dag}" }
                return "$" + text + "$"
            }
            out.append(fields.joined(separator: " & ") + " \\\\")
            if !withPaper || row.source == "paper" { out.append("\\hline") }
        }
        out.append("\\end{tabular}")
        out += notes.map { "% " + $0 }
        return out.joined(separator: "\n") + "\n"
    }

    /// The same as a Markdown table: "4.70 ± 0.14", the best in bold, † for short runs.
    public func markdown() -> String {
        let lead = withPaper ? ["dataset", "model", "source"] : ["dataset", "model"]
        var out = ["| " + (lead + optimizers).joined(separator: " | ") + " |",
                   "|" + String(repeating: "---|", count: lead.count + optimizers.count)]
        for row in rows {
            var fields = [row.dataset, row.model]
            if withPaper { fields.append(row.source) }
            fields += row.cells.map { cell in
                guard let cell, cell.mean.isFinite else { return "-" }
                let mean = String(format: "%.2f", cell.mean)
                return (cell.best ? "**\(mean)**" : mean) + (cell.std.isFinite ? String(format: " ± %.2f", cell.std) : "") + (cell.short ? " †" : "")
            }
            out.append("| " + fields.joined(separator: " | ") + " |")
        }
        out.append("")
        out.append("\(metric), \(compared.rawValue) over epochs: mean ± std over seeds; the lowest of each row in bold"
                   + (anyShort ? "; † fewer epochs than the paper's protocol." : "."))
        out += notes
        return out.joined(separator: "\n") + "\n"
    }

    /// The same as CSV: per optimizer a mean and a std column, then the best optimizer of the row.
    public func csv() -> String {
        var out = [(["dataset", "model", "source"] + optimizers.flatMap { [$0, "\($0)_std"] } + ["best"]).joined(separator: ",")]
        func n(_ x: Double?) -> String { x.map { $0.isFinite ? formatNumber($0, significant: 6) : "" } ?? "" }
        for row in rows {
            let best = zip(optimizers, row.cells).filter { $0.1?.best ?? false }.map(\.0).joined(separator: " ")
            out.append(([row.dataset, row.model, row.source] + row.cells.flatMap { [n($0?.mean), n($0?.std)] } + [best]).joined(separator: ","))
        }
        out += notes.map { "# " + $0 }
        return out.joined(separator: "\n") + "\n"
    }
}

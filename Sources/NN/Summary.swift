import Foundation

// `model summary`: one row per leaf layer call of a forward pass, with the output shape, the
// layer's own parameters and its forward FLOPs.
//
// FLOPs are 2 × the multiply-accumulates of convolutions, linear layers and the LSTM's matrix
// products (the usual convention of fvcore/ptflops); element-wise work (batch-norm, ReLU,
// pooling, gates) is not counted and shows as "-".

/// One summary row.
public struct SummaryRow: Equatable {
    public let name: String
    public let kind: String
    public let outputShape: [Int]
    public let parameters: Int
    public let flops: Double
}

/// Collects the rows of a forward pass. Layers find their dotted names through `paths`.
public final class SummaryRecorder {
    public private(set) var rows: [SummaryRow] = []
    private var paths: [ObjectIdentifier: String] = [:]

    public init(model: Module) {
        for (path, module) in model.namedModules() { paths[ObjectIdentifier(module)] = path }
    }

    func add(layer: Module, suffix: String? = nil, kind: String, output: [Int], parameters: Int, flops: Double) {
        var name = paths[ObjectIdentifier(layer)] ?? "?"
        if let suffix { name = joinPath(name, suffix) }
        rows.append(SummaryRow(name: name, kind: kind, outputShape: output, parameters: parameters, flops: flops))
    }
}

/// A model's summary: rows and totals.
public struct ModelSummary {
    public let title: String
    public let inputDescription: String
    public let rows: [SummaryRow]
    public let parameterCount: Int
    public let bufferFloats: Int
    public let counterCount: Int

    public var totalFlops: Double { rows.reduce(0) { $0 + $1.flops } }

    /// The table as text, e.g. for the terminal.
    public func formatted() -> String {
        let headers = ["layer", "type", "output shape", "parameters", "FLOPs"]
        var table: [[String]] = rows.map { row in
            [row.name, row.kind, "[" + row.outputShape.map(String.init).joined(separator: ", ") + "]",
             row.parameters == 0 ? "-" : groupedThousands(row.parameters),
             row.flops == 0 ? "-" : groupedThousands(Int(row.flops))]
        }
        table.insert(headers, at: 0)
        var widths = [Int](repeating: 0, count: headers.count)
        for line in table { for (i, cell) in line.enumerated() { widths[i] = max(widths[i], cell.count) } }
        var lines: [String] = ["\(title), input \(inputDescription)"]
        for (index, line) in table.enumerated() {
            let cells = line.enumerated().map { i, cell in
                let pad = String(repeating: " ", count: widths[i] - cell.count)
                return i >= 3 ? pad + cell : cell + pad  // numbers right-aligned
            }
            lines.append(cells.joined(separator: "  "))
            if index == 0 { lines.append(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")) }
        }
        lines.append("total parameters: \(groupedThousands(parameterCount))")
        lines.append("buffers: \(groupedThousands(bufferFloats)) floats, \(counterCount) int64 counters")
        lines.append("forward FLOPs for this input: \(groupedThousands(Int(totalFlops))) "
            + "(\(String(format: "%.3f", totalFlops / 1e9)) GFLOPs; 2 × multiply-accumulates of conv, linear and LSTM)")
        return lines.joined(separator: "\n")
    }
}

/// 11173962 → "11,173,962".
public func groupedThousands(_ n: Int) -> String {
    let digits = String(abs(n))
    var out = ""
    for (i, ch) in digits.enumerated() {
        if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
        out.append(ch)
    }
    return n < 0 ? "-" + out : out
}

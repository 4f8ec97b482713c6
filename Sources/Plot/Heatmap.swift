import Foundation

/// A grid of values (e.g. test error over learning rate × weight decay) with the value printed
/// in each cell and a colour bar. `values[row][column]`; NaN cells are drawn grey and labelled "-".
public struct Heatmap {
    public var title: String, xLabel: String, yLabel: String
    public var columnLabels: [String], rowLabels: [String]
    public var values: [[Double]]
    public var cellWidth = 84, cellHeight = 40

    public init(title: String, xLabel: String, yLabel: String, columnLabels: [String], rowLabels: [String], values: [[Double]]) {
        self.title = title; self.xLabel = xLabel; self.yLabel = yLabel
        self.columnLabels = columnLabels; self.rowLabels = rowLabels; self.values = values
    }

    /// A perceptually ordered, colour-blind-safe ramp (viridis, sampled at five stops).
    static let stops: [RGB] = [RGB(68, 1, 84), RGB(59, 82, 139), RGB(33, 145, 140), RGB(94, 201, 98), RGB(253, 231, 37)]

    /// The colour of a value at fraction t of the range (exposed for tests).
    public static func colorForTesting(_ t: Double) -> RGB { color(t) }

    static func color(_ t: Double) -> RGB {
        let x = min(max(t, 0), 1) * Double(stops.count - 1)
        let i = min(Int(x), stops.count - 2), f = x - Double(i)
        let a = stops[i], b = stops[i + 1]
        func mix(_ p: UInt8, _ q: UInt8) -> UInt8 { UInt8((Double(p) * (1 - f) + Double(q) * f).rounded()) }
        return RGB(mix(a.r, b.r), mix(a.g, b.g), mix(a.b, b.b))
    }

    public func render() -> Canvas {
        let rows = rowLabels.count, cols = columnLabels.count
        let finite = values.flatMap { $0 }.filter { $0.isFinite }
        let low = finite.min() ?? 0, high = max(finite.max() ?? 1, (finite.min() ?? 0) + 1e-12)
        let rowLabelWidth = rowLabels.map { Canvas.textWidth($0) }.max() ?? 0
        let left = 30 + rowLabelWidth + 8, top = 44
        let gridW = cols * cellWidth, gridH = rows * cellHeight
        let barX = left + gridW + 24, barW = 18
        let barLabelWidth = [low, high].map { Canvas.textWidth(Ticks.label($0)) }.max() ?? 0
        let width = max(barX + barW + 8 + barLabelWidth + 12, Canvas.textWidth(title, scale: 2) + 20)
        let height = top + gridH + 56
        var canvas = Canvas(width: width, height: height)

        for r in 0..<rows {
            for c in 0..<cols {
                let v = r < values.count && c < values[r].count ? values[r][c] : .nan
                let x = left + c * cellWidth, y = top + r * cellHeight
                let fill = v.isFinite ? Heatmap.color((v - low) / (high - low)) : RGB(200, 200, 200)
                canvas.fill(x: x, y: y, width: cellWidth, height: cellHeight, color: fill)
                let luminance = 0.299 * Double(fill.r) + 0.587 * Double(fill.g) + 0.114 * Double(fill.b)
                let text = v.isFinite ? String(format: "%.2f", v) : "-"
                canvas.text(text, x: x + (cellWidth - Canvas.textWidth(text)) / 2, y: y + (cellHeight - Canvas.textHeight()) / 2,
                            color: luminance > 140 ? .black : .white)
            }
        }
        for r in 0...rows { canvas.fill(x: left, y: top + r * cellHeight, width: gridW + 1, height: 1, color: .white) }
        for c in 0...cols { canvas.fill(x: left + c * cellWidth, y: top, width: 1, height: gridH, color: .white) }
        for (r, label) in rowLabels.enumerated() {
            canvas.text(label, x: left - 8 - Canvas.textWidth(label), y: top + r * cellHeight + (cellHeight - Canvas.textHeight()) / 2)
        }
        for (c, label) in columnLabels.enumerated() {
            canvas.text(label, x: left + c * cellWidth + (cellWidth - Canvas.textWidth(label)) / 2, y: top + gridH + 6)
        }
        // Colour bar: high at the top.
        for y in 0..<gridH {
            canvas.fill(x: barX, y: top + y, width: barW, height: 1, color: Heatmap.color(1 - Double(y) / Double(max(gridH - 1, 1))))
        }
        canvas.text(Ticks.label(high), x: barX + barW + 6, y: top)
        canvas.text(Ticks.label(low), x: barX + barW + 6, y: top + gridH - Canvas.textHeight())
        canvas.text(title, x: (width - Canvas.textWidth(title, scale: 2)) / 2, y: 8, scale: 2)
        canvas.text(xLabel, x: left + (gridW - Canvas.textWidth(xLabel)) / 2, y: height - 24)
        canvas.text(yLabel, x: 6, y: top + (gridH + Canvas.textWidth(yLabel)) / 2, vertical: true)
        return canvas
    }
}

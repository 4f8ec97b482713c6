import Foundation

/// A grid of values (e.g. test error over learning rate × weight decay) with the value printed in each cell and a
/// colour bar. `values[row][column]`; NaN cells are drawn grey and labelled "–". The figure's size follows the grid:
/// cells are sized to their text, so a 1×1 and a 10×10 grid are both set at the same type size.
public struct Heatmap: Sendable {
    public var title: String, xLabel: String, yLabel: String
    public var columnLabels: [String], rowLabels: [String]
    public var values: [[Double]]
    /// Label of the colour bar (e.g. the metric); empty for none.
    public var valueLabel = ""
    /// Cells outlined as marked (`marked[row][column]`, e.g. Figure 5's basin), with a line under the grid saying what
    /// the outline means; empty for none.
    public var marked: [[Bool]] = []
    public var markNote = ""

    public init(title: String, xLabel: String, yLabel: String, columnLabels: [String], rowLabels: [String], values: [[Double]]) {
        self.title = title; self.xLabel = xLabel; self.yLabel = yLabel
        self.columnLabels = columnLabels; self.rowLabels = rowLabels; self.values = values
    }

    /// A perceptually ordered, colour-blind-safe ramp (viridis, sampled at nine stops).
    static let stops: [RGB] = [RGB(68, 1, 84), RGB(71, 45, 123), RGB(59, 82, 139), RGB(44, 114, 142), RGB(33, 145, 140),
                               RGB(40, 174, 128), RGB(94, 201, 98), RGB(173, 220, 48), RGB(253, 231, 37)]

    /// The colour of a value at fraction t of the range (0: lowest).
    public static func color(_ t: Double) -> RGB {
        let x = min(max(t, 0), 1) * Double(stops.count - 1)
        let i = min(Int(x), stops.count - 2), f = x - Double(i)
        let a = stops[i], b = stops[i + 1]
        func mix(_ p: UInt8, _ q: UInt8) -> UInt8 { UInt8((Double(p) * (1 - f) + Double(q) * f).rounded()) }
        return RGB(mix(a.r, b.r), mix(a.g, b.g), mix(a.b, b.b))
    }

    /// The text printed in a cell: two decimals (four significant digits for large or tiny values), "–" when missing.
    public static func cellText(_ v: Double) -> String {
        guard v.isFinite else { return "–" }
        return abs(v) >= 1000 || (abs(v) < 0.01 && v != 0) ? String(format: "%.3g", v) : String(format: "%.2f", v)
    }

    /// The text colour that contrasts with a cell's fill.
    public static func textColor(on fill: RGB) -> RGB { fill.luminance > 0.5 ? .black : .white }

    public func value(_ r: Int, _ c: Int) -> Double { r < values.count && c < values[r].count ? values[r][c] : .nan }
    public func isMarked(_ r: Int, _ c: Int) -> Bool { r < marked.count && c < marked[r].count && marked[r][c] }

    public struct Layout {
        public var figure: Figure
        public var cells: [[Box]]
        public var colorBar: Box
        /// The outlines drawn on the marked cells, row by row.
        public var outlines: [Box]
    }

    public func figure() -> Figure { layout().figure }

    public func layout() -> Layout {
        let m = ChartStyle.margin, tickFont = ChartStyle.tickFont, axisFont = ChartStyle.axisTitleFont
        let cellFont = ChartStyle.tickFont
        let rows = rowLabels.count, cols = columnLabels.count
        let finite = values.flatMap { $0 }.filter(\.isFinite)
        let low = finite.min() ?? 0, high = finite.max() ?? 1
        func fraction(_ v: Double) -> Double { high > low ? (v - low) / (high - low) : 0.5 }
        let tickHeight = TextMetrics.lineHeight(tickFont), axisHeight = TextMetrics.lineHeight(axisFont)

        // Cells sized to their text: the widest value or column label plus padding.
        var cellTexts: [[String]] = []
        for r in 0..<rows { cellTexts.append((0..<cols).map { Heatmap.cellText(value(r, $0)) }) }
        let widestValue = cellTexts.flatMap { $0 }.map { TextMetrics.width($0, cellFont) }.max() ?? 0
        let widestColumn = columnLabels.map { TextMetrics.width($0, tickFont) }.max() ?? 0
        let cellWidth = max(max(widestValue, widestColumn) + 8, 26)
        let cellHeight = max(TextMetrics.lineHeight(cellFont) * 1.9, 15)
        let gridWidth = Double(cols) * cellWidth, gridHeight = Double(rows) * cellHeight
        let rowLabelWidth = rowLabels.map { TextMetrics.width($0, tickFont) }.max() ?? 0

        // The y-axis title reads upwards beside the row labels when the grid is tall enough, else it is set
        // level above them.
        let yTitleLength = TextMetrics.width(yLabel, axisFont)
        let yTitleRotated = yTitleLength <= gridHeight
        let labelColumn = yTitleRotated ? rowLabelWidth : max(rowLabelWidth, yTitleLength)
        var titleFont = ChartStyle.titleFont
        let titleHeight = title.isEmpty ? 0 : TextMetrics.lineHeight(titleFont) + 4
        // The x title is centred under the grid but must end left of the colour bar (which may reach below a short
        // grid): room is made on the left when the grid is narrower than the title.
        let xTitleWidth = TextMetrics.width(xLabel, axisFont)
        var gridLeftWithoutCentering = m + (yTitleRotated ? axisHeight + 4 : 0) + labelColumn + 4
        gridLeftWithoutCentering += max(0, xTitleWidth - (gridLeftWithoutCentering + gridWidth + 6 - m))
        let gridTop = m + titleHeight + (yTitleRotated || yLabel.isEmpty ? 2 : axisHeight + 3)

        // Colour bar: at least 60 pt tall so that it holds a few labelled ticks.
        let barHeight = max(gridHeight, 60), barWidth = 8.0
        let barTicks: [Double] = {
            guard high > low else { return [low] }
            let target = max(2, min(6, Int(barHeight / (tickHeight * 2.2))))
            let t = Ticks.linear(low, high, target: target).filter { $0 >= low - 1e-12 && $0 <= high + 1e-12 }
            return t.count >= 2 ? t : [low, high]
        }()
        let barLabelWidth = barTicks.map { TextMetrics.width(Ticks.label($0), tickFont) }.max() ?? 0
        let valueTitleWidth = valueLabel.isEmpty ? 0 : axisHeight + 4

        // Width: the content, or the title / x title when they are wider; the content is then centred.
        let contentWidth = gridLeftWithoutCentering + gridWidth + 10 + barWidth + 2 + ChartStyle.tickLength + barLabelWidth
            + valueTitleWidth + m
        let maxWidth = max(contentWidth, 560)
        let titleWidthWanted = TextMetrics.width(title, titleFont) + 2 * m
        // Whole points, so that PDF and SVG pages have simple sizes.
        let noteWidthWanted = markNote.isEmpty ? 0 : TextMetrics.width(markNote, tickFont) + 2 * m
        let width = min(max(contentWidth, titleWidthWanted, noteWidthWanted, gridLeftWithoutCentering + xTitleWidth + m), maxWidth).rounded(.up)
        while titleFont.size > tickFont.size && TextMetrics.width(title, titleFont) > width - 2 * m { titleFont.size -= 0.5 }
        let shift = (width - contentWidth) / 2
        let gridLeft = gridLeftWithoutCentering + shift
        let columnLabelTop = gridTop + gridHeight + 3
        let xTitleTop = columnLabelTop + tickHeight + 3
        let noteTop = xTitleTop + (xLabel.isEmpty ? 0 : axisHeight) + 3
        let bottom = markNote.isEmpty ? noteTop - 3 : noteTop + tickHeight
        let height = max(bottom + m, gridTop + barHeight + tickHeight / 2 + m).rounded(.up)

        var figure = Figure(width: width, height: height)
        var cells: [[Box]] = []
        for r in 0..<rows {
            var rowBoxes: [Box] = []
            for c in 0..<cols {
                let v = value(r, c)
                let box = Box(x: gridLeft + Double(c) * cellWidth, y: gridTop + Double(r) * cellHeight, width: cellWidth, height: cellHeight)
                let fill = v.isFinite ? Heatmap.color(fraction(v)) : RGB.missing
                figure.add(.fillRect(box, fill))
                figure.text(cellTexts[r][c], x: box.x + cellWidth / 2, y: box.y + cellHeight / 2, font: cellFont,
                            color: Heatmap.textColor(on: fill), horizontal: .center, vertical: .middle, role: "cell value")
                rowBoxes.append(box)
            }
            cells.append(rowBoxes)
        }
        // White lines between the cells.
        for r in 1..<max(rows, 1) {
            let y = gridTop + Double(r) * cellHeight
            figure.add(.polyline([(gridLeft, y), (gridLeft + gridWidth, y)], .white, width: 1, dash: nil))
        }
        for c in 1..<max(cols, 1) {
            let x = gridLeft + Double(c) * cellWidth
            figure.add(.polyline([(x, gridTop), (x, gridTop + gridHeight)], .white, width: 1, dash: nil))
        }
        // Marked cells: an outline inside the cell, in the colour that contrasts with its fill.
        var outlines: [Box] = []
        for r in 0..<rows {
            for c in 0..<cols where isMarked(r, c) {
                let cell = cells[r][c], v = value(r, c)
                let outline = Box(x: cell.x + 2, y: cell.y + 2, width: cell.width - 4, height: cell.height - 4)
                figure.add(.strokeRect(outline, Heatmap.textColor(on: v.isFinite ? Heatmap.color(fraction(v)) : RGB.missing), width: 1.5))
                outlines.append(outline)
            }
        }
        if !markNote.isEmpty {
            figure.text(TextMetrics.fit(markNote, tickFont, width: width - 2 * m), x: width / 2, y: noteTop, font: tickFont,
                        horizontal: .center, role: "mark note")
        }
        for (r, label) in rowLabels.enumerated() {
            figure.text(label, x: gridLeft - 4, y: gridTop + (Double(r) + 0.5) * cellHeight, font: tickFont, horizontal: .right,
                        vertical: .middle, role: "row label")
        }
        for (c, label) in columnLabels.enumerated() {
            figure.text(label, x: gridLeft + (Double(c) + 0.5) * cellWidth, y: columnLabelTop, font: tickFont, horizontal: .center,
                        role: "column label")
        }
        if !xLabel.isEmpty {
            let centre = max(min(gridLeft + gridWidth / 2, gridLeft + gridWidth + 6 - xTitleWidth / 2), m + xTitleWidth / 2)
            figure.text(TextMetrics.fit(xLabel, axisFont, width: width - 2 * m), x: centre, y: xTitleTop, font: axisFont,
                        horizontal: .center, role: "x axis title")
        }
        if !yLabel.isEmpty {
            if yTitleRotated {
                figure.text(yLabel, x: gridLeft - 4 - rowLabelWidth - 4, y: gridTop + gridHeight / 2, font: axisFont, horizontal: .right,
                            vertical: .middle, rotated: true, role: "y axis title")
            } else {
                figure.text(yLabel, x: gridLeft - 4, y: gridTop - 3, font: axisFont, horizontal: .right, vertical: .bottom,
                            role: "y axis title")
            }
        }

        // Colour bar, high at the top, with labelled ticks.
        let bar = Box(x: gridLeft + gridWidth + 10, y: gridTop, width: barWidth, height: barHeight)
        let steps = 64
        for i in 0..<steps {
            let slice = Box(x: bar.x, y: bar.y + bar.height * Double(i) / Double(steps), width: bar.width, height: bar.height / Double(steps) + 0.3)
            figure.add(.fillRect(slice, Heatmap.color(1 - (Double(i) + 0.5) / Double(steps))))
        }
        figure.add(.strokeRect(bar, .black, width: 0.5))
        var lastLabelTop = -Double.infinity
        for t in barTicks.reversed() {
            let y = bar.bottom - fraction(t) * bar.height
            guard y - tickHeight / 2 >= lastLabelTop + 1 else { continue }
            figure.add(.polyline([(bar.right, y), (bar.right + ChartStyle.tickLength, y)], .black, width: 0.5, dash: nil))
            figure.text(Ticks.label(t), x: bar.right + ChartStyle.tickLength + 2, y: y, font: tickFont, vertical: .middle, role: "colour bar label")
            lastLabelTop = y + tickHeight / 2
        }
        if !valueLabel.isEmpty {
            figure.text(TextMetrics.fit(valueLabel, axisFont, width: bar.height), x: width - m - shift, y: bar.y + bar.height / 2, font: axisFont,
                        horizontal: .right, vertical: .middle, rotated: true, role: "colour bar title")
        }
        if !title.isEmpty {
            figure.text(TextMetrics.fit(title, titleFont, width: width - 2 * m), x: width / 2, y: m, font: titleFont, horizontal: .center,
                        role: "title")
        }
        return Layout(figure: figure, cells: cells, colorBar: bar, outlines: outlines)
    }
}

import Foundation

/// One line of a chart: points, an optional shaded band (e.g. ± std over seeds), and a name for the legend.
public struct Series {
    public var name: String
    public var xs: [Double], ys: [Double]
    public var lower: [Double]?, upper: [Double]?
    public init(name: String, xs: [Double], ys: [Double], lower: [Double]? = nil, upper: [Double]? = nil) {
        self.name = name; self.xs = xs; self.ys = ys; self.lower = lower; self.upper = upper
    }
}

/// A line chart with axes, ticks, tick labels, axis titles, a title and a legend.
public struct LineChart {
    public var title: String, xLabel: String, yLabel: String
    public var series: [Series]
    public var logY = false
    public var width = 820, height = 520
    /// Series drawn as dashed-free markers only (e.g. measured points) keep lines too; `markers` adds squares.
    public var markers = false

    public init(title: String, xLabel: String, yLabel: String, series: [Series], logY: Bool = false) {
        self.title = title; self.xLabel = xLabel; self.yLabel = yLabel; self.series = series; self.logY = logY
    }

    public func render() -> Canvas {
        var canvas = Canvas(width: width, height: height)
        let allX = series.flatMap { $0.xs }.filter { $0.isFinite }
        var allY = series.flatMap { s in s.ys + (s.lower ?? []) + (s.upper ?? []) }.filter { $0.isFinite }
        if logY { allY = allY.filter { $0 > 0 } }
        var xMin = allX.min() ?? 0, xMax = allX.max() ?? 1
        var yMin = allY.min() ?? 0, yMax = allY.max() ?? 1
        if xMax <= xMin { xMin -= 0.5; xMax += 0.5 }
        if yMax <= yMin { yMin = logY ? yMin / 2 : yMin - 0.5; yMax = logY ? yMax * 2 : yMax + 0.5 }
        if logY {
            yMin = pow(10, floor(log10(yMin) * 10) / 10); yMax = pow(10, ceil(log10(yMax) * 10) / 10)
        } else {
            let pad = (yMax - yMin) * 0.05
            yMin -= pad; yMax += pad
        }
        let yTicks = logY ? Ticks.logarithmic(yMin, yMax) : Ticks.linear(yMin, yMax)
        let xTicks = Ticks.linear(xMin, xMax)
        let labelWidth = yTicks.map { Canvas.textWidth(Ticks.label($0)) }.max() ?? 0
        let left = 28 + labelWidth + 8, top = 40, right = 20, bottom = 56
        let frame = Frame(left: left, top: top, width: width - left - right, height: height - top - bottom,
                          xMin: xMin, xMax: xMax, yMin: yMin, yMax: yMax, logY: logY)

        // Grid, ticks and tick labels.
        for t in yTicks {
            let y = Int(frame.py(t).rounded())
            canvas.fill(x: frame.left, y: y, width: frame.width, height: 1, color: .lightGray)
            canvas.fill(x: frame.left - 5, y: y, width: 5, height: 1, color: .black)
            let s = Ticks.label(t)
            canvas.text(s, x: frame.left - 8 - Canvas.textWidth(s), y: y - Canvas.textHeight() / 2)
        }
        for t in xTicks {
            let x = Int(frame.px(t).rounded())
            canvas.fill(x: x, y: frame.top, width: 1, height: frame.height, color: .lightGray)
            canvas.fill(x: x, y: frame.top + frame.height, width: 1, height: 5, color: .black)
            let s = Ticks.label(t)
            canvas.text(s, x: x - Canvas.textWidth(s) / 2, y: frame.top + frame.height + 8)
        }

        // Bands first, then lines on top.
        for (i, s) in series.enumerated() {
            guard let lower = s.lower, let upper = s.upper, lower.count == s.xs.count, upper.count == s.xs.count else { continue }
            let color = colorBlindSafePalette[i % colorBlindSafePalette.count]
            canvas.band(xs: s.xs.map(frame.px), lower: lower.map(frame.py), upper: upper.map(frame.py), color: color, alpha: 0.25)
        }
        for (i, s) in series.enumerated() {
            let color = colorBlindSafePalette[i % colorBlindSafePalette.count]
            let points = zip(s.xs, s.ys).filter { $0.0.isFinite && $0.1.isFinite && (!logY || $0.1 > 0) }
            for (a, b) in zip(points, points.dropFirst()) {
                canvas.line(frame.px(a.0), frame.py(a.1), frame.px(b.0), frame.py(b.1), color: color, thickness: 2)
            }
            if markers || points.count == 1 {
                for p in points { canvas.fill(x: Int(frame.px(p.0)) - 3, y: Int(frame.py(p.1)) - 3, width: 7, height: 7, color: color) }
            }
        }

        // Frame, titles, legend.
        canvas.fill(x: frame.left, y: frame.top, width: frame.width, height: 1, color: .black)
        canvas.fill(x: frame.left, y: frame.top + frame.height, width: frame.width + 1, height: 1, color: .black)
        canvas.fill(x: frame.left, y: frame.top, width: 1, height: frame.height, color: .black)
        canvas.fill(x: frame.left + frame.width, y: frame.top, width: 1, height: frame.height, color: .black)
        canvas.text(title, x: (width - Canvas.textWidth(title, scale: 2)) / 2, y: 8, scale: 2)
        canvas.text(xLabel, x: frame.left + (frame.width - Canvas.textWidth(xLabel)) / 2, y: height - 22)
        canvas.text(yLabel, x: 6, y: frame.top + (frame.height + Canvas.textWidth(yLabel)) / 2, vertical: true)
        drawLegend(&canvas, frame)
        return canvas
    }

    private func drawLegend(_ canvas: inout Canvas, _ frame: Frame) {
        guard !series.isEmpty else { return }
        let rowHeight = Canvas.textHeight() + 4
        let boxWidth = 34 + (series.map { Canvas.textWidth($0.name) }.max() ?? 0)
        let boxHeight = rowHeight * series.count + 8
        let x0 = frame.left + frame.width - boxWidth - 8, y0 = frame.top + 8
        canvas.fill(x: x0, y: y0, width: boxWidth, height: boxHeight, color: .white)
        canvas.fill(x: x0, y: y0, width: boxWidth, height: 1, color: .gray)
        canvas.fill(x: x0, y: y0 + boxHeight, width: boxWidth + 1, height: 1, color: .gray)
        canvas.fill(x: x0, y: y0, width: 1, height: boxHeight, color: .gray)
        canvas.fill(x: x0 + boxWidth, y: y0, width: 1, height: boxHeight, color: .gray)
        for (i, s) in series.enumerated() {
            let color = colorBlindSafePalette[i % colorBlindSafePalette.count]
            let y = y0 + 6 + i * rowHeight
            canvas.fill(x: x0 + 6, y: y + rowHeight / 2 - 2, width: 20, height: 3, color: color)
            canvas.text(s.name, x: x0 + 30, y: y)
        }
    }
}

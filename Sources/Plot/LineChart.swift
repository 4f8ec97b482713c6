import Foundation

/// One line of a chart: points, an optional shaded band (e.g. ± std over seeds), and a name for the legend.
public struct Series {
    public var name: String
    public var xs: [Double], ys: [Double]
    public var lower: [Double]?, upper: [Double]?
    /// Join the points with a line (true) or draw them as markers only (false).
    public var connected = true
    /// Vertical error bars from `errorLow[i]` to `errorHigh[i]` at each point (e.g. a confidence interval).
    public var errorLow: [Double]?, errorHigh: [Double]?
    /// A fitted curve drawn dashed in the series' colour (e.g. a least-squares line through the markers).
    public var fitXs: [Double]?, fitYs: [Double]?

    public init(name: String, xs: [Double], ys: [Double], lower: [Double]? = nil, upper: [Double]? = nil) {
        self.name = name; self.xs = xs; self.ys = ys; self.lower = lower; self.upper = upper
    }

    /// Points drawn as markers with optional error bars and a dashed fitted curve.
    public static func points(name: String, xs: [Double], ys: [Double], errorLow: [Double]? = nil, errorHigh: [Double]? = nil,
                              fitXs: [Double]? = nil, fitYs: [Double]? = nil) -> Series {
        var s = Series(name: name, xs: xs, ys: ys)
        s.connected = false
        s.errorLow = errorLow; s.errorHigh = errorHigh; s.fitXs = fitXs; s.fitYs = fitYs
        return s
    }
}

/// A line chart with axes, ticks, tick labels, axis titles, a title and a legend.
public struct LineChart {
    public var title: String, xLabel: String, yLabel: String
    public var series: [Series]
    public var logY = false
    public var width = 820, height = 520
    /// Draw a square marker at every point of every series, as well as the lines.
    public var markers = false

    public init(title: String, xLabel: String, yLabel: String, series: [Series], logY: Bool = false) {
        self.title = title; self.xLabel = xLabel; self.yLabel = yLabel; self.series = series; self.logY = logY
    }

    public func render() -> Canvas {
        var canvas = Canvas(width: width, height: height)
        let allX = series.flatMap { $0.xs + ($0.fitXs ?? []) }.filter { $0.isFinite }
        var allY: [Double] = []
        for s in series {
            allY += s.ys
            for extra in [s.lower, s.upper, s.errorLow, s.errorHigh] { allY += extra ?? [] }
        }
        allY = allY.filter { $0.isFinite }
        if logY { allY = allY.filter { $0 > 0 } }
        var xMin = allX.min() ?? 0, xMax = allX.max() ?? 1
        var yMin = allY.min() ?? 0, yMax = allY.max() ?? 1
        if xMax <= xMin { xMin -= 0.5; xMax += 0.5 }
        if markers || series.contains(where: { !$0.connected }) {  // keep markers at the ends clear of the frame
            let pad = (xMax - xMin) * 0.04
            xMin -= pad; xMax += pad
        }
        if yMax <= yMin { yMin = logY ? yMin / 2 : yMin - 0.5; yMax = logY ? yMax * 2 : yMax + 0.5 }
        if logY {
            yMin = pow(10, floor(log10(yMin) * 10) / 10); yMax = pow(10, ceil(log10(yMax) * 10) / 10)
        } else {
            let pad = (yMax - yMin) * 0.05
            yMin -= pad; yMax += pad
        }
        let yTicks = logY ? Ticks.logarithmic(yMin, yMax) : Ticks.linear(yMin, yMax)
        var xTicks = Ticks.linear(xMin, xMax)
        // Whole-number data (epochs) gets whole-number ticks where enough of them remain.
        let wholeTicks = xTicks.filter { $0 == $0.rounded() }
        if !allX.isEmpty, allX.allSatisfy({ $0 == $0.rounded() }), wholeTicks.count >= 2 { xTicks = wholeTicks }
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
        func visible(_ x: Double, _ y: Double) -> Bool { x.isFinite && y.isFinite && (!logY || y > 0) }
        for (i, s) in series.enumerated() {
            let color = colorBlindSafePalette[i % colorBlindSafePalette.count]
            if let fx = s.fitXs, let fy = s.fitYs {
                // Clip the fitted curve to the y range so that it never runs over the titles.
                let fit: [(Double, Double)] = zip(fx, fy).filter { visible($0.0, $0.1) }.map { p in (p.0, min(max(p.1, yMin), yMax)) }
                for (a, b) in zip(fit, fit.dropFirst()) {
                    canvas.dashedLine(frame.px(a.0), frame.py(a.1), frame.px(b.0), frame.py(b.1), color: color, thickness: 2)
                }
            }
            if let low = s.errorLow, let high = s.errorHigh, low.count == s.xs.count, high.count == s.xs.count {
                for k in s.xs.indices where visible(s.xs[k], low[k]) && visible(s.xs[k], high[k]) {
                    let x = frame.px(s.xs[k]).rounded()
                    canvas.line(x, frame.py(low[k]), x, frame.py(high[k]), color: color)
                    canvas.line(x - 4, frame.py(low[k]), x + 4, frame.py(low[k]), color: color)
                    canvas.line(x - 4, frame.py(high[k]), x + 4, frame.py(high[k]), color: color)
                }
            }
            let points = zip(s.xs, s.ys).filter { visible($0.0, $0.1) }
            if s.connected {
                for (a, b) in zip(points, points.dropFirst()) {
                    canvas.line(frame.px(a.0), frame.py(a.1), frame.px(b.0), frame.py(b.1), color: color, thickness: 2)
                }
            }
            if markers || !s.connected || points.count == 1 {
                for p in points {
                    canvas.fill(x: Int(frame.px(p.0).rounded()) - 3, y: Int(frame.py(p.1).rounded()) - 3, width: 7, height: 7, color: color)
                }
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
        // The corner whose box covers the fewest data points (top right first on ties).
        let corners = [(frame.left + frame.width - boxWidth - 8, frame.top + 8), (frame.left + 8, frame.top + 8),
                       (frame.left + frame.width - boxWidth - 8, frame.top + frame.height - boxHeight - 8),
                       (frame.left + 8, frame.top + frame.height - boxHeight - 8)]
        func covered(_ corner: (Int, Int)) -> Int {
            var count = 0
            for s in series {
                var xs = s.xs, ys = s.ys
                for (k, x) in s.xs.enumerated() {  // the band's and error bars' edges count too
                    for extra in [s.lower, s.upper, s.errorLow, s.errorHigh] { if let e = extra, k < e.count { xs.append(x); ys.append(e[k]) } }
                }
                if let fx = s.fitXs, let fy = s.fitYs { xs += fx; ys += fy }
                for (x, y) in zip(xs, ys) where x.isFinite && y.isFinite && (!logY || y > 0) {
                    let px = frame.px(x), py = frame.py(y)
                    if px >= Double(corner.0 - 4), px <= Double(corner.0 + boxWidth + 4), py >= Double(corner.1 - 4),
                       py <= Double(corner.1 + boxHeight + 4) { count += 1 }
                }
            }
            return count
        }
        let counts = corners.map(covered)
        let (x0, y0) = corners[counts.firstIndex(of: counts.min()!)!]
        canvas.fill(x: x0, y: y0, width: boxWidth, height: boxHeight, color: .white)
        canvas.fill(x: x0, y: y0, width: boxWidth, height: 1, color: .gray)
        canvas.fill(x: x0, y: y0 + boxHeight, width: boxWidth + 1, height: 1, color: .gray)
        canvas.fill(x: x0, y: y0, width: 1, height: boxHeight, color: .gray)
        canvas.fill(x: x0 + boxWidth, y: y0, width: 1, height: boxHeight, color: .gray)
        for (i, s) in series.enumerated() {
            let color = colorBlindSafePalette[i % colorBlindSafePalette.count]
            let y = y0 + 6 + i * rowHeight
            if s.connected { canvas.fill(x: x0 + 6, y: y + rowHeight / 2 - 2, width: 20, height: 3, color: color) }
            if markers || !s.connected { canvas.fill(x: x0 + 13, y: y + rowHeight / 2 - 4, width: 7, height: 7, color: color) }
            canvas.text(s.name, x: x0 + 30, y: y)
        }
    }
}

import Foundation

/// One line of a chart: points, an optional shaded band (e.g. ± std over seeds), and a name for the legend.
public struct Series: Sendable {
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

/// The sizes a chart is set in, in points: for a figure one column (3.25 in = 234 pt) or two columns (6.75 in = 486 pt)
/// wide, at the paper's own type sizes.
public enum ChartStyle {
    public static let titleFont = Font(size: 9.5, bold: true)
    public static let axisTitleFont = Font(size: 8.5)
    public static let tickFont = Font(size: 7.5)
    public static let legendFont = Font(size: 7.5)
    /// Space between the figure's edge and anything drawn.
    public static let margin = 4.0
    public static let tickLength = 3.0
    public static let lineWidth = 1.5
    /// Series with at most this many points get a marker at each point.
    public static let markerPointLimit = 15
}

/// A line chart with axes, ticks, tick labels, axis titles, a title and a legend.
public struct LineChart: Sendable {
    public var title: String, xLabel: String, yLabel: String
    public var series: [Series]
    public var logY = false, logX = false
    /// Size in points (default: 5 × 3.33 inches; 234 pt wide for one column of a two-column paper).
    public var width = 360.0, height = 240.0
    /// Draw a marker at every point of every series (series of few points always get them).
    public var markers = false

    public init(title: String, xLabel: String, yLabel: String, series: [Series], logY: Bool = false, logX: Bool = false) {
        self.title = title; self.xLabel = xLabel; self.yLabel = yLabel; self.series = series; self.logY = logY; self.logX = logX
    }

    /// Where the legend went: a corner inside the axes that covers no data, or outside to the right.
    public enum LegendPlacement: Equatable, Sendable { case topRight, topLeft, bottomRight, bottomLeft, outside }

    /// The laid-out chart: the figure and where its parts are (for tests).
    public struct Layout {
        public var figure: Figure
        public var plotArea: Box
        public var legend: Box?
        public var legendPlacement: LegendPlacement?
    }

    public func figure() -> Figure { layout().figure }

    func ranges() -> (Double, Double, Double, Double) {
        func usable(_ v: Double, _ log: Bool) -> Bool { v.isFinite && (!log || v > 0) }
        let allX = series.flatMap { $0.xs + ($0.fitXs ?? []) }.filter { usable($0, logX) }
        var allY: [Double] = []
        for s in series {
            allY += s.ys
            for extra in [s.lower, s.upper, s.errorLow, s.errorHigh] { allY += extra ?? [] }
        }
        allY = allY.filter { usable($0, logY) }
        var xMin = allX.min() ?? (logX ? 1 : 0), xMax = allX.max() ?? (logX ? 10 : 1)
        var yMin = allY.min() ?? (logY ? 1 : 0), yMax = allY.max() ?? (logY ? 10 : 1)
        if xMax <= xMin { if logX { xMin /= 2; xMax *= 2 } else { xMin -= 0.5; xMax += 0.5 } }
        if yMax <= yMin { if logY { yMin /= 2; yMax *= 2 } else { yMin -= 0.5; yMax += 0.5 } }
        func pad(_ low: inout Double, _ high: inout Double, _ log: Bool, _ fraction: Double) {
            if log {
                let p = (log10(high) - log10(low)) * fraction
                low = pow(10, log10(low) - p); high = pow(10, log10(high) + p)
            } else {
                let p = (high - low) * fraction
                low -= p; high += p
            }
        }
        if drawsMarkers { pad(&xMin, &xMax, logX, 0.04) }  // keep markers at the ends clear of the frame
        pad(&yMin, &yMax, logY, 0.05)
        return (xMin, xMax, yMin, yMax)
    }

    var drawsMarkers: Bool { markers || series.contains { !$0.connected || $0.xs.count <= ChartStyle.markerPointLimit } }

    func marked(_ s: Series) -> Bool { markers || !s.connected || s.xs.count <= ChartStyle.markerPointLimit }

    /// The chart laid out on its `width` × `height` points.
    public func layout() -> Layout {
        let m = ChartStyle.margin, tickLength = ChartStyle.tickLength
        let tickFont = ChartStyle.tickFont, axisFont = ChartStyle.axisTitleFont
        let tickHeight = TextMetrics.lineHeight(tickFont), axisHeight = TextMetrics.lineHeight(axisFont)
        let (xMin, xMax, yMin, yMax) = ranges()

        // Title: as large as fits the width, shortened only when even the smallest size does not fit.
        var titleFont = ChartStyle.titleFont
        while titleFont.size > tickFont.size && TextMetrics.width(title, titleFont) > width - 2 * m { titleFont.size -= 0.5 }
        let titleText = TextMetrics.fit(title, titleFont, width: width - 2 * m)
        let titleBottom = title.isEmpty ? m : m + TextMetrics.lineHeight(titleFont)

        let yTicks = logY ? Ticks.logarithmic(yMin, yMax) : Ticks.linear(yMin, yMax, target: 5)
        var xTicks = logX ? Ticks.logarithmic(xMin, xMax) : Ticks.linear(xMin, xMax, target: 6)
        let allX = series.flatMap(\.xs).filter(\.isFinite)
        // Whole-number data (epochs) gets whole-number ticks where enough of them remain.
        let wholeTicks = xTicks.filter { $0 == $0.rounded() }
        if !logX, !allX.isEmpty, allX.allSatisfy({ $0 == $0.rounded() }), wholeTicks.count >= 2 { xTicks = wholeTicks }
        // A log axis whose ticks all read well as plain numbers (k from 8 to 64) is labelled 10, 20, 50, not 10¹, 2×10¹.
        func labeller(_ log: Bool, _ ticks: [Double]) -> (Double) -> String {
            log && !Ticks.plainLogLabels(ticks) ? Ticks.powerOfTenLabel : Ticks.label
        }
        let xTickLabel = labeller(logX, xTicks), yTickLabel = labeller(logY, yTicks)
        let yLabelWidth = yTicks.map { TextMetrics.width(yTickLabel($0), tickFont) }.max() ?? 0
        let lastXLabel = xTicks.last.map { TextMetrics.width(xTickLabel($0), tickFont) } ?? 0

        // The legend's size (rows of a line sample and a name).
        let legendFont = ChartStyle.legendFont, rowHeight = TextMetrics.lineHeight(legendFont) + 2
        let sample = 16.0
        let maxLegendText = max(40, width * 0.4 - sample - 12)
        let names = series.map { TextMetrics.fit($0.name, legendFont, width: maxLegendText) }
        let legendSize = (width: sample + 12 + (names.map { TextMetrics.width($0, legendFont) }.max() ?? 0),
                          height: rowHeight * Double(series.count) + 4)

        func frame(legendOutside: Bool) -> Frame {
            let left = m + axisHeight + 4 + yLabelWidth + 2 + tickLength
            let right = width - max(m + 2, lastXLabel / 2 + m) - (legendOutside ? legendSize.width + 8 : 0)
            let top = titleBottom + max(6, tickHeight / 2 + 2)
            let bottom = height - m - axisHeight - 3 - tickHeight - 2 - tickLength
            return Frame(box: Box(x: left, y: top, width: max(right - left, 10), height: max(bottom - top, 10)),
                         xMin: xMin, xMax: xMax, yMin: yMin, yMax: yMax, logX: logX, logY: logY)
        }

        // The legend goes in the corner (top right first) whose box covers no data, else outside to the right.
        var placement: LegendPlacement? = nil
        var chosen = frame(legendOutside: false)
        var legendBox: Box? = nil
        if !series.isEmpty {
            let f = chosen, samples = dataSamples(f)
            let corners: [(LegendPlacement, Box)] = [
                (.topRight, Box(x: f.box.right - legendSize.width - 4, y: f.box.y + 4, width: legendSize.width, height: legendSize.height)),
                (.topLeft, Box(x: f.box.x + 4, y: f.box.y + 4, width: legendSize.width, height: legendSize.height)),
                (.bottomRight, Box(x: f.box.right - legendSize.width - 4, y: f.box.bottom - legendSize.height - 4,
                                   width: legendSize.width, height: legendSize.height)),
                (.bottomLeft, Box(x: f.box.x + 4, y: f.box.bottom - legendSize.height - 4, width: legendSize.width, height: legendSize.height)),
            ]
            let fitsInside = legendSize.width + 8 <= f.box.width && legendSize.height + 8 <= f.box.height
            if fitsInside, let free = corners.first(where: { corner in
                let b = Box(x: corner.1.x - 2, y: corner.1.y - 2, width: corner.1.width + 4, height: corner.1.height + 4)
                return !samples.contains { p in p.0 >= b.x && p.0 <= b.right && p.1 >= b.y && p.1 <= b.bottom }
            }) {
                placement = free.0; legendBox = free.1
            } else {
                placement = .outside
                chosen = frame(legendOutside: true)
                legendBox = Box(x: chosen.box.right + 8, y: chosen.box.y, width: legendSize.width, height: legendSize.height)
            }
        }
        let f = chosen
        var figure = Figure(width: width, height: height)

        // Ticks thinned until their labels do not touch.
        func thinned(_ ticks: [Double], extent: (Double) -> (Double, Double)) -> [Double] {
            var stride = 1
            while stride < ticks.count {
                let kept = Swift.stride(from: 0, to: ticks.count, by: stride).map { ticks[$0] }
                let spans = kept.map(extent)
                if zip(spans, spans.dropFirst()).allSatisfy({ $0.1 + 3 <= $1.0 }) { return kept }
                stride += 1
            }
            return Array(ticks.prefix(1))
        }
        let shownX = thinned(xTicks) { t in
            let w = TextMetrics.width(xTickLabel(t), tickFont)
            return (f.px(t) - w / 2, f.px(t) + w / 2)
        }
        let shownY = thinned(yTicks.reversed()) { t in (f.py(t) - tickHeight / 2, f.py(t) + tickHeight / 2) }

        // Grid lines at the labelled ticks.
        for t in shownY { figure.add(.polyline([(f.box.x, f.py(t)), (f.box.right, f.py(t))], .lightGray, width: 0.5, dash: nil)) }
        for t in shownX { figure.add(.polyline([(f.px(t), f.box.y), (f.px(t), f.box.bottom)], .lightGray, width: 0.5, dash: nil)) }

        // Data, clipped to the axes: bands, then fitted lines and error bars, then lines and markers.
        figure.add(.clip(f.box))
        for (i, s) in series.enumerated() {
            guard let lower = s.lower, let upper = s.upper, lower.count == s.xs.count, upper.count == s.xs.count else { continue }
            let color = colorBlindSafePalette[i % colorBlindSafePalette.count]
            let k = s.xs.indices.filter { visible(s.xs[$0], lower[$0]) && visible(s.xs[$0], upper[$0]) }
            guard k.count >= 2 else { continue }
            let polygon = k.map { (f.px(s.xs[$0]), f.py(upper[$0])) } + k.reversed().map { (f.px(s.xs[$0]), f.py(lower[$0])) }
            figure.add(.polygon(polygon, color, alpha: 0.25))
        }
        for (i, s) in series.enumerated() {
            let color = colorBlindSafePalette[i % colorBlindSafePalette.count]
            if let fx = s.fitXs, let fy = s.fitYs {
                let fit = zip(fx, fy).filter { visible($0.0, $0.1) }.map { (f.px($0.0), f.py($0.1)) }
                figure.add(.polyline(fit, color, width: 1, dash: (4, 2.5)))
            }
            if let low = s.errorLow, let high = s.errorHigh, low.count == s.xs.count, high.count == s.xs.count {
                for k in s.xs.indices where visible(s.xs[k], low[k]) && visible(s.xs[k], high[k]) {
                    let x = f.px(s.xs[k]), a = f.py(low[k]), b = f.py(high[k])
                    figure.add(.polyline([(x, a), (x, b)], color, width: 0.8, dash: nil))
                    figure.add(.polyline([(x - 2.5, a), (x + 2.5, a)], color, width: 0.8, dash: nil))
                    figure.add(.polyline([(x - 2.5, b), (x + 2.5, b)], color, width: 0.8, dash: nil))
                }
            }
            let points = zip(s.xs, s.ys).filter { visible($0.0, $0.1) }.map { (f.px($0.0), f.py($0.1)) }
            if s.connected { figure.add(.polyline(points, color, width: ChartStyle.lineWidth, dash: nil)) }
            if marked(s) || points.count == 1 {
                for p in points { figure.add(.circle(x: p.0, y: p.1, radius: 2.2, color)) }
            }
        }
        figure.add(.unclip)

        // Frame, ticks and their labels.
        figure.add(.strokeRect(f.box, .black, width: 0.8))
        if logY {
            for t in Ticks.logarithmicMinor(yMin, yMax) where !shownY.contains(t) {
                figure.add(.polyline([(f.box.x - tickLength / 2, f.py(t)), (f.box.x, f.py(t))], .black, width: 0.5, dash: nil))
            }
        }
        if logX {
            for t in Ticks.logarithmicMinor(xMin, xMax) where !shownX.contains(t) {
                figure.add(.polyline([(f.px(t), f.box.bottom), (f.px(t), f.box.bottom + tickLength / 2)], .black, width: 0.5, dash: nil))
            }
        }
        for t in shownY {
            figure.add(.polyline([(f.box.x - tickLength, f.py(t)), (f.box.x, f.py(t))], .black, width: 0.8, dash: nil))
            figure.text(yTickLabel(t), x: f.box.x - tickLength - 2, y: f.py(t), font: tickFont, horizontal: .right, vertical: .middle,
                        role: "y tick label")
        }
        for t in shownX {
            figure.add(.polyline([(f.px(t), f.box.bottom), (f.px(t), f.box.bottom + tickLength)], .black, width: 0.8, dash: nil))
            figure.text(xTickLabel(t), x: f.px(t), y: f.box.bottom + tickLength + 2, font: tickFont, horizontal: .center,
                        role: "x tick label")
        }

        // Titles: the axis titles centred on the axes, kept inside the figure.
        let xTitle = TextMetrics.fit(xLabel, axisFont, width: width - 2 * m)
        let xTitleWidth = TextMetrics.width(xTitle, axisFont)
        let xCentre = min(max(f.box.x + f.box.width / 2, m + xTitleWidth / 2), width - m - xTitleWidth / 2)
        figure.text(xTitle, x: xCentre, y: height - m, font: axisFont, horizontal: .center, vertical: .bottom, role: "x axis title")
        let yTitle = TextMetrics.fit(yLabel, axisFont, width: height - titleBottom - m - 2)
        let yTitleLength = TextMetrics.width(yTitle, axisFont)
        let yCentre = min(max(f.box.y + f.box.height / 2, titleBottom + 2 + yTitleLength / 2), height - m - yTitleLength / 2)
        figure.text(yTitle, x: m, y: yCentre, font: axisFont, horizontal: .left, vertical: .middle, rotated: true, role: "y axis title")
        if !title.isEmpty {
            figure.text(titleText, x: width / 2, y: m, font: titleFont, horizontal: .center, role: "title")
        }

        // Legend.
        if let box = legendBox {
            figure.add(.fillRect(box, .white))
            figure.add(.strokeRect(box, .gray, width: 0.5))
            for (i, s) in series.enumerated() {
                let color = colorBlindSafePalette[i % colorBlindSafePalette.count]
                let y = box.y + 2 + rowHeight * (Double(i) + 0.5)
                if s.connected { figure.add(.polyline([(box.x + 4, y), (box.x + 4 + sample, y)], color, width: ChartStyle.lineWidth, dash: nil)) }
                if marked(s) { figure.add(.circle(x: box.x + 4 + sample / 2, y: y, radius: 2.2, color)) }
                figure.text(names[i], x: box.x + 8 + sample, y: y, font: legendFont, vertical: .middle, role: "legend entry")
            }
        }
        return Layout(figure: figure, plotArea: f.box, legend: legendBox, legendPlacement: placement)
    }

    func visible(_ x: Double, _ y: Double) -> Bool { x.isFinite && y.isFinite && (!logY || y > 0) && (!logX || x > 0) }

    /// Points along everything the data draws (lines sampled every 2 pt, markers, band and error-bar edges), in points.
    func dataSamples(_ f: Frame) -> [(Double, Double)] {
        var out: [(Double, Double)] = []
        func along(_ points: [(Double, Double)]) {
            out += points
            for (a, b) in zip(points, points.dropFirst()) {
                let n = Int((hypot(b.0 - a.0, b.1 - a.1) / 2).rounded(.up))
                for j in 0..<max(n, 1) { let t = Double(j) / Double(max(n, 1)); out.append((a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t)) }
            }
        }
        func curve(_ xs: [Double], _ ys: [Double]) -> [(Double, Double)] {
            zip(xs, ys).filter { visible($0.0, $0.1) }.map { (f.px($0.0), f.py($0.1)) }
        }
        for s in series {
            let main = curve(s.xs, s.ys)
            if s.connected { along(main) } else { out += main }
            for (low, high) in [(s.lower, s.upper), (s.errorLow, s.errorHigh)] {
                guard let low, let high, low.count == s.xs.count, high.count == s.xs.count else { continue }
                let lowCurve = curve(s.xs, low), highCurve = curve(s.xs, high)
                if s.connected && lowCurve.count == highCurve.count {
                    // The area between (a band): columns every 2 pt, interpolated between the points as the polygon is.
                    along(lowCurve); along(highCurve)
                    for k in lowCurve.indices.dropLast() {
                        let n = max(1, Int(((lowCurve[k + 1].0 - lowCurve[k].0) / 2).rounded(.up)))
                        for j in 0...n {
                            let t = Double(j) / Double(n)
                            func mix(_ p: (Double, Double), _ q: (Double, Double)) -> (Double, Double) { (p.0 + (q.0 - p.0) * t, p.1 + (q.1 - p.1) * t) }
                            along([mix(lowCurve[k], lowCurve[k + 1]), mix(highCurve[k], highCurve[k + 1])])
                        }
                    }
                } else {
                    for (a, b) in zip(lowCurve, highCurve) { along([a, b]) }  // error bars
                }
            }
            if let fx = s.fitXs, let fy = s.fitYs { along(curve(fx, fy)) }
        }
        return out
    }
}

import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Plot
import TestSupport
import XCTest

/// Charts used by several tests.
enum Charts {
    static func curves(width: Double = 360, height: Double = 240, title: String = "CIFAR-10 ResNet18") -> LineChart {
        let epochs = (1...20).map(Double.init)
        func curve(_ start: Double, _ end: Double) -> [Double] { epochs.map { end + (start - end) * exp(-$0 / 5) } }
        let series = [("Adai", curve(60, 6)), ("SGD-M", curve(65, 7)), ("Adam", curve(55, 9))].map { name, ys in
            Series(name: name, xs: epochs, ys: ys, lower: ys.map { $0 - 1 }, upper: ys.map { $0 + 1 })
        }
        var chart = LineChart(title: title, xLabel: "epoch", yLabel: "test error (%)", series: series)
        chart.width = width; chart.height = height
        return chart
    }

    static func loss() -> LineChart {
        let xs = (1...30).map(Double.init)
        return LineChart(title: "training loss", xLabel: "epoch", yLabel: "loss (log scale)",
                         series: [Series(name: "Adai", xs: xs, ys: xs.map { 2 * exp(-$0 / 3) })], logY: true)
    }

    static func escape() -> LineChart {
        let xs = [0.125, 0.25, 0.5, 1]
        let ys = xs.map { pow(10, -1 - 2 * $0) }
        let series = Series.points(name: "adai (slope -2)", xs: xs, ys: ys, errorLow: ys.map { $0 * 0.7 }, errorHigh: ys.map { $0 * 1.4 },
                                   fitXs: [0.125, 1], fitYs: [0.125, 1].map { pow(10, -1 - 2 * $0) })
        return LineChart(title: "escape rate", xLabel: "1/k", yLabel: "escape rate (log scale)", series: [series], logY: true)
    }

    /// A rows × columns grid of test errors with labels like a sweep's, one cell missing when the grid has more than one.
    static func heatmap(rows: Int, columns: Int, title: String = "adam: final test error (%)") -> Heatmap {
        let lrs = (0..<columns).map { 1e-4 * pow(10, Double($0) / 2) }, wds = (0..<rows).map { 1e-5 * pow(10, Double($0) / 2) }
        var values = wds.indices.map { r in lrs.indices.map { c in 5 + 40 * abs(sin(Double(r * 7 + c * 3))) } }
        if rows * columns > 1 { values[rows - 1][columns - 1] = .nan }
        var map = Heatmap(title: title, xLabel: "learning rate", yLabel: "weight decay", columnLabels: lrs.map { Ticks.label($0) },
                          rowLabels: wds.map { Ticks.label($0) }, values: values)
        map.valueLabel = "test error (%)"
        return map
    }
}

final class PlotTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = URL(fileURLWithPath: try makeTemporaryDirectory("plot-tests"))
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    private func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// With $PLOT_TESTS_KEEP naming a directory, writes the figure there as PNG to look at.
    private func keep(_ figure: Figure, _ name: String) {
        guard let keep = ProcessInfo.processInfo.environment["PLOT_TESTS_KEEP"] else { return }
        try? figure.write(to: keep + "/" + name.replacingOccurrences(of: " ", with: "_") + ".png", dpi: 150)
    }

    /// Runs a program and returns its exit status and standard error; fails the test when it cannot be found.
    private func run(_ program: String, _ arguments: [String]) throws -> (Int32, String) {
        guard let executable = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":")
            .map({ "\($0)/\(program)" }).first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw PlotError("\(program) not found on PATH: install poppler-utils (scripts/install-deps.sh does) to check PDF files")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
    }

    /// The width and height in a PNG's IHDR chunk, after checking its signature.
    private func pngSize(_ path: String) throws -> (Int, Int) {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        XCTAssertEqual(Array(data.prefix(8)), [137, 80, 78, 71, 13, 10, 26, 10], "PNG signature of \(path)")
        XCTAssertEqual(String(decoding: data[12..<16], as: UTF8.self), "IHDR")
        func be32(_ at: Int) -> Int { data[at..<(at + 4)].reduce(0) { $0 << 8 | Int($1) } }
        return (be32(16), be32(20))
    }

    /// Every plot kind in every format is a valid file: PNG (signature, size = points × dpi / 72), PDF (rendered by
    /// pdftoppm at the figure's size), SVG (parses as XML with an <svg> root of the figure's size in points).
    func testEveryKindInEveryFormatIsAValidFile() throws {
        let figures: [(String, Figure)] = [("curves", Charts.curves().figure()), ("loss", Charts.loss().figure()),
                                           ("escape", Charts.escape().figure()), ("heatmap", Charts.heatmap(rows: 3, columns: 4).figure())]
        for (name, figure) in figures {
            let png = path("\(name).png")
            let written = try figure.write(to: png, dpi: 144)
            let expected = (Int((figure.width * 2).rounded(.up)), Int((figure.height * 2).rounded(.up)))
            let size = try pngSize(png)
            XCTAssertEqual([size.0, size.1], [expected.0, expected.1], name)
            XCTAssertEqual([written.width, written.height], [expected.0, expected.1], name)
            let decoded = try Raster.readPNG(from: png)
            XCTAssertEqual(decoded.pixel(0, 0), .white, "\(name): white background")

            let pdf = path("\(name).pdf")
            try figure.write(to: pdf)
            XCTAssertEqual(String(decoding: try Data(contentsOf: URL(fileURLWithPath: pdf)).prefix(5), as: UTF8.self), "%PDF-")
            let (status, errors) = try run("pdftoppm", ["-r", "72", "-png", "-singlefile", pdf, path("\(name)-pdf")])
            XCTAssertEqual(status, 0, "pdftoppm on \(name).pdf: \(errors)")
            let rendered = try pngSize(path("\(name)-pdf.png"))
            XCTAssertEqual(Double(rendered.0), figure.width, accuracy: 1, "\(name).pdf page width in points")
            XCTAssertEqual(Double(rendered.1), figure.height, accuracy: 1, "\(name).pdf page height in points")

            let svg = path("\(name).svg")
            try figure.write(to: svg, format: .svg)
            let parser = XMLParser(contentsOf: URL(fileURLWithPath: svg))!
            final class Root: NSObject, XMLParserDelegate {
                var name: String?, attributes: [String: String] = [:], texts = 0
                func parser(_ parser: XMLParser, didStartElement element: String, namespaceURI: String?, qualifiedName: String?,
                            attributes: [String: String] = [:]) {
                    if name == nil { name = element; self.attributes = attributes }
                }
            }
            let root = Root()
            parser.delegate = root
            XCTAssertTrue(parser.parse(), "\(name).svg parses as XML: \(String(describing: parser.parserError))")
            XCTAssertEqual(root.name, "svg")
            XCTAssertEqual(root.attributes["width"], "\(formatted(figure.width))pt", "\(name).svg width")
            XCTAssertEqual(root.attributes["height"], "\(formatted(figure.height))pt", "\(name).svg height")
        }
        // The format follows the extension unless given.
        XCTAssertEqual(ImageFormat(path: "a/b.PDF"), .pdf)
        XCTAssertEqual(ImageFormat(path: "a/b.svg"), .svg)
        XCTAssertNil(ImageFormat(path: "a/b.jpg"))
    }

    private func formatted(_ x: Double) -> String { x == x.rounded() ? String(Int(x)) : String(x) }

    /// The layout test: heatmaps from 1×1 to 10×10 put no text outside the figure, no two texts over each other, and
    /// every cell's value inside its cell (all from the layout's own boxes).
    func testHeatmapLayoutsHoldFrom1x1To10x10() {
        for rows in 1...10 {
            for columns in 1...10 {
                let layout = Charts.heatmap(rows: rows, columns: columns).layout()
                keep(layout.figure, "heatmap-\(rows)x\(columns)")
                let problems = layout.figure.layoutProblems()
                XCTAssert(problems.isEmpty, "\(rows)×\(columns): " + problems.prefix(3).joined(separator: "; "))
                let values = layout.figure.texts.filter { $0.role == "cell value" }
                XCTAssertEqual(values.count, rows * columns)
                for (i, text) in values.enumerated() {
                    let cell = layout.cells[i / columns][i % columns]
                    XCTAssert(cell.contains(text.box), "\(rows)×\(columns): value '\(text.text)' \(text.box) outside its cell \(cell)")
                }
                XCTAssert(layout.figure.bounds.contains(layout.colorBar), "\(rows)×\(columns): colour bar inside")
                // No text over the colour bar, and none but the values over the cells.
                for text in layout.figure.texts {
                    XCTAssertFalse(text.box.intersects(layout.colorBar), "\(rows)×\(columns): \(text.role) '\(text.text)' over the colour bar")
                    if text.role != "cell value" {
                        for cell in layout.cells.joined() { XCTAssertFalse(text.box.intersects(cell), "\(rows)×\(columns): \(text.role) over a cell") }
                    }
                }
                for row in layout.cells { for cell in row { XCTAssertFalse(cell.intersects(layout.colorBar)) } }
                // Cells are sized to their text, not the text to the cells: the same at every grid size.
                XCTAssertLessThan(layout.cells[0][0].width, 60, "\(rows)×\(columns): cell width")
            }
        }
        // The case of the issue: 2 learning rates × 1 weight decay, a long title.
        let small = Charts.heatmap(rows: 1, columns: 2, title: "adam: final test error (%), mean over 3 seeds").layout()
        XCTAssertEqual(small.figure.layoutProblems(), [])
        let yTitle = small.figure.texts.first { $0.role == "y axis title" }!
        for label in small.figure.texts where label.role == "row label" { XCTAssertFalse(yTitle.box.intersects(label.box)) }
    }

    /// Values in cells contrast with their fill: white on the dark end of the ramp, black on the light end.
    func testHeatmapCellTextContrasts() {
        XCTAssertEqual(Heatmap.textColor(on: Heatmap.color(0)), .white)
        XCTAssertEqual(Heatmap.textColor(on: Heatmap.color(1)), .black)
        XCTAssertEqual(Heatmap.textColor(on: .missing), .black)
        let layout = Charts.heatmap(rows: 2, columns: 3).layout()
        for text in layout.figure.texts where text.role == "cell value" {
            let fill = layout.figure.operations.compactMap { op -> RGB? in
                if case .fillRect(let b, let c) = op, b.contains(text.box) { return c } else { return nil }
            }.first!
            XCTAssertGreaterThan(abs(fill.luminance - text.color.luminance), 0.4, "'\(text.text)' on \(fill)")
        }
    }

    func testLineChartLayoutsHoldAtPaperSizes() {
        let long = "CIFAR-100 DenseNet121: test error against epoch, mean ± std over five seeds"
        for (width, height) in [(234.0, 160.0), (360, 240), (486, 300), (150, 100)] {
            for chart in [Charts.curves(width: width, height: height, title: long), Charts.loss(), Charts.escape()] {
                var chart = chart
                chart.width = width; chart.height = height
                let layout = chart.layout()
                keep(layout.figure, "\(chart.title.prefix(8))-\(Int(width))x\(Int(height))")
                XCTAssertEqual(layout.figure.layoutProblems(), [], "\(chart.title) at \(width)×\(height)")
                XCTAssert(layout.figure.bounds.contains(layout.plotArea))
                if let legend = layout.legend { XCTAssert(layout.figure.bounds.contains(legend), "legend inside the figure") }
                // Only the legend's entries may lie over the axes; the legend itself never over a tick label or title.
                for text in layout.figure.texts where text.role != "legend entry" {
                    XCTAssertFalse(text.box.intersects(layout.plotArea), "\(text.role) '\(text.text)' over the axes at \(width)×\(height)")
                    if let legend = layout.legend { XCTAssertFalse(text.box.intersects(legend), "\(text.role) '\(text.text)' under the legend") }
                }
            }
        }
    }

    func testLegendAvoidsTheData() {
        // Data in the top-right corner only: the legend goes to another corner.
        let xs = (0...20).map { Double($0) }
        let corner = LineChart(title: "t", xLabel: "x", yLabel: "y", series: [Series(name: "a long series name", xs: xs, ys: xs.map { $0 < 15 ? 0.0 : 10.0 })]).layout()
        XCTAssertEqual(corner.legendPlacement, .topLeft)
        // Data through every corner: the legend goes outside the axes.
        let zigzag = LineChart(title: "t", xLabel: "x", yLabel: "y",
                               series: [Series(name: "zigzag", xs: xs, ys: xs.map { Double(Int($0) % 2) * 10 })]).layout()
        XCTAssertEqual(zigzag.legendPlacement, .outside)
        XCTAssertFalse(zigzag.legend!.intersects(zigzag.plotArea))
        XCTAssertEqual(zigzag.figure.layoutProblems(), [])
    }

    func testRasterHasThePaletteAndBands() throws {
        let image = Charts.curves().figure().raster(dpi: 150)
        XCTAssertEqual([image.width, image.height], [750, 500])
        let seen = image.colors
        XCTAssert(seen.contains(.white) && seen.contains(.black))
        for color in colorBlindSafePalette.prefix(3) { XCTAssert(seen.contains(color), "series colour \(color)") }
        XCTAssertFalse(seen.contains(colorBlindSafePalette[3]), "only three series were drawn")
        // The ± std band: the series colour at 25 % over white (within cairo's 8-bit alpha rounding).
        let band = colorBlindSafePalette[0].blended(over: .white, alpha: 0.25)
        XCTAssert(seen.contains { abs(Int($0.r) - Int(band.r)) <= 1 && abs(Int($0.g) - Int(band.g)) <= 1 && abs(Int($0.b) - Int(band.b)) <= 1 },
                  "adai's band \(band)")
    }

    /// PNG, PDF and SVG bytes depend only on the figure (no time stamps, no process-wide counters).
    func testWritesAreByteIdentical() throws {
        for format in [ImageFormat.png, .pdf, .svg] {
            let a = path("a.\(format.rawValue)"), b = path("b.\(format.rawValue)")
            try Charts.curves().figure().write(to: a)
            try Charts.curves().figure().write(to: b)
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: a)), try Data(contentsOf: URL(fileURLWithPath: b)), format.rawValue)

        }
    }

    func testTicksAreNiceAndLabelsShort() {
        XCTAssertEqual(Ticks.linear(0, 10, target: 6), [0, 2, 4, 6, 8, 10])
        XCTAssertEqual(Ticks.linear(0.3, 0.71, target: 5), [0.3, 0.4, 0.5, 0.6, 0.7])
        XCTAssertEqual(Ticks.label(0.0005), "5e-4")
        XCTAssertEqual(Ticks.label(12.5), "12.5")
        XCTAssertEqual(Ticks.logarithmic(0.01, 2), [0.01, 0.03, 0.1, 0.3, 1])
        XCTAssertEqual(Ticks.logarithmic(1e-6, 1), [1e-6, 1e-5, 1e-4, 1e-3, 0.01, 0.1, 1])
        XCTAssertEqual(Ticks.logarithmic(0.5, 2.2), [0.5, 1, 2])
        XCTAssertEqual(Ticks.logarithmic(0.55, 2.2), [0.6, 0.7, 0.8, 0.9, 1, 2], "fewer than three of 1, 2, 5: every digit")
        XCTAssertEqual(Ticks.powerOfTenLabel(0.001), "10⁻³")
        XCTAssertEqual(Ticks.powerOfTenLabel(1), "10⁰")
        XCTAssertEqual(Ticks.powerOfTenLabel(20), "2×10¹")
        XCTAssertEqual(Ticks.powerOfTenLabel(3e-5), "3×10⁻⁵")
    }

    func testLogAxesAreLabelledInPowersOfTen() {
        let labels = Charts.loss().layout().figure.texts.filter { $0.role == "y tick label" }.map(\.text)
        XCTAssertFalse(labels.isEmpty)
        XCTAssert(labels.allSatisfy { $0.contains("10") }, "\(labels)")
    }

    func testLogAxesOverOrdinaryNumbersAreLabelledPlainly() {
        let ks: [Double] = [8, 10, 13, 16, 20, 25, 32, 40, 50, 64]
        let chart = LineChart(title: "escape", xLabel: "k", yLabel: "−log Γ", series: [Series(name: "sgd", xs: ks, ys: ks.map { 80 / $0 })], logX: true)
        let labels = chart.layout().figure.texts.filter { $0.role == "x tick label" }.map(\.text)
        XCTAssert(labels.contains("10") && labels.contains("20"), "\(labels)")
        XCTAssertFalse(labels.contains { $0.contains("×") || $0.contains("¹") }, "\(labels)")
        XCTAssertTrue(Ticks.plainLogLabels([10, 20, 50]))
        XCTAssertFalse(Ticks.plainLogLabels([1e-4, 1e-3, 0.01]), "below 0.01 the powers of ten read better")
    }

    func testUnwritablePathGivesAnActionableError() {
        for format in ImageFormat.allCases {
            XCTAssertThrowsError(try Charts.loss().figure().write(to: "/nonexistent-dir/x.\(format.rawValue)")) { error in
                XCTAssert("\(error)".hasPrefix("cannot write /nonexistent-dir/x.\(format.rawValue): No such file or directory; check that its directory exists"),
                          "\(error)")
            }
        }
    }
}

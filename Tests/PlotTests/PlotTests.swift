import Foundation
import Plot
import XCTest

final class PlotTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("plot-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    private func curves() -> LineChart {
        let epochs = (1...20).map(Double.init)
        func curve(_ start: Double, _ end: Double) -> [Double] { epochs.map { end + (start - end) * exp(-$0 / 5) } }
        let series = [("Adai", curve(60, 6)), ("SGD-M", curve(65, 7)), ("Adam", curve(55, 9))].map { name, ys in
            Series(name: name, xs: epochs, ys: ys, lower: ys.map { $0 - 1 }, upper: ys.map { $0 + 1 })
        }
        return LineChart(title: "CIFAR-10 ResNet18", xLabel: "epoch", yLabel: "test error (%)", series: series)
    }

    func testLineChartPNGDecodesWithItsSizeAndColours() throws {
        let path = directory.appendingPathComponent("curves.png").path
        try curves().render().writePNG(to: path)
        if let keep = ProcessInfo.processInfo.environment["PLOT_TESTS_KEEP"] {  // to look at the picture
            try curves().render().writePNG(to: keep + "/curves.png")
        }
        let image = try Canvas.readPNG(from: path)
        XCTAssertEqual(image.width, 820)
        XCTAssertEqual(image.height, 520)
        var seen = Set<RGB>()
        for y in 0..<image.height { for x in 0..<image.width { seen.insert(image.pixel(x, y)) } }
        XCTAssert(seen.contains(.white), "background")
        XCTAssert(seen.contains(.black), "axes and text")
        for color in colorBlindSafePalette.prefix(3) { XCTAssert(seen.contains(color), "series colour \(color)") }
        XCTAssertFalse(seen.contains(colorBlindSafePalette[3]), "only three series were drawn")
    }

    func testRendersAreByteIdentical() throws {
        let a = directory.appendingPathComponent("a.png").path, b = directory.appendingPathComponent("b.png").path
        try curves().render().writePNG(to: a)
        try curves().render().writePNG(to: b)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: a)), try Data(contentsOf: URL(fileURLWithPath: b)))
    }

    func testLogScaleLossChart() throws {
        let xs = (1...30).map(Double.init)
        var chart = LineChart(title: "training loss", xLabel: "epoch", yLabel: "loss",
                              series: [Series(name: "Adai", xs: xs, ys: xs.map { 2 * exp(-$0 / 6) })], logY: true)
        chart.width = 600; chart.height = 400
        let path = directory.appendingPathComponent("loss.png").path
        try chart.render().writePNG(to: path)
        let image = try Canvas.readPNG(from: path)
        XCTAssertEqual([image.width, image.height], [600, 400])
        XCTAssertEqual(Ticks.logarithmic(0.01, 2), [0.01, 0.03, 0.1, 0.3, 1])
        XCTAssertEqual(Ticks.logarithmic(0.5, 2.2), [0.5, 1, 2])
        XCTAssertEqual(Ticks.logarithmic(0.55, 2.2), [0.6, 0.7, 0.8, 0.9, 1, 2], "fewer than three of 1, 2, 5: every digit")
    }

    func testHeatmapHasCellsAndColourBar() throws {
        let values: [[Double]] = [[6.1, 5.2, 7.9], [5.8, 4.9, .nan]]
        let map = Heatmap(title: "Adai test error", xLabel: "learning rate", yLabel: "weight decay",
                          columnLabels: ["0.1", "1", "10"], rowLabels: ["1e-4", "5e-4"], values: values)
        let path = directory.appendingPathComponent("heatmap.png").path
        try map.render().writePNG(to: path)
        if let keep = ProcessInfo.processInfo.environment["PLOT_TESTS_KEEP"] { try map.render().writePNG(to: keep + "/heatmap.png") }
        let image = try Canvas.readPNG(from: path)
        var seen = Set<RGB>()
        for y in 0..<image.height { for x in 0..<image.width { seen.insert(image.pixel(x, y)) } }
        XCTAssert(seen.contains(Heatmap.colorForTesting(0)), "lowest value's colour")
        XCTAssert(seen.contains(Heatmap.colorForTesting(1)), "highest value's colour")
        XCTAssert(seen.contains(RGB(200, 200, 200)), "missing cell")
    }

    func testTicksAreNiceAndLabelsShort() {
        XCTAssertEqual(Ticks.linear(0, 10, target: 6), [0, 2, 4, 6, 8, 10])
        XCTAssertEqual(Ticks.linear(0.3, 0.71, target: 5), [0.3, 0.4, 0.5, 0.6, 0.7].map { $0 })
        XCTAssertEqual(Ticks.label(0.0005), "5e-4")
        XCTAssertEqual(Ticks.label(12.5), "12.5")
    }

    func testUnwritablePathGivesAnActionableError() {
        XCTAssertThrowsError(try Canvas(width: 2, height: 2).writePNG(to: "/nonexistent-dir/x.png")) { error in
            XCTAssert("\(error)".contains("cannot write /nonexistent-dir/x.png"), "\(error)")
        }
    }
}

final class PlotMarkerTests: XCTestCase {
    func testMarkersErrorBarsAndFittedLines() throws {
        let xs = [0.125, 0.25, 0.5, 1]
        let ys = xs.map { pow(10, -1 - 2 * $0) }
        let series = Series.points(name: "adai", xs: xs, ys: ys, errorLow: ys.map { $0 * 0.7 }, errorHigh: ys.map { $0 * 1.4 },
                                   fitXs: [0.125, 1], fitYs: [0.125, 1].map { pow(10, -1 - 2 * $0) })
        XCTAssertFalse(series.connected)
        let chart = LineChart(title: "escape", xLabel: "1/k", yLabel: "rate", series: [series], logY: true)
        let image = chart.render()
        let color = colorBlindSafePalette[0]
        // A 7×7 marker square centred on each point.
        var squares = 0
        for y in 3..<(image.height - 3) {
            for x in 3..<(image.width - 3) where (-3...3).allSatisfy({ dy in (-3...3).allSatisfy { dx in image.pixel(x + dx, y + dy) == color } }) {
                squares += 1
            }
        }
        XCTAssertGreaterThanOrEqual(squares, 4, "one marker per point")
        // The fitted line is dashed: along its path some pixels are background.
        var inColour = 0
        for y in 0..<image.height { for x in 0..<image.width where image.pixel(x, y) == color { inColour += 1 } }
        XCTAssertGreaterThan(inColour, 4 * 49)
    }

    func testLegendMovesAwayFromTheData() {
        // Data in the top-right corner only: the legend must go elsewhere (its frame is the only grey).
        let xs = (0...20).map { Double($0) }
        let ys: [Double] = xs.map { $0 < 15 ? 0.0 : 10.0 }
        let image = LineChart(title: "t", xLabel: "x", yLabel: "y", series: [Series(name: "a long series name", xs: xs, ys: ys)]).render()
        var greyXs: [Int] = []
        for y in 0..<image.height { for x in 0..<image.width where image.pixel(x, y) == .gray { greyXs.append(x) } }
        XCTAssertFalse(greyXs.isEmpty)
        XCTAssertLessThan(greyXs.max()!, image.width / 2, "legend on the left")
    }
}

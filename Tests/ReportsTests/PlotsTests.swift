import Foundation
import Plot
@testable import Reports
import XCTest

final class PlotsTests: XCTestCase {
    private var results: FabricatedResults!

    override func setUpWithError() throws { results = try FabricatedResults() }
    override func tearDownWithError() throws { results.remove() }

    /// Writes as PNG (150 dpi), decodes with libpng and returns the image and the set of its colours; keeps a copy in
    /// $REPORTS_TESTS_KEEP (a directory) to look at.
    private func roundTrip(_ figure: Figure, _ name: String) throws -> (Raster, Set<RGB>) {
        let path = results.root.appendingPathComponent(name).path
        try figure.write(to: path)
        if let keep = ProcessInfo.processInfo.environment["REPORTS_TESTS_KEEP"] { try figure.write(to: keep + "/" + name) }
        let image = try Raster.readPNG(from: path)
        XCTAssertEqual(figure.layoutProblems(), [], name)
        return (image, image.colors)
    }

    private func assertByteIdentical(_ render: () throws -> Figure, file: StaticString = #filePath, line: UInt = #line) throws {
        let a = results.root.appendingPathComponent("first.png").path, b = results.root.appendingPathComponent("second.png").path
        try render().write(to: a)
        try render().write(to: b)
        XCTAssertEqual(FileManager.default.contents(atPath: a), FileManager.default.contents(atPath: b), file: file, line: line)
    }

    func testCurvesHaveOneBandedLinePerSetting() throws {
        let experiment = try results.comparisonExperiment()
        let chart = try Plots.curves(experiment: experiment)
        XCTAssertEqual(chart.series.map(\.name),
                       ["adabelief", "adai lr=0.1 wd=0.0005", "adai lr=1 wd=0.0005 (n=2)", "adam (n=2)", "sgdm (n=2)"])
        XCTAssertEqual(chart.title, "cifar10 resnet18")
        XCTAssertEqual(chart.yLabel, "test error (%), mean ± std")
        let adai = chart.series[2]
        XCTAssertEqual(adai.xs, [1, 2, 3])
        XCTAssertEqual(adai.ys[1], 4.7, accuracy: 1e-12)                      // mean of 4.6 and 4.8
        XCTAssertEqual(adai.upper![1] - adai.ys[1], 0.02.squareRoot(), accuracy: 1e-12)  // + one sample std
        XCTAssertNil(chart.series[0].lower, "one seed: no band")

        let (image, seen) = try roundTrip(chart.figure(), "curves.png")
        XCTAssertEqual([image.width, image.height], [750, 500], "360×240 pt at 150 dpi")
        XCTAssertEqual(image.pixel(0, 0), .white, "background")
        XCTAssert(seen.contains(.black), "axes and text")
        for color in colorBlindSafePalette.prefix(5) { XCTAssert(seen.contains(color), "series colour \(color)") }
        let band = colorBlindSafePalette[2].blended(over: .white, alpha: 0.25)
        XCTAssert(seen.contains { abs(Int($0.r) - Int(band.r)) <= 1 && abs(Int($0.g) - Int(band.g)) <= 1 && abs(Int($0.b) - Int(band.b)) <= 1 },
                  "adai's band")
        try assertByteIdentical { try Plots.curves(experiment: experiment).figure() }

        let only = try Plots.curves(experiment: experiment, optimizers: ["adam", "sgdm"])
        XCTAssertEqual(only.series.map(\.name), ["adam (n=2)", "sgdm (n=2)"])
        XCTAssertThrowsError(try Plots.curves(experiment: experiment, optimizers: ["lion"])) { error in
            XCTAssertEqual("\(error)", "no runs of lion in this experiment (it has adabelief, adai, adam, sgdm); pass optimizers from that list")
        }
        XCTAssertThrowsError(try Plots.curves(experiment: experiment, column: "top5")) { error in
            XCTAssert("\(error)".contains("metrics.csv: no column 'top5' (the metric asked for)"), "\(error)")
        }
    }

    func testLossIsOnALogScale() throws {
        let experiment = try results.comparisonExperiment()
        let chart = try Plots.loss(experiment: experiment)
        XCTAssertTrue(chart.logY)
        XCTAssertEqual(chart.yLabel, "training loss (log scale)")
        XCTAssertEqual(chart.series[0].ys, [2.1, 1.05, 0.525].map { $0 }, "adabelief seed 1: 2 × 0.5^i × 1.05")
        let (image, seen) = try roundTrip(chart.figure(), "loss.png")
        XCTAssertEqual([image.width, image.height], [750, 500], "360×240 pt at 150 dpi")
        XCTAssertEqual(image.pixel(0, 0), .white)
        XCTAssert(seen.contains(.black))
        for color in colorBlindSafePalette.prefix(5) { XCTAssert(seen.contains(color), "series colour \(color)") }
        try assertByteIdentical { try Plots.loss(experiment: experiment).figure() }
    }

    func testHeatmapOverTheSweepGrid() throws {
        // adai over lr {0.1, 1, 10} × wd {1e-4, 5e-4}; (lr 10, wd 1e-4) not run; two seeds at (1, 5e-4).
        let finals: [(Double, Double, Int, Double)] = [(0.1, 0.0001, 1, 7), (1, 0.0001, 1, 6), (0.1, 0.0005, 1, 6.5),
                                                       (1, 0.0005, 1, 4.6), (1, 0.0005, 2, 4.8), (10, 0.0005, 1, 9)]
        for (lr, wd, seed, final) in finals {
            try results.run(experiment: "sweep", optimizer: "adai", lr: lr, wd: wd, seed: seed, testErrors: [20, final - 1, final])
        }
        try results.run(experiment: "sweep", optimizer: "sgdm", lr: 0.1, seed: 1, testErrors: [20, 5])
        let experiment = results.root.appendingPathComponent("sweep").path
        let map = try Plots.heatmap(experiment: experiment, optimizer: "adai")
        XCTAssertEqual(map.columnLabels, ["0.1", "1", "10"])
        XCTAssertEqual(map.rowLabels, ["1e-4", "5e-4"])
        XCTAssertEqual(map.values[0][0], 7); XCTAssertEqual(map.values[0][1], 6); XCTAssert(map.values[0][2].isNaN)
        XCTAssertEqual(map.values[1][0], 6.5); XCTAssertEqual(map.values[1][1], 4.7, accuracy: 1e-12); XCTAssertEqual(map.values[1][2], 9)
        XCTAssertEqual(map.title, "adai: final test error (%)")
        let best = try Plots.heatmap(experiment: experiment, optimizer: "adai", value: .best)
        XCTAssertEqual(best.values[1][1], 3.7, accuracy: 1e-12)

        let (_, seen) = try roundTrip(map.figure(), "heatmap.png")
        XCTAssert(seen.contains(.white) && seen.contains(.black))
        XCTAssert(seen.contains(Heatmap.color(0)), "lowest cell")
        XCTAssert(seen.contains(Heatmap.color(1)), "highest cell")
        XCTAssert(seen.contains(RGB.missing), "the cell not run")
        try assertByteIdentical { try Plots.heatmap(experiment: experiment, optimizer: "adai").figure() }

        XCTAssertThrowsError(try Plots.heatmap(experiment: experiment, optimizer: "adam")) { error in
            XCTAssertEqual("\(error)", "\(experiment): no finished runs of optimizer 'adam' (it has adai, sgdm); pass --optimizer with one of those")
        }
    }

    private func escapeCSV() throws -> String {
        // log10(rate) = −1 − 2/k for adai and −1.5 − 1/k for adam: the fits must recover the slopes −2 and −1.
        var lines = ["# source: fabricated for the tests", "optimizer,k,escape_rate,ci_low,ci_high"]
        for (name, a, b) in [("adai", -1.0, -2.0), ("adam", -1.5, -1.0)] {
            for k in [1.0, 2, 4, 8] {
                let rate = pow(10, a + b / k)
                lines.append("\(name),\(k),\(rate),\(rate * 0.7),\(rate * 1.4)")
            }
        }
        return try results.write(lines.joined(separator: "\n") + "\n", to: "escape.csv")
    }

    func testEscapeFitsAndDraws() throws {
        let path = try escapeCSV()
        let data = try Plots.readEscape(path)
        XCTAssertEqual(data.map(\.optimizer), ["adai", "adam"])
        XCTAssertEqual(data[0].slope!, -2, accuracy: 1e-9); XCTAssertEqual(data[0].intercept!, -1, accuracy: 1e-9)
        XCTAssertEqual(data[1].slope!, -1, accuracy: 1e-9); XCTAssertEqual(data[1].intercept!, -1.5, accuracy: 1e-9)
        let chart = try Plots.escape(csv: path)
        XCTAssertEqual(chart.series.map(\.name), ["adai (slope -2)", "adam (slope -1)"])
        XCTAssertTrue(chart.logY)
        let (image, seen) = try roundTrip(chart.figure(), "escape.png")
        XCTAssertEqual([image.width, image.height], [750, 500], "360×240 pt at 150 dpi")
        XCTAssertEqual(image.pixel(0, 0), .white)
        XCTAssert(seen.contains(.black))
        for color in colorBlindSafePalette.prefix(2) { XCTAssert(seen.contains(color), "series colour \(color)") }
        XCTAssertFalse(seen.contains(colorBlindSafePalette[2]))
        try assertByteIdentical { try Plots.escape(csv: path).figure() }
    }

    func testBadEscapeInputs() throws {
        let header = "optimizer,k,escape_rate,ci_low,ci_high\n"
        let notBracketed = try results.write(header + "adai,1,0.01,0.02,0.03\n", to: "e1.csv")
        XCTAssertThrowsError(try Plots.readEscape(notBracketed)) { error in
            XCTAssertEqual("\(error)", "\(notBracketed):2: the interval [0.02, 0.03] does not bracket the rate 0.01; fix ci_low/ci_high")
        }
        let zero = try results.write(header + "adai,1,0,0,0\n", to: "e2.csv")
        XCTAssertThrowsError(try Plots.readEscape(zero)) { error in
            XCTAssert("\(error)".hasPrefix("\(zero):2: escape_rate must be > 0 for a log scale"), "\(error)")
        }
        let wrongColumns = try results.write("optimizer,k,rate\nadai,1,0.1\n", to: "e3.csv")
        XCTAssertThrowsError(try Plots.readEscape(wrongColumns)) { error in
            XCTAssert("\(error)".hasPrefix("\(wrongColumns): no column 'escape_rate' (an escape file has optimizer,k,escape_rate,ci_low,ci_high)"), "\(error)")
        }
        let headerOnly = try results.write(header, to: "e4.csv")
        XCTAssertThrowsError(try Plots.readEscape(headerOnly)) { error in
            XCTAssertEqual("\(error)", "\(headerOnly): no data rows below the header; run the escape experiment first")
        }
    }

    // MARK: Figures of the analyses

    func testHessianFigure() throws {
        let header = "# hessian: test\nquantity,index,value,uncertainty\n"
        let a = try results.write(header + "eigenvalue,1,40,0.5\neigenvalue,2,12,0.2\neigenvalue,3,3,0.1\ntrace,,120,8.4\n", to: "adai.csv")
        let b = try results.write(header + "eigenvalue,1,90,1\neigenvalue,2,30,1\n", to: "sgdm.csv")
        let chart = try Plots.hessian(csvs: [a, b])
        XCTAssertEqual(chart.series.map(\.name), ["adai (trace 120.0 ± 8.4)", "sgdm"])
        XCTAssertEqual(chart.series[0].xs, [1, 2, 3]); XCTAssertEqual(chart.series[0].ys, [40, 12, 3])
        for (k, (low, high)) in [(39.5, 40.5), (11.8, 12.2), (2.9, 3.1)].enumerated() {
            XCTAssertEqual(chart.series[0].errorLow![k], low, accuracy: 1e-12); XCTAssertEqual(chart.series[0].errorHigh![k], high, accuracy: 1e-12)
        }
        XCTAssertTrue(chart.logY, "all eigenvalues positive")
        XCTAssertEqual(try Plots.hessian(csvs: [a, b], labels: ["Adai", "SGDM"]).series.map(\.name), ["Adai (trace 120.0 ± 8.4)", "SGDM"])
        let negative = try results.write(header + "eigenvalue,1,4,0.1\neigenvalue,2,-1,0.1\n", to: "neg.csv")
        XCTAssertFalse(try Plots.hessian(csvs: [negative]).logY, "a negative eigenvalue: linear scale")
        let (image, seen) = try roundTrip(chart.figure(), "hessian.png")
        XCTAssertEqual([image.width, image.height], [750, 500])
        for color in colorBlindSafePalette.prefix(2) { XCTAssert(seen.contains(color), "series colour \(color)") }

        XCTAssertThrowsError(try Plots.hessian(csvs: [a, b], labels: ["one"])) { error in
            XCTAssertEqual("\(error)", "1 labels for 2 files; pass one --label per file, in the same order, or none")
        }
        let unknown = try results.write(header + "eigenvector,1,3,0\n", to: "bad.csv")
        XCTAssertThrowsError(try Plots.hessian(csvs: [unknown])) { error in
            XCTAssertEqual("\(error)", "\(unknown):3: unknown quantity 'eigenvector' (expected eigenvalue or trace); pass a file written by adai-bench hessian")
        }
        let traceOnly = try results.write(header + "trace,,3,1\n", to: "trace.csv")
        XCTAssertThrowsError(try Plots.hessian(csvs: [traceOnly])) { error in
            XCTAssertEqual("\(error)", "\(traceOnly): no eigenvalue rows; run adai-bench hessian --out \(traceOnly) first")
        }
    }

    func testSharpnessFigure() throws {
        let header = "sigma,samples,base_loss,expected_sharpness,std_error\n"
        let a = try results.write(header + "0.05,8,1.2,0.9,0.05\n0.01,8,1.2,0.02,0.01\n", to: "adai.csv")
        let chart = try Plots.sharpness(csvs: [a])
        XCTAssertEqual(chart.series[0].xs, [0.01, 0.05], "sorted by sigma")
        XCTAssertEqual(chart.series[0].ys, [0.02, 0.9])
        XCTAssertEqual(chart.series[0].errorHigh![0], 0.03, accuracy: 1e-15); XCTAssertEqual(chart.series[0].errorHigh![1], 0.95, accuracy: 1e-15)
        XCTAssertTrue(chart.logX)
        XCTAssertEqual(chart.figure().layoutProblems(), [])
        let zero = try results.write(header + "0,8,1.2,0.9,0.05\n", to: "zero.csv")
        XCTAssertThrowsError(try Plots.sharpness(csvs: [zero])) { error in
            XCTAssertEqual("\(error)", "\(zero):2: sigma must be a positive number, got 0")
        }
        let empty = try results.write(header, to: "empty.csv")
        XCTAssertThrowsError(try Plots.sharpness(csvs: [empty])) { error in
            XCTAssertEqual("\(error)", "\(empty): no data rows; run adai-bench sharpness --out \(empty) first")
        }
    }

    func testSaddleFigure() throws {
        let csv = try results.write("optimizer,step,msd_escape,msd_positive\nsgd,10,0.001,0.5\nadai,10,0.003,0.4\nsgd,20,0.004,0.5\nadai,20,0.01,0.4\n",
                                    to: "saddle.csv")
        let chart = try Plots.saddle(csv: csv)
        XCTAssertEqual(chart.series.map(\.name), ["sgd", "adai"])
        XCTAssertEqual(chart.series[1].ys, [0.003, 0.01])
        XCTAssertTrue(chart.logY)
        XCTAssertEqual(try Plots.saddle(csv: csv, column: "msd_positive").series[0].ys, [0.5, 0.5])
        XCTAssertThrowsError(try Plots.saddle(csv: csv, column: "msd")) { error in
            XCTAssert("\(error)".hasPrefix("\(csv): no column 'msd' (a saddle file from adai-bench saddle has optimizer,step,msd_escape,msd_positive)"), "\(error)")
        }
    }

    func testPlusMinusRoundsToTheError() {
        XCTAssertEqual(Plots.plusMinus(1001.3, 284), "1001 ± 284")
        XCTAssertEqual(Plots.plusMinus(12.04, 8.4), "12.0 ± 8.4")
        XCTAssertEqual(Plots.plusMinus(0.01234, 0.0021), "0.0123 ± 0.0021")
        XCTAssertEqual(Plots.plusMinus(5, nil), "5")
    }
}

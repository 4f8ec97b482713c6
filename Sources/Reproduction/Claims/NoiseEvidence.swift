import Analyses
import Datasets
import Engine
import Foundation
import Plot
import Reports
import RunFormat

/// Claims 9 and 10: `adai-bench noise` at the scale's plan, its files and figures.
extension ReproductionRunner {
    public var noisePath: String { "\(analysesDirectory)/noise.json" }

    /// The noise measurement of the scale (read back from `<out>/analyses/noise.json` when its settings match).
    public func runNoise() throws -> NoiseReport {
        let plan = scale.noise
        if let r = readJSON(NoiseReport.self, noisePath), r.settings == plan.settings, r.examples == (plan.synthetic ?? r.examples) {
            return r
        }
        let records: CIFARRecords
        let label: String
        if let n = plan.synthetic {
            let folder = "\(analysesDirectory)/noise-data"
            try SyntheticData.writeCIFAR(variant: .cifar10, train: n, test: 0, seed: 0, directory: folder)
            records = try CIFARDataset(variant: .cifar10, split: .train, directory: folder, limit: n).records
            label = "\(n) synthetic CIFAR-like images (seed 0)"
        } else {
            let data = try CIFARDataset(variant: .cifar10, split: .train, directory: dataDirectory(.cifar10), allowPartial: true,
                                        limit: plan.examples, warn: { _ in })
            records = data.records
            label = "the first \(data.count) CIFAR-10 training images"
        }
        let report = try measureNoise(data: try NoiseData.pooled(records, side: plan.settings.side), settings: plan.settings, dataLabel: label)
        try writeJSON(report, noisePath)
        try NoiseOutput.write(report, directory: analysesDirectory)
        return report
    }
}

/// The files of a noise measurement (`adai-bench noise --out`, and `reproduce`'s `analyses/`).
public enum NoiseOutput {
    /// noise-fits.csv, noise-eigenbasis.csv, noise-tail-index.csv, noise-summary.txt and per checkpoint
    /// noise-covariance-, noise-elements- and noise-qq-<checkpoint>.png. Returns the paths written.
    @discardableResult
    public static func write(_ report: NoiseReport, directory: String) throws -> [String] {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var written: [String] = []
        for (name, text) in [("noise-fits.csv", report.fitsCSV), ("noise-eigenbasis.csv", report.eigenbasisCSV),
                             ("noise-tail-index.csv", report.tailIndexCSV),
                             ("noise-summary.txt", "# \(report.data); \(report.dimension) parameters\n" + report.summaryLines.joined(separator: "\n") + "\n")] {
            try AtomicFile.write(text, to: "\(directory)/\(name)")
            written.append("\(directory)/\(name)")
        }
        for c in report.checkpoints {
            for (kind, chart) in [("covariance", NoiseFigures.covariance(c, report: report)), ("elements", NoiseFigures.elements(c, report: report)),
                                  ("qq", NoiseFigures.qq(c, report: report))] {
                let path = "\(directory)/noise-\(kind)-\(c.name).png"
                _ = try chart.figure().write(to: path)
                written.append(path)
            }
        }
        return written
    }
}

/// The figures of claims 9 and 10, drawn as the paper draws them.
public enum NoiseFigures {
    static func line(_ x0: Double, _ x1: Double, _ f: (Double) -> Double) -> (xs: [Double], ys: [Double]) {
        let xs = (0...20).map { x0 * pow(x1 / x0, Double($0) / 20) }
        return (xs, xs.map(f))
    }

    /// |C'ᵢᵢ| against |λᵢ|/B in H's eigenbasis, one series per batch size with its fitted log-log line, and C = H/B.
    public static func covariance(_ c: NoiseCheckpoint, report: NoiseReport) -> LineChart {
        var series: [Series] = []
        var lo = Double.infinity, hi = 0.0
        let top = c.eigenvalues.map(abs).max() ?? 0
        for (k, b) in report.settings.batchSizes.enumerated() where k < c.diagonalPoints.count {
            let pairs = zip(c.diagonalPoints[k], c.diagonalNoise[k]).enumerated()
                .filter { $0.element.0 > 1e-6 * top / Double(b) && $0.element.1 > 0 }.map(\.element)
            guard pairs.count >= 2 else { continue }
            let xs = pairs.map(\.0), ys = pairs.map(\.1)
            lo = min(lo, xs.min()!); hi = max(hi, xs.max()!)
            let fit = try? LinearFit(x: xs.map { log($0) }, y: ys.map { log($0) })
            let l = line(xs.min()!, xs.max()!) { x in fit.map { exp($0.intercept + $0.slope * log(x)) } ?? .nan }
            series.append(.points(name: "B=\(b), slope \(String(format: "%.2f", fit?.slope ?? .nan))", xs: xs, ys: ys, fitXs: l.xs, fitYs: l.ys))
        }
        if lo < hi {
            let l = line(lo, hi) { $0 }
            series.append(Series(name: "C = H/B", xs: l.xs, ys: l.ys))
        }
        return LineChart(title: "Noise covariance vs Hessian, eigenbasis (\(c.name))", xLabel: "|λᵢ| / B",
                         yLabel: "C'ᵢᵢ (minibatch noise variance)", series: series, logY: true, logX: true)
    }

    /// Every element i ≤ j (thinned) of C_B against H/B in the parameter basis at the smallest batch size, absolute values.
    public static func elements(_ c: NoiseCheckpoint, report: NoiseReport) -> LineChart {
        let b = report.settings.batchSizes.min() ?? 1
        let pairs = zip(c.elementH, c.elementC).map { (abs($0.0), abs($0.1)) }.filter { $0.0 > 0 && $0.1 > 0 }
        var series: [Series] = []
        if let lo = pairs.map(\.0).min(), let hi = pairs.map(\.0).max(), lo < hi {
            let fitted = line(lo, hi) { $0 * abs(c.parameterBasisSlope) }
            series.append(.points(name: String(format: "B=%d: slope %.2f, r %.2f", b, c.parameterBasisSlope, c.parameterBasisCorrelation),
                                  xs: pairs.map(\.0), ys: pairs.map(\.1), fitXs: fitted.xs, fitYs: fitted.ys))
            let l = line(lo, hi) { $0 }
            series.append(Series(name: "C = H/B", xs: l.xs, ys: l.ys))
        }
        return LineChart(title: "Every element, parameter basis (\(c.name))", xLabel: "|Hᵢⱼ| / B", yLabel: "|Cᵢⱼ|",
                         series: series, logY: true, logX: true)
    }

    /// Normal QQ plots: one parameter across minibatches, one minibatch across parameters, and y = x (Gaussian).
    public static func qq(_ c: NoiseCheckpoint, report: NoiseReport) -> LineChart {
        let a = normalQQ(c.acrossMinibatchSample), p = normalQQ(c.acrossParameterSample)
        let f = { (x: Double) in String(format: "%.2f", x) }
        var series: [Series] = [
            .points(name: "across minibatches (α̂ \(f(c.alphaAcrossMinibatches.first ?? .nan)))",
                    xs: a.theoretical, ys: a.sample),
            .points(name: "across parameters (α̂ \(f(c.alphaAcrossParameters.first ?? .nan)))",
                    xs: p.theoretical, ys: p.sample),
        ]
        let ends = (a.theoretical + p.theoretical)
        if let lo = ends.min(), let hi = ends.max() {
            let xs = (0...20).map { lo + (hi - lo) * Double($0) / 20 }
            series.append(Series(name: "Gaussian (y = x)", xs: xs, ys: xs))
        }
        // Parameter \(trackedIndices[0]) across the minibatches; minibatch 0 across all parameters.
        return LineChart(title: "Gradient noise against the Gaussian (\(c.name), B=\(report.settings.batchSizes.min() ?? 0))",
                         xLabel: "normal quantile", yLabel: "standardised noise quantile", series: series)
    }
}

/// The mean and 95% Student-t interval of `values`.
func tInterval(_ values: [Double]) -> (mean: Double, low: Double, high: Double) {
    let n = Double(values.count)
    let mean = values.reduce(0, +) / n
    guard values.count >= 2 else { return (mean, -.infinity, .infinity) }
    let sd = (values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (n - 1)).squareRoot()
    let half = studentTQuantile(0.5 + ClaimRules.confidence / 2, df: n - 1) * sd / n.squareRoot()
    return (mean, mean - half, mean + half)
}

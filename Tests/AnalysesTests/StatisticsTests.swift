import Engine
import XCTest

@testable import Analyses

final class StatisticsTests: XCTestCase {
    func testGammaQuantilesMatchChiSquareTables() {
        // χ²_{0.025}(200) = 162.728, χ²_{0.975}(200) = 241.058 (tables); Gamma(n, 1) quantile = χ²(2n)/2.
        XCTAssertEqual(gammaQuantile(shape: 100, p: 0.025), 162.728 / 2, accuracy: 0.01)
        XCTAssertEqual(gammaQuantile(shape: 100, p: 0.975), 241.058 / 2, accuracy: 0.01)
        // χ²_{0.975}(10) = 20.483; Gamma(1) is the unit exponential: quantile −ln(1 − p).
        XCTAssertEqual(gammaQuantile(shape: 5, p: 0.975), 20.483 / 2, accuracy: 0.001)
        XCTAssertEqual(gammaQuantile(shape: 1, p: 0.3), -log(0.7), accuracy: 1e-9)
        XCTAssertEqual(gammaCDF(shape: 3, x: 2), 1 - exp(-2) * (1 + 2 + 2), accuracy: 1e-12)
        XCTAssertEqual(gammaCDF(shape: 3, x: 7), 1 - exp(-7) * (1 + 7 + 24.5), accuracy: 1e-12)
    }

    /// Γ̂ = 1/mean and its interval on synthetic exponential samples: unbiased enough, and the 95%
    /// interval covers the true rate in about 95% of 1,000 data sets of 100 times.
    func testEscapeRateEstimatorOnExponentialSamples() throws {
        let rate = 0.02
        var rng = RandomGenerator(seed: 7)
        var covered = 0, rates: [Double] = []
        for _ in 0..<1000 {
            let times = (0..<100).map { _ in -log(1 - rng.nextDouble()) / rate }
            let e = try EscapeRateEstimate(times: times, escaped: [Bool](repeating: true, count: 100))
            XCTAssertEqual(e.rate, 100 / times.reduce(0, +), accuracy: 1e-15)
            XCTAssertEqual(e.meanTime, times.reduce(0, +) / 100, accuracy: 1e-9)
            XCTAssertLessThan(e.low, e.rate); XCTAssertGreaterThan(e.high, e.rate)
            if e.low <= rate && rate <= e.high { covered += 1 }
            rates.append(e.rate)
        }
        XCTAssertEqual(Double(covered) / 1000, 0.95, accuracy: 0.02)
        // E[Γ̂] = Γ·n/(n−1) for n exponential times.
        XCTAssertEqual(rates.reduce(0, +) / 1000, rate * 100 / 99, accuracy: rate * 0.01)
    }

    /// With a step cap, censored repeats count their capped time and not as escapes; the interval
    /// still covers the true rate at least 95% of the time.
    func testCensoredEscapeRate() throws {
        let rate = 0.01, cap = 150.0
        var rng = RandomGenerator(seed: 3)
        var covered = 0, trials = 600
        var total = 0.0
        for _ in 0..<trials {
            let raw = (0..<50).map { _ in -log(1 - rng.nextDouble()) / rate }
            let e = try EscapeRateEstimate(times: raw.map { min($0, cap) }, escaped: raw.map { $0 <= cap })
            XCTAssertLessThan(e.escapes, 50)
            if e.low <= rate && rate <= e.high { covered += 1 }
            total += e.rate
        }
        XCTAssertGreaterThanOrEqual(Double(covered) / Double(trials), 0.94)
        XCTAssertEqual(total / Double(trials), rate, accuracy: rate * 0.05)
        trials = 0
        let none = try EscapeRateEstimate(times: [10, 10], escaped: [false, false])
        XCTAssertEqual(none.rate, 0); XCTAssertEqual(none.low, 0)
        XCTAssertEqual(none.high, -log(0.025) / 20, accuracy: 1e-9)  // Gamma(1) upper quantile / T
        XCTAssertEqual(none.meanTime, .infinity)
    }

    func testLinearFit() throws {
        let f = try LinearFit(x: [1, 2, 3, 4], y: [3, 5, 7, 9.5])
        XCTAssertEqual(f.slope, 2.15, accuracy: 1e-12)
        XCTAssertEqual(f.intercept, 0.75, accuracy: 1e-12)
        XCTAssertGreaterThan(f.rSquared, 0.99); XCTAssertLessThan(f.rSquared, 1)
        let (mean, se) = meanAndStandardError([1, 2, 3, 4])
        XCTAssertEqual(mean, 2.5); XCTAssertEqual(se, (5.0 / 3 / 4).squareRoot(), accuracy: 1e-12)
    }
}

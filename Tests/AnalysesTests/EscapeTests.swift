import Engine
import Optim
import XCTest

@testable import Analyses

final class EscapeTests: XCTestCase {
    func small(seed: UInt64 = 1, threads: Int? = nil) throws -> EscapeExperiment {
        var e = EscapeExperiment()
        e.dimension = 3
        e.samples = 2000
        e.noiseScale = 1
        e.batchSize = 1
        e.repeats = 6
        e.maxSteps = 3000
        e.ks = [1, 2]
        e.seed = seed
        e.threads = threads
        e.optimizers = [try OptimizerChoice(parsing: "sgd:lr=0.03"), try OptimizerChoice(parsing: "adam:lr=0.3")]
        return e
    }

    /// Without noise the landscape is the textbook Styblinski–Tang double well (docs/paper.md §4.5).
    func testLandscapeWithoutNoiseIsStyblinskiTang() throws {
        var e = EscapeExperiment()
        e.dimension = 2; e.samples = 10; e.noiseScale = 0
        let l = try e.landscape(shifts: e.shifts())
        XCTAssertEqual(l.minimum[0], 2.746803, accuracy: 1e-5)
        XCTAssertEqual(l.barrier[1], 0.156731, accuracy: 1e-5)
        XCTAssertEqual(l.barrierHeight[0], 25.23, accuracy: 0.01)
        XCTAssertEqual(l.curvature[0], 29.27, accuracy: 0.01)
        // With noise σ the full-batch loss is ½(θ⁴ + (6σ² − 16)θ² + …): a shallower well.
        e.noiseScale = 1; e.samples = 50_000
        let noisy = try e.landscape(shifts: e.shifts())
        XCTAssertEqual(noisy.minimum[0], 2.1, accuracy: 0.1)
        XCTAssertLessThan(noisy.barrierHeight[0], 15)
    }

    /// The same seed gives the same escape times whatever the number of threads; another seed differs;
    /// and the settings above do escape (the experiment measures something).
    func testEscapeTimesAreReproducibleAcrossThreadCounts() throws {
        let one = try small(threads: 1).run()
        let three = try small(threads: 3).run()
        XCTAssertEqual(one.outcomes, three.outcomes)
        XCTAssertEqual(one.outcomes.count, 2 * 2 * 6)
        XCTAssertGreaterThan(one.outcomes.filter(\.escaped).count, 12)
        let other = try small(seed: 2, threads: 2).run()
        XCTAssertNotEqual(one.outcomes.map(\.time), other.outcomes.map(\.time))
        // The summary uses exactly these times.
        let s = one.summaries.first { $0.optimizer == "sgd" && $0.k == 2 }!
        let rows = one.outcomes.filter { $0.optimizer == "sgd" && $0.k == 2 }
        XCTAssertEqual(s.estimate.totalTime, Double(rows.map(\.time).reduce(0, +)))
        XCTAssertTrue(one.rateCSV(confidence: 0.95).contains("optimizer,k,escape_rate,ci_low,ci_high\n"))
        XCTAssertTrue(one.timesCSV.hasPrefix("optimizer,k,repeat,escape_time,escaped\n"))
    }

    /// A sharper valley (larger k) is escaped faster by SGD, whose step in θ is lr·k·∇f.
    func testSharperValleysAreEscapedFaster() throws {
        var e = try small()
        e.optimizers = [try OptimizerChoice(parsing: "sgd:lr=0.03")]
        e.repeats = 8
        let r = try e.run()
        let rates = r.summaries.map(\.estimate.rate)
        XCTAssertGreaterThan(rates[1], rates[0])
        XCTAssertEqual(r.fits.map(\.variable), ["1/k", "1/sqrt(k)"])
        XCTAssertGreaterThan(r.fits[0].fit.slope, 0)  // −ln Γ grows with 1/k
    }
}

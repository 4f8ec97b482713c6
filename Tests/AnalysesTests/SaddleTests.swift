import XCTest

@testable import Analyses

final class SaddleTests: XCTestCase {
    /// From the saddle, noise alone moves the optimizers; along the escape direction the mean squared
    /// displacement grows with the iterations. Under Hessian-shaped noise (variance ∝ |h|), SGD's
    /// escape-direction diffusion shrinks with |h_esc| (∝ |h_esc|) while Adam's normalised steps
    /// make it nearly independent of |h_esc| (Staib et al.; the paper's Proposition 3). Results are
    /// reproducible whatever the number of threads.
    func testSaddleDisplacement() throws {
        var e = SaddleExperiment()
        e.curvatures = [1, 1, -0.01]
        e.steps = 300; e.every = 100; e.repeats = 40
        e.optimizers = [try OptimizerChoice(parsing: "sgd:lr=0.1"), try OptimizerChoice(parsing: "adam:lr=0.01")]
        e.threads = 1
        let rows = try e.run()
        XCTAssertEqual(rows.count, 2 * 4)
        let sgd = rows.filter { $0.optimizer == "sgd" }, adam = rows.filter { $0.optimizer == "adam" }
        XCTAssertEqual(sgd.map(\.step), [0, 100, 200, 300])
        XCTAssertEqual(sgd[0].escapeDisplacement, 0)
        XCTAssertGreaterThan(sgd[3].escapeDisplacement, sgd[1].escapeDisplacement)
        XCTAssertGreaterThan(adam[3].escapeDisplacement, adam[1].escapeDisplacement)
        e.threads = 3
        XCTAssertEqual(try e.run(), rows)
        e.curvatures = [1, 1, -0.0001]
        let flat = try e.run()
        let sgdFlat = flat.filter { $0.optimizer == "sgd" }, adamFlat = flat.filter { $0.optimizer == "adam" }
        XCTAssertGreaterThan(sgd[3].escapeDisplacement / sgdFlat[3].escapeDisplacement, 30)
        XCTAssertLessThan(adam[3].escapeDisplacement / adamFlat[3].escapeDisplacement, 3)
        XCTAssertTrue(SaddleExperiment.csv(rows).hasPrefix("optimizer,step,msd_escape,msd_positive\nsgd,0,0,0\n"))
    }
}

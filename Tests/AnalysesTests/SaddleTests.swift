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

    /// Warm steps fill the buffers at the saddle and draw from their own stream: SGD, which has no buffer, takes
    /// the same steps as from a cold start; SGD-M starts with a velocity and so moves differently.
    func testWarmStepsFillTheBuffersOnly() throws {
        var e = SaddleExperiment()
        e.curvatures = [1, -0.01]
        e.steps = 50; e.every = 10; e.repeats = 1; e.threads = 1
        let sgd = try OptimizerChoice(parsing: "sgd:lr=0.1"), sgdm = try OptimizerChoice(parsing: "sgdm:lr=0.01:momentum=0.9")
        let coldSGD = try e.runRepeat(sgd, repeatIndex: 0), coldSGDM = try e.runRepeat(sgdm, repeatIndex: 0)
        e.warmSteps = 100
        XCTAssertEqual(try e.runRepeat(sgd, repeatIndex: 0), coldSGD)
        XCTAssertNotEqual(try e.runRepeat(sgdm, repeatIndex: 0), coldSGDM)
        e.warmSteps = -1
        XCTAssertThrowsError(try e.validate())
    }
}

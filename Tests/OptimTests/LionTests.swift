import Optim
import XCTest

/// Lion against the `lion-pytorch` package (Fixtures/optimizers-lion.json, written by
/// scripts/fixtures/make_lion_fixtures.py): the shared parity check, 24 steps on five parameters.
extension OptimizerParityTests {
    func testLion() throws {
        try checkOptimizer("lion")
        let used = Set(Fixtures.optimizers.cases.filter { $0.optimizer == "lion" }.flatMap { $0.groups.flatMap(\.options.keys) })
        for key in try optimizerKeys("lion") { XCTAssertTrue(used.contains(key), "lion: no fixture sets \(key)") }
        XCTAssertEqual(try defaultLearningRate("lion"), 1e-4)  // lion-pytorch's default
        XCTAssertThrowsError(try validateOptimizerOptions("lion", ["betas": .list([0.9, 1.1])])) {
            XCTAssertEqual("\($0)", "lion: betas[1] must be in [0, 1], got 1.1")
        }
    }
}

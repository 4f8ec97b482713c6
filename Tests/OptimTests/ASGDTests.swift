import Engine
import Optim
import XCTest

/// ASGD against torch.optim.ASGD (Fixtures/optimizers-asgd.json, written by
/// scripts/fixtures/make_asgd_fixtures.py): the shared parity check, 24 steps on five parameters with
/// lr changes at steps 13 and 19 (ASGD applies each lr one step late); and its per-parameter scalars
/// `eta` and `mu` in the optimizer state.
extension OptimizerParityTests {
    func testASGD() throws {
        try checkOptimizer("asgd")
        let used = Set(Fixtures.optimizers.cases.filter { $0.optimizer == "asgd" }.flatMap { $0.groups.flatMap(\.options.keys) })
        for key in try optimizerKeys("asgd") { XCTAssertTrue(used.contains(key), "asgd: no fixture sets \(key)") }
        XCTAssertEqual(try defaultLearningRate("asgd"), 1e-2)  // torch.optim.ASGD's default
        XCTAssertThrowsError(try validateOptimizerOptions("asgd", ["t0": .number(-1)])) {
            XCTAssertEqual("\($0)", "asgd: t0 must be >= 0, got -1.0")
        }
    }

    /// eta and mu travel in the state (metadata `state.<p>.scalar.<name>`) and a restored optimizer
    /// continues exactly; a state without them (or with others) is refused with a message.
    func testASGDScalarsRoundTripAndAreChecked() throws {
        func make() throws -> (any Optimizer, Variable) {
            let v = Variable(Tensor(shape: [3], values: [1, -2, 0.5]), requiresGrad: true)
            return (try makeOptimizer("asgd", parameters: [NamedParameter("w", v)], options: ["lr": .number(0.3), "t0": .number(0), "lambd": .number(0)]), v)
        }
        let (a, va) = try make()
        for t in 0..<3 {
            a.groups[0].lr = 0.3 * Double(t + 1)
            va.grad = Tensor(shape: [3], values: [0.5, Float(t), -1])
            a.step()
        }
        let saved = a.saveState()
        // After step 3 eta is the lr of step 3 (set after the step) and mu = 1/3.
        XCTAssertEqual(saved.parameters["w"]!.scalars["eta"], Double(Float(0.3 * 3)))
        XCTAssertEqual(saved.parameters["w"]!.scalars["mu"], Double(Float(1.0 / 3)))
        let (metadata, tensors) = saved.flattened()
        let (b, vb) = try make()
        for i in 0..<3 { vb.value.data[i] = va.value.data[i] }
        try b.loadState(try OptimizerState(metadata: metadata, tensors: tensors))
        for (o, v) in [(a, va), (b, vb)] {
            o.groups[0].lr = 0.05
            v.grad = Tensor(shape: [3], values: [1, 1, 1])
            o.step()
        }
        XCTAssertEqual(va.value.array, vb.value.array)
        var noScalars = metadata
        noScalars["state.w.scalar.mu"] = nil
        let (c, _) = try make()
        XCTAssertThrowsError(try c.loadState(try OptimizerState(metadata: noScalars, tensors: tensors))) {
            XCTAssertEqual("\($0)", "asgd: 'w' has scalars [eta], expected [eta, mu]")
        }
        var bad = metadata
        bad["state.w.scalar.eta"] = "fast"
        XCTAssertThrowsError(try OptimizerState(metadata: bad, tensors: tensors)) {
            XCTAssertEqual("\($0)", "optimizer state: 'state.w.scalar.eta' is not a number: fast")
        }
    }
}

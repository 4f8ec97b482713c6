import Engine
import Optim
import TestSupport
import XCTest

/// Every optimizer and switch against the PyTorch reference (Fixtures/optimizers.json): 24 steps
/// on five parameters of different shapes, one with all-zero gradients at steps 4–9, one whose
/// gradient flips sign every step, one with no gradient at steps 6–8; the lr is halved at step 13
/// and divided by 10 at step 19. Parameters after every step and the final state (every buffer
/// and step count) must agree within a relative error of 1e-5.
final class OptimizerParityTests: XCTestCase {
    static let tolerance = 1e-5

    /// Runs one fixture case and returns the worst relative error over parameters and state.
    @discardableResult
    func checkCase(_ c: Fixtures.OptimizerFile.Case, file: StaticString = #filePath, line: UInt = #line) throws -> Double {
        let fixture = Fixtures.optimizers
        var variables: [String: Variable] = [:]
        for p in fixture.parameters {
            variables[p.name] = Variable(Tensor(shape: p.shape, values: p.initial), requiresGrad: true)
        }
        let groups = c.groups.map { g in
            ParameterGroupSpec(parameters: g.parameters.map { NamedParameter($0, variables[$0]!) }, options: g.options)
        }
        let optimizer = try makeOptimizer(c.optimizer, groups: groups)
        var worst = 0.0
        for t in 0..<fixture.steps {
            for group in optimizer.groups { group.lr = group.initialLr * fixture.lrFactors[t] }
            for p in fixture.parameters {
                let v = variables[p.name]!
                if let g = fixture.gradients[t][p.name]!, !g.isEmpty {
                    v.grad = Tensor(shape: p.shape, values: g)
                } else {
                    v.grad = nil
                }
            }
            optimizer.step()
            for p in fixture.parameters {
                let error = maxRelativeError(variables[p.name]!.value.array, c.trajectory[t][p.name]!)
                worst = max(worst, error)
                XCTAssertLessThanOrEqual(error, Self.tolerance, "\(c.id): '\(p.name)' after step \(t + 1): \(worstElement(variables[p.name]!.value.array, c.trajectory[t][p.name]!))", file: file, line: line)
            }
        }
        let state = optimizer.saveState()
        XCTAssertEqual(Set(state.parameters.keys.filter { !(state.parameters[$0]!.buffers.isEmpty) }),
                       Set(c.finalState.keys.filter { !c.finalState[$0]!.buffers.isEmpty }), "\(c.id): parameters with state",
                       file: file, line: line)
        for (name, expected) in c.finalState {
            guard let actual = state.parameters[name] else { continue }
            if let step = expected.step { XCTAssertEqual(actual.step, step, "\(c.id): step of '\(name)'", file: file, line: line) }
            XCTAssertEqual(Set(actual.buffers.keys), Set(expected.buffers.keys), "\(c.id): buffers of '\(name)'", file: file, line: line)
            for (buffer, values) in expected.buffers {
                guard let tensor = actual.buffers[buffer] else { continue }
                let error = maxRelativeError(tensor.array, values)
                worst = max(worst, error)
                XCTAssertLessThanOrEqual(error, Self.tolerance, "\(c.id): state '\(buffer)' of '\(name)'", file: file, line: line)
            }
        }
        return worst
    }

    func checkOptimizer(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let cases = Fixtures.optimizers.cases.filter { $0.optimizer == name }
        XCTAssertFalse(cases.isEmpty, "no fixture case for \(name)", file: file, line: line)
        for c in cases {
            let worst = try checkCase(c, file: file, line: line)
            print("parity \(c.id): max relative error \(worst)")
            Margin.report("parity \(c.id)", error: worst, tolerance: Self.tolerance)
        }
    }

    func testSGD() throws { try checkOptimizer("sgd") }
    func testSGDM() throws { try checkOptimizer("sgdm") }
    func testAdam() throws { try checkOptimizer("adam") }
    func testAMSGrad() throws { try checkOptimizer("amsgrad") }
    func testAdamW() throws { try checkOptimizer("adamw") }
    func testAdaBound() throws { try checkOptimizer("adabound") }
    func testPadam() throws { try checkOptimizer("padam") }
    func testYogi() throws { try checkOptimizer("yogi") }
    func testRAdam() throws { try checkOptimizer("radam") }
    func testAdaBelief() throws { try checkOptimizer("adabelief") }
    func testAdaMomentum() throws { try checkOptimizer("adamomentum") }
    func testAdai() throws { try checkOptimizer("adai") }
    func testAdaiW() throws { try checkOptimizer("adaiw") }
    func testAdaiV2() throws { try checkOptimizer("adaiv2") }

    /// Every optimizer has fixtures, and every switch is turned on in at least one of them.
    func testFixturesCoverEveryOptimizerAndSwitch() {
        let cases = Fixtures.optimizers.cases
        XCTAssertEqual(Set(cases.map(\.optimizer)), Set(optimizerNames))
        XCTAssertGreaterThanOrEqual(Fixtures.optimizers.steps, 20)
        let switches: [String: [String]] = [
            "sgd": ["momentum", "dampening", "nesterov", "weightDecay"],
            "adam": ["weightDecay", "eps", "betas"], "amsgrad": ["weightDecay"], "adamw": ["weightDecay", "amsgrad"],
            "adabound": ["weightDecay", "gamma", "amsbound", "finalLr"], "padam": ["partial", "amsgrad", "weightDecay"],
            "yogi": ["weightDecay", "eps", "initialAccumulator"], "radam": ["weightDecay", "degeneratedToSGD"],
            "adabelief": ["weightDecay", "weightDecouple", "fixedDecay", "rectify", "amsgrad", "eps"],
            "adamomentum": ["weightDecay", "weightDecouple", "fixedDecay", "rectify", "degeneratedToSGD", "amsgrad", "eps"],
            "adai": ["weightDecay", "eps", "betas", "decoupled"], "adaiw": ["weightDecay"], "adaiv2": ["dampening", "decoupled"],
        ]
        for (name, keys) in switches {
            let used = Set(cases.filter { $0.optimizer == name }.flatMap { $0.groups.flatMap(\.options.keys) })
            for key in keys { XCTAssertTrue(used.contains(key), "\(name): no fixture sets \(key)") }
        }
        // The parameters the issue asks for: one with all-zero gradients for some steps, one with sign flips.
        let g = Fixtures.optimizers.gradients
        XCTAssertTrue(g.contains { $0["fc.bias"]!!.allSatisfy { $0 == 0 } })
        XCTAssertTrue(zip(g, g.dropFirst()).allSatisfy { a, b in zip(a["bn.weight"]!!, b["bn.weight"]!!).allSatisfy { $0 * $1 < 0 } })
        XCTAssertTrue(g.contains { $0["embedding"]! == nil })
    }
}

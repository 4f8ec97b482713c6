import Engine
import Optim
import XCTest

/// save → restore → continue equals an uninterrupted run, bit for bit, for every optimizer.
final class StateTests: XCTestCase {
    /// Parameters of several shapes, including an empty one and one large enough to be split
    /// across threads, with a fixed gradient sequence (some all-zero, some missing).
    struct Problem {
        let shapes: [[Int]] = [[3, 4], [5], [1], [0], [70_000]]
        let names = ["w", "b", "s", "empty", "big"]

        func parameters() -> [NamedParameter] {
            var rng = RandomGenerator(seed: 11)
            return zip(names, shapes).map { name, shape in
                let t = Tensor(zeros: shape)
                rng.fillNormal(t)
                return NamedParameter(name, Variable(t, requiresGrad: true))
            }
        }

        func setGradients(_ parameters: [NamedParameter], step: Int) {
            var rng = RandomGenerator(seed: 1000 + UInt64(step))
            for (i, p) in parameters.enumerated() {
                if i == 1 && step % 4 == 2 { p.variable.grad = nil; continue }
                let g = Tensor(zeros: p.variable.shape)
                if !(i == 2 && step < 3) { rng.fillNormal(g, std: i == 0 ? 0.01 : 1) }
                p.variable.grad = g
            }
        }
    }

    /// Options that turn on every buffer an optimizer can keep.
    static let options: [String: [OptimizerOptions]] = [
        "sgd": [["lr": .number(0.1)], ["lr": .number(0.1), "momentum": .number(0.9), "nesterov": .bool(true)]],
        "sgdm": [["lr": .number(0.1), "weightDecay": .number(1e-3)]],
        "adam": [["lr": .number(0.01)]], "amsgrad": [["lr": .number(0.01)]],
        "adamw": [["lr": .number(0.01), "amsgrad": .bool(true)]],
        "adabound": [["lr": .number(0.01), "amsbound": .bool(true)]],
        "padam": [[:]], "yogi": [[:]], "radam": [["weightDecay": .number(0.1)]],
        "adabelief": [["rectify": .bool(true), "amsgrad": .bool(true)]],
        "adamomentum": [["rectify": .bool(true), "amsgrad": .bool(true)]],
        "adai": [["lr": .number(0.5)]], "adaiw": [["lr": .number(0.5), "weightDecay": .number(0.1)]],
        "adaiv2": [["lr": .number(0.5), "dampening": .number(0.5)]],
    ]

    func run(_ name: String, _ options: OptimizerOptions, steps: Int, interruptAt: Int?) throws -> [[Float]] {
        let problem = Problem()
        var parameters = problem.parameters()
        // Two groups, so per-group lrs are saved too.
        func build(_ parameters: [NamedParameter]) throws -> any Optimizer {
            try makeOptimizer(name, groups: [
                ParameterGroupSpec(parameters: Array(parameters[..<2]), options: options),
                ParameterGroupSpec(parameters: Array(parameters[2...]), options: options),
            ])
        }
        var optimizer = try build(parameters)
        let schedule = LRSchedule.multistep(milestones: [3, 7], gamma: 0.5)
        for t in 0..<steps {
            if t == interruptAt {
                // Save, copy everything through plain arrays and strings (as a checkpoint would),
                // then rebuild parameters and optimizer from scratch.
                let (metadata, tensors) = optimizer.saveState().flattened()
                let copied = tensors.mapValues { Tensor(shape: $0.shape, values: $0.array) }
                let values = parameters.map { $0.variable.value.array }
                parameters = problem.parameters()
                for (p, v) in zip(parameters, values) { p.variable.value.assign(Tensor(shape: p.variable.shape, values: v)) }
                optimizer = try build(parameters)
                try optimizer.loadState(OptimizerState(metadata: metadata, tensors: copied))
            }
            optimizer.setLearningRates(schedule, epoch: t)
            problem.setGradients(parameters, step: t)
            optimizer.step()
        }
        let state = optimizer.saveState()
        return parameters.map { $0.variable.value.array }
            + state.parameters.keys.sorted().flatMap { name in
                state.parameters[name]!.buffers.keys.sorted().map { state.parameters[name]!.buffers[$0]!.array }
                    + [[Float(state.parameters[name]!.step)]]
            }
    }

    func testSaveRestoreContinueEqualsAnUninterruptedRunBitForBit() throws {
        XCTAssertTrue(Set(Self.options.keys).isSubset(of: optimizerNames))
        for name in optimizerNames {
            // Optimizers without a row above run with the settings their registration benches them with.
            let bench = registeredOptimizers.flatMap(\.variants).first { $0.name == name }!.benchOptions
            for options in Self.options[name] ?? [bench] {
                let straight = try run(name, options, steps: 10, interruptAt: nil)
                for cut in [1, 6] {
                    let resumed = try run(name, options, steps: 10, interruptAt: cut)
                    XCTAssertEqual(straight.count, resumed.count, "\(name) \(options)")
                    for (a, b) in zip(straight, resumed) {
                        XCTAssertEqual(a.map(\.bitPattern), b.map(\.bitPattern), "\(name) \(options) resumed at step \(cut)")
                    }
                }
            }
        }
    }

    func testStateHoldsEveryBufferAndStepCount() throws {
        let x = Variable(Tensor(shape: [2], values: [1, 2]), requiresGrad: true)
        let unused = Variable(Tensor(zeros: [3]), requiresGrad: true)
        let optimizer = try makeOptimizer("adai", parameters: [NamedParameter("x", x), NamedParameter("unused", unused)],
                                          options: ["lr": .number(0.1)])
        for _ in 0..<3 {
            x.grad = Tensor(shape: [2], values: [0.5, -1])
            optimizer.step()
        }
        let state = optimizer.saveState()
        XCTAssertEqual(state.optimizer, "adai")
        XCTAssertEqual(state.learningRates, [0.1])
        XCTAssertEqual(Array(state.parameters.keys), ["x"])
        XCTAssertEqual(state.parameters["x"]!.step, 3)
        XCTAssertEqual(Set(state.parameters["x"]!.buffers.keys), ["exp_avg", "exp_avg_sq", "beta1_prod"])
        let (metadata, tensors) = state.flattened()
        XCTAssertEqual(metadata["state.x.step"], "3")
        XCTAssertEqual(metadata["group.0.lr"], "0.1")
        XCTAssertEqual(Set(tensors.keys), ["state.x.exp_avg", "state.x.exp_avg_sq", "state.x.beta1_prod"])
        // The saved state is a copy: later steps do not change it.
        let saved = state.parameters["x"]!.buffers["exp_avg"]!.array
        optimizer.step()
        XCTAssertEqual(state.parameters["x"]!.buffers["exp_avg"]!.array, saved)
    }

    func testLoadingAMismatchedStateFailsAndChangesNothing() throws {
        let x = Variable(Tensor(shape: [2], values: [1, 2]), requiresGrad: true)
        x.grad = Tensor(shape: [2], values: [1, 1])
        let adam = try makeOptimizer("adam", parameters: [NamedParameter("x", x)])
        adam.step()
        let adamState = adam.saveState()
        let amsgrad = try makeOptimizer("amsgrad", parameters: [NamedParameter("x", x)])
        XCTAssertThrowsError(try amsgrad.loadState(adamState)) {
            XCTAssertEqual("\($0)", "cannot load a 'adam' optimizer state into 'amsgrad'")
        }
        let wider = try makeOptimizer("adam", parameters: [NamedParameter("x", x)], options: ["amsgrad": .bool(true)])
        XCTAssertThrowsError(try wider.loadState(adamState)) {
            XCTAssertEqual("\($0)", "adam: 'x' has buffers [exp_avg, exp_avg_sq], expected [exp_avg, exp_avg_sq, max_exp_avg_sq]")
        }
        let y = Variable(Tensor(zeros: [3]), requiresGrad: true)
        let other = try makeOptimizer("adam", parameters: [NamedParameter("x", y)])
        XCTAssertThrowsError(try other.loadState(adamState)) {
            XCTAssertEqual("\($0)", "adam: buffer 'exp_avg' of 'x' has 2 elements, the parameter 3")
        }
        let renamed = try makeOptimizer("adam", parameters: [NamedParameter("z", x)])
        XCTAssertThrowsError(try renamed.loadState(adamState)) {
            XCTAssertEqual("\($0)", "adam: the state has parameter 'x', which this optimizer does not have")
        }
        XCTAssertTrue(renamed.saveState().parameters.isEmpty)
        XCTAssertThrowsError(try OptimizerState(metadata: ["optimizer": "adam", "groups": "1"], tensors: [:])) {
            XCTAssertEqual("\($0)", "optimizer state: no valid 'group.0.lr' entry")
        }
    }
}

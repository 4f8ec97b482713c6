import Engine
import Optim
import XCTest

/// Adai's global v̄ and its all-zero-gradient case.
final class AdaiTests: XCTestCase {
    /// When every gradient is exactly zero the reference divides 0 by 0 (v̄ = 0) and fills the
    /// parameters with NaN. Here v̂/v̄ is taken as 0: β₁ = 1 − ε, nothing moves, no NaN, and the
    /// run continues normally once gradients appear.
    func testAllZeroGradientsGiveMaximalInertiaAndNoNaN() throws {
        for name in ["adai", "adaiv2"] {
            let a = Variable(Tensor(shape: [3], values: [1, -2, 3]), requiresGrad: true)
            let b = Variable(Tensor(shape: [2, 2], values: [0.5, 0, -0.5, 4]), requiresGrad: true)
            let optimizer = try makeOptimizer(name, parameters: [NamedParameter("a", a), NamedParameter("b", b)],
                                              options: ["lr": .number(0.1), "eps": .number(1e-3), "dampening": name == "adaiv2" ? .number(0.5) : nil].compactMapValues { $0 })
            let aBefore = a.value.array, bBefore = b.value.array
            for _ in 0..<3 {
                a.grad = Tensor(zeros: [3])
                b.grad = Tensor(zeros: [2, 2])
                optimizer.step()
            }
            XCTAssertEqual(a.value.array, aBefore, name)
            XCTAssertEqual(b.value.array, bBefore, name)
            let state = optimizer.saveState().parameters["b"]!
            let prod = Float(1 - 1e-3) * Float(1 - 1e-3) * Float(1 - 1e-3)
            XCTAssertEqual(state.buffers["beta1_prod"]!.array, [Float](repeating: prod, count: 4), name)
            XCTAssertEqual(state.buffers["exp_avg"]!.array, [0, 0, 0, 0], name)
            for _ in 0..<5 {
                a.grad = Tensor(shape: [3], values: [0.1, -0.2, 0.3])
                b.grad = Tensor(shape: [2, 2], values: [1, 0, -1, 2])
                optimizer.step()
            }
            XCTAssertTrue((a.value.array + b.value.array).allSatisfy(\.isFinite), name)
            XCTAssertNotEqual(a.value.array, aBefore, name)
        }
    }

    /// With decoupled weight decay an all-zero gradient still decays the weights, and only that.
    func testAllZeroGradientsWithDecoupledDecayOnlyDecay() throws {
        let a = Variable(Tensor(shape: [2], values: [1, -2]), requiresGrad: true)
        let optimizer = try makeOptimizer("adaiw", parameters: [NamedParameter("a", a)],
                                          options: ["lr": .number(0.1), "weightDecay": .number(0.5)])
        a.grad = Tensor(zeros: [2])
        optimizer.step()
        XCTAssertEqual(a.value.array, [1 * Float(1 - 0.05), -2 * Float(1 - 0.05)])
    }

    /// v̄ is one mean over every element of every parameter, across groups: moving a parameter
    /// into another group with the same settings changes nothing, while changing the other
    /// parameters' gradients changes this one's update.
    func testMeanIsGlobalAcrossParametersAndGroups() throws {
        func run(grouped: Bool, otherScale: Float) throws -> [Float] {
            let a = Variable(Tensor(shape: [3], values: [1, 2, 3]), requiresGrad: true)
            let b = Variable(Tensor(shape: [5], values: [0, 1, 0, 1, 0]), requiresGrad: true)
            let options: OptimizerOptions = ["lr": .number(0.3)]
            let pa = NamedParameter("a", a), pb = NamedParameter("b", b)
            let groups = grouped
                ? [ParameterGroupSpec(parameters: [pa], options: options), ParameterGroupSpec(parameters: [pb], options: options)]
                : [ParameterGroupSpec(parameters: [pa, pb], options: options)]
            let optimizer = try makeOptimizer("adai", groups: groups)
            for t in 0..<4 {
                a.grad = Tensor(shape: [3], values: [0.5, -1, Float(t)])
                b.grad = Tensor(shape: [5], values: [1, 2, 3, 4, 5].map { $0 * otherScale })
                optimizer.step()
            }
            return a.value.array
        }
        XCTAssertEqual(try run(grouped: false, otherScale: 1), try run(grouped: true, otherScale: 1))
        XCTAssertNotEqual(try run(grouped: false, otherScale: 1), try run(grouped: false, otherScale: 3))
    }

    /// AdaiV2 with dampening 1 and Adai are the same algorithm, bit for bit.
    func testAdaiV2WithDampeningOneIsAdai() throws {
        func run(_ name: String, _ options: OptimizerOptions) throws -> [Float] {
            let a = Variable(Tensor(shape: [4], values: [1, -2, 3, 0.5]), requiresGrad: true)
            let optimizer = try makeOptimizer(name, parameters: [NamedParameter("a", a)], options: options)
            for t in 0..<6 {
                a.grad = Tensor(shape: [4], values: [0.5, -1, Float(t), 0.01])
                optimizer.step()
            }
            return a.value.array
        }
        let adai = try run("adai", ["lr": .number(0.2), "weightDecay": .number(0.01)])
        let v2 = try run("adaiv2", ["lr": .number(0.2), "weightDecay": .number(0.01), "decoupled": .bool(false)])
        XCTAssertEqual(adai.map(\.bitPattern), v2.map(\.bitPattern))
    }
}

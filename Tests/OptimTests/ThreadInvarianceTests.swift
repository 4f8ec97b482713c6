import Engine
import Optim
import XCTest

/// Every optimizer's step, and gradient-norm clipping, give bit-identical parameters and state on
/// 1, 2 and 4 threads: parameters large enough to be updated in several chunks and summed (Adai's v̄,
/// the clipping norm) over several blocks, in two groups with different settings, over three steps.
final class OptimizerThreadInvarianceTests: XCTestCase {
    override func tearDown() { Parallel.setThreadCount(nil) }

    /// Parameter shapes: 70,001 elements (two blocks of 2^15 and a ragged end), a matrix of three such
    /// blocks, and a small vector.
    private static let shapes = [[70_001], [300, 257], [37]]

    private func tensor(_ shape: [Int], seed: UInt64, std: Float) -> Tensor {
        var rng = RandomGenerator(seed: seed)
        let t = Tensor(uninitializedShape: shape)
        rng.fillNormal(t, std: std)
        return t
    }

    /// Three steps of `name` (then clipping of the last gradients) on `threads` threads: every parameter's
    /// and every state buffer's bit patterns, and the gradient norm's.
    private func run(_ name: String, threads: Int) throws -> [[UInt32]] {
        Parallel.setThreadCount(threads)
        let variables = Self.shapes.enumerated().map { i, shape in
            Variable(tensor(shape, seed: UInt64(10 + i), std: 0.5), requiresGrad: true)
        }
        let groups = [
            ParameterGroupSpec(parameters: [NamedParameter("a", variables[0]), NamedParameter("c", variables[2])],
                               options: ["lr": .number(0.01), "weightDecay": .number(5e-4)]),
            ParameterGroupSpec(parameters: [NamedParameter("b", variables[1])], options: ["lr": .number(0.003)]),
        ]
        let optimizer = try makeOptimizer(name, groups: groups)
        var norm = 0.0
        for step in 0..<3 {
            for (i, v) in variables.enumerated() { v.grad = tensor(v.shape, seed: UInt64(100 * step + i), std: 0.1) }
            optimizer.step()
        }
        norm = clipGradientNorm(variables, maxNorm: 0.5)
        var result = variables.map { $0.value.array.map(\.bitPattern) } + variables.map { $0.grad!.array.map(\.bitPattern) }
        let state = optimizer.saveState()
        for key in state.parameters.keys.sorted() {
            let slot = state.parameters[key]!
            for buffer in slot.buffers.keys.sorted() { result.append(slot.buffers[buffer]!.array.map(\.bitPattern)) }
        }
        result.append([UInt32(truncatingIfNeeded: norm.bitPattern), UInt32(truncatingIfNeeded: norm.bitPattern >> 32)])
        return result
    }

    func testEveryOptimizerStepIsTheSameOnOneTwoAndFourThreads() throws {
        for name in optimizerNames {
            let reference = try run(name, threads: 1)
            for threads in [2, 4] {
                let got = try run(name, threads: threads)
                XCTAssertEqual(got.count, reference.count, name)
                for (i, (a, b)) in zip(got, reference).enumerated() where a != b {
                    XCTFail("\(name): array \(i) differs on \(threads) threads from 1 thread in \(zip(a, b).filter { $0 != $1 }.count) of \(a.count) values")
                }
            }
        }
    }
}

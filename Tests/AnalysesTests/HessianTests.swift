import Datasets
import Engine
import NN
import XCTest

@testable import Analyses

/// tanh as a layer, for a smooth tiny network.
final class TanhLayer: Layer {
    var members: [(String, ModuleMember)] { [] }
    func forward(_ x: Variable, _ context: inout ForwardContext) -> Variable { tanh(x) }
}

final class HessianTests: XCTestCase {
    /// A random orthogonal matrix (Gram–Schmidt of Gaussian columns), row-major.
    func rotation(_ n: Int, seed: UInt64) -> [Double] {
        var rng = RandomGenerator(seed: seed)
        var columns: [[Double]] = []
        while columns.count < n {
            var v = (0..<n).map { _ in rng.nextNormal() }
            for c in columns { let d = zip(v, c).reduce(0) { $0 + $1.0 * $1.1 }; v = zip(v, c).map { $0 - d * $1 } }
            let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            columns.append(v.map { $0 / norm })
        }
        var q = [Double](repeating: 0, count: n * n)
        for i in 0..<n { for j in 0..<n { q[i * n + j] = columns[j][i] } }
        return q
    }

    /// The quadratic ½ xᵀHx with H = Q diag(λ) Qᵀ known exactly: Lanczos on gradient-difference HVPs
    /// finds the top eigenvalues, and Hutchinson the trace, within 1%.
    func testQuadraticWithKnownHessian() throws {
        let n = 40
        var lambdas: [Double] = [100, 70, 50, 35, 25]
        var rng = RandomGenerator(seed: 11)
        while lambdas.count < n { lambdas.append(10 * rng.nextDouble() - 2) }  // a few negative ones too
        let q = rotation(n, seed: 5)
        var h = [Double](repeating: 0, count: n * n)
        for i in 0..<n { for j in 0..<n { for k in 0..<n { h[i * n + j] += q[i * n + k] * lambdas[k] * q[j * n + k] } } }
        let exact = try DenseSymmetricMatrix(dimension: n, values: h)
        // The gradient Hx, evaluated in Float32 like the engine's, around a point away from 0.
        let point = (0..<n).map { Double($0) * 0.01 }
        let op = try GradientDifferenceHessian(point: point) { x in
            try exact.apply(x).map { Double(Float($0)) }
        }
        let top = try lanczosTopEigenvalues(op, top: 5, iterations: 25, seed: 1)
        for (i, (found, truth)) in zip(top.eigenvalues, lambdas.prefix(5)).enumerated() {
            XCTAssertEqual(found, truth, accuracy: 0.01 * truth)
            XCTAssertLessThanOrEqual(abs(found - truth), top.residuals[i] + 1e-5 * truth)  // the residual bounds the error (+ Float32 HVP rounding)
        }
        // The dense solver agrees with the construction.
        let all = exact.eigenvalues()
        for (found, truth) in zip(all, lambdas.sorted(by: >)) { XCTAssertEqual(found, truth, accuracy: 1e-8) }
        let trace = lambdas.reduce(0, +)
        XCTAssertEqual(exact.trace, trace, accuracy: 1e-9)
        let hutchinson = try hutchinsonTrace(exact, samples: 20_000, seed: 2)
        XCTAssertEqual(hutchinson.trace, trace, accuracy: 0.01 * trace)
        XCTAssertLessThan(hutchinson.standardError, 0.004 * trace)  // so 1% is 2.5 standard errors
        XCTAssertGreaterThan(hutchinson.standardError, 0)
    }

    /// Images [N, 3, 2, 2] → flatten → Linear(12, 5) → tanh → Linear(5, 3): 83 parameters.
    func tinyNetwork() throws -> (ModelObjective, Layer) {
        let net = Sequential([Flatten(), Linear(12, 5), TanhLayer(), Linear(5, 3)])
        net.resetParameters(generator: RandomGenerator(seed: 4), path: "")
        var rng = RandomGenerator(seed: 9)
        let images = Tensor(zeros: [16, 3, 2, 2])
        rng.fillNormal(images)
        let labels = (0..<16).map { _ in Int32(rng.nextInt(below: 3)) }
        let objective = try ModelObjective(model: .imageClassifier(net),
                                           batches: [.images(images, labels: labels)], training: true)
        return (objective, net)
    }

    /// On a tiny network, Lanczos and Hutchinson on HVPs match the eigenvalues and trace of the
    /// Hessian assembled column by column from gradients.
    func testTinyNetworkMatchesAssembledHessian() throws {
        let (objective, _) = try tinyNetwork()
        XCTAssertEqual(objective.dimension, 12 * 5 + 5 + 5 * 3 + 3)
        let op = try objective.hessian()
        let assembled = try DenseSymmetricMatrix.assemble(op)
        let truth = assembled.eigenvalues()
        XCTAssertGreaterThan(truth[0], 0.01)
        let top = try lanczosTopEigenvalues(op, top: 4, iterations: 30, seed: 3)
        for (found, expected) in zip(top.eigenvalues, truth.prefix(4)) {
            XCTAssertEqual(found, expected, accuracy: 1e-3 * abs(truth[0]))
        }
        let hutchinson = try hutchinsonTrace(op, samples: 60, seed: 4)
        XCTAssertEqual(hutchinson.trace, assembled.trace, accuracy: max(4 * hutchinson.standardError, 0.01 * abs(assembled.trace)))
        // The parameters are left as they were.
        XCTAssertEqual(objective.parameters.flatMap { (_, p) in p.value.array.map(Double.init) }, objective.initialPoint)
    }

    /// Justifies the HVP choice: for softmax regression the Hessian is known in closed form,
    ///     H = (1/N) Σₙ (diag pₙ − pₙpₙᵀ) ⊗ x̃ₙx̃ₙᵀ,  x̃ = [x; 1] (weight [C, D] row-major, then bias),
    /// and the central difference of Float32 gradients with Richardson extrapolation matches it to
    /// better than 1e-3 relative, while a one-sided difference with the same step is far worse.
    func testCentralDifferenceHVPMatchesExactHessian() throws {
        let d = 12, c = 3, n = 32
        let linear = Linear(d, c)
        let net = Sequential([Flatten(), linear])
        net.resetParameters(generator: RandomGenerator(seed: 1), path: "")
        var rng = RandomGenerator(seed: 2)
        let images = Tensor(zeros: [n, 3, 2, 2])
        rng.fillNormal(images, std: 2)
        let labels = (0..<n).map { _ in Int32(rng.nextInt(below: c)) }
        let objective = try ModelObjective(model: .imageClassifier(net), batches: [.images(images, labels: labels)], training: true)
        let p = (d + 1) * c
        XCTAssertEqual(objective.dimension, p)
        // Exact Hessian in Double.
        let w = linear.weight.value.array.map(Double.init), b = linear.bias!.value.array.map(Double.init)
        var h = [Double](repeating: 0, count: p * p)
        let index = { (cls: Int, feature: Int) -> Int in feature < d ? cls * d + feature : c * d + cls }
        for s in 0..<n {
            let x = (0..<d).map { Double(images[s * d + $0]) } + [1]
            let logits = (0..<c).map { k in (0..<d).reduce(b[k]) { $0 + w[k * d + $1] * x[$1] } }
            let m = logits.max()!
            let e = logits.map { exp($0 - m) }
            let prob = e.map { $0 / e.reduce(0, +) }
            for k in 0..<c { for l in 0..<c {
                let a = (k == l ? prob[k] : 0) - prob[k] * prob[l]
                for i in 0...d { for j in 0...d { h[index(k, i) * p + index(l, j)] += a * x[i] * x[j] / Double(n) } }
            } }
        }
        let exact = try DenseSymmetricMatrix(dimension: p, values: h)
        let central = try objective.hessian()
        let forward = try GradientDifferenceHessian(point: objective.initialPoint) { x in try objective.gradient(at: x) }
        var centralError = 0.0, forwardError = 0.0
        for trial in 0..<3 {
            var r = RandomGenerator(seed: UInt64(100 + trial))
            let v = (0..<p).map { _ in r.nextNormal() }
            let truth = try exact.apply(v)
            let norm = truth.reduce(0) { $0 + $1 * $1 }.squareRoot()
            let approx = try central.apply(v)
            centralError = max(centralError, zip(approx, truth).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot() / norm)
            // One-sided: (∇L(θ + εu) − ∇L(θ)) / ε.
            let vn = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            let g0 = try forward.gradient(objective.initialPoint)
            let g1 = try forward.gradient(zip(objective.initialPoint, v).map { $0 + 1e-2 * $1 / vn })
            let oneSided = zip(g1, g0).map { vn * ($0 - $1) / 1e-2 }
            forwardError = max(forwardError, zip(oneSided, truth).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot() / norm)
        }
        XCTAssertLessThan(centralError, 1e-3)
        XCTAssertGreaterThan(forwardError, 10 * centralError)
        let plain = try objective.hessian(richardson: false)
        XCTAssertEqual(try plain.apply([Double](repeating: 0, count: p)), [Double](repeating: 0, count: p))
    }

    /// Expected sharpness ≈ σ²·tr(H)/2 for small σ (the second-order term; the first-order one averages out).
    func testExpectedSharpnessMatchesTraceForSmallSigma() throws {
        let (objective, _) = try tinyNetwork()
        let trace = try DenseSymmetricMatrix.assemble(try objective.hessian()).trace
        let sigma = 0.05
        let estimates = try expectedSharpness(objective, sigmas: [sigma], samples: 400, seed: 1)
        let e = estimates[0]
        XCTAssertEqual(e.baseLoss, try objective.loss(at: objective.initialPoint))
        XCTAssertEqual(e.sharpness, sigma * sigma * trace / 2, accuracy: 4 * e.standardError + 0.1 * sigma * sigma * trace / 2)
        XCTAssertGreaterThan(e.standardError, 0)
        // Reproducible for a seed.
        XCTAssertEqual(try expectedSharpness(objective, sigmas: [sigma], samples: 400, seed: 1), estimates)
    }
}

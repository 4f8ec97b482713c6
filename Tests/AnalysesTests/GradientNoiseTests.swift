import Engine
import XCTest

@testable import Analyses

/// `adai-bench noise`: the Hessian, the per-example and minibatch noise covariances, checked on softmax
/// regression, whose Hessian and per-example gradients have closed forms, and the tail-index estimator
/// on samples of known index.
final class GradientNoiseTests: XCTestCase {
    /// N examples of d standard-normal features and labels from a random linear teacher.
    func data(n: Int, d: Int, k: Int, seed: UInt64) -> NoiseData {
        var rng = RandomGenerator(seed: seed).fork("test-data")
        let x = (0..<(n * d)).map { _ in rng.nextNormal() }
        let teacher = (0..<(k * d)).map { _ in rng.nextNormal() }
        let labels = (0..<n).map { r in
            (0..<k).max { a, b in
                let za = (0..<d).reduce(0.0) { $0 + teacher[a * d + $1] * x[r * d + $1] }
                let zb = (0..<d).reduce(0.0) { $0 + teacher[b * d + $1] * x[r * d + $1] }
                return za < zb
            }!
        }
        return try! NoiseData(inputs: x, labels: labels, features: d, classes: k)
    }

    func relativeError(_ a: [Double], _ b: [Double]) -> Double {
        let diff = zip(a, b).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
        return (diff / max(b.reduce(0) { $0 + $1 * $1 }, 1e-300)).squareRoot()
    }

    /// Softmax regression with inputs x̃ = (x, 1): the closed forms, written out element by element.
    /// Parameter index of class c and input f: c·d + f for a weight, K·d + c for the bias.
    func closedForms(_ theta: [Double], _ data: NoiseData) -> (hessian: [Double], covariance: [Double]) {
        let n = data.count, d = data.features, k = data.classes, p = k * (d + 1)
        func index(_ c: Int, _ f: Int) -> Int { f < d ? c * d + f : k * d + c }
        var h = [Double](repeating: 0, count: p * p)
        var g = [[Double]](repeating: [Double](repeating: 0, count: p), count: n)
        for r in 0..<n {
            let xt = Array(data.inputs[(r * d)..<((r + 1) * d)]) + [1]
            let z = (0..<k).map { c in (0..<d).reduce(theta[k * d + c]) { $0 + theta[c * d + $1] * xt[$1] } }
            let m = z.max()!
            let e = z.map { Foundation.exp($0 - m) }, s = e.reduce(0, +)
            let prob = e.map { $0 / s }
            for c in 0..<k { for f in 0...d {
                g[r][index(c, f)] = (prob[c] - (data.labels[r] == c ? 1 : 0)) * xt[f]
                for c2 in 0..<k { for f2 in 0...d {
                    // ∂²ℓ/∂W_cf∂W_c'f' = (p_c δ_cc' − p_c p_c') x̃_f x̃_f'
                    h[index(c, f) * p + index(c2, f2)] += ((c == c2 ? prob[c] : 0) - prob[c] * prob[c2]) * xt[f] * xt[f2] / Double(n)
                } }
            } }
        }
        let mean = (0..<p).map { j in g.reduce(0) { $0 + $1[j] } / Double(n) }
        var cov = [Double](repeating: 0, count: p * p)
        for i in 0..<p { for j in 0..<p {
            cov[i * p + j] = g.reduce(0) { $0 + $1[i] * $1[j] } / Double(n) - mean[i] * mean[j]
        } }
        return (h, cov)
    }

    func testSoftmaxRegressionHessianAndCovarianceMatchClosedForms() throws {
        let d = data(n: 200, d: 4, k: 3, seed: 1)
        let model = try NoiseMLP(inputs: 4, hidden: 0, classes: 3)
        XCTAssertEqual(model.dimension, 15)
        let theta = model.initialParameters(RandomGenerator(seed: 2)).map { $0 * 3 }  // away from uniform predictions
        let exact = closedForms(theta, d)
        let h = try NoiseHessian(model: model, theta: theta, data: d)
        XCTAssertLessThan(relativeError(h.matrix, exact.hessian), 1e-8, "finite-difference Hessian against the closed form")
        XCTAssertLessThan(h.asymmetry, 1e-8)
        let g = model.perExampleGradients(theta, d)
        let (cov, mean) = perExampleCovariance(gradients: g, count: d.count, dimension: model.dimension)
        XCTAssertLessThan(relativeError(cov, exact.covariance), 1e-12)
        XCTAssertLessThan(relativeError(mean, model.meanGradient(theta, d)), 1e-12)
        // A wrong Hessian (the Gauss–Newton term without the −p pᵀ part) is far off: the comparison can fail.
        var wrong = exact.hessian
        for i in 0..<wrong.count where i % (model.dimension + 1) == 0 { wrong[i] *= 1.5 }
        XCTAssertGreaterThan(relativeError(h.matrix, wrong), 1e-2)
        // In the Hessian's eigenbasis the rotated Hessian is diag(λ).
        let (values, vectors) = try symmetricEigen(h.matrix, dimension: model.dimension)
        let rotated = rotate(h.matrix, into: vectors, dimension: model.dimension)
        for i in 0..<model.dimension {
            XCTAssertEqual(rotated[i * model.dimension + i], values[i], accuracy: 1e-10)
            for j in 0..<model.dimension where j != i { XCTAssertEqual(rotated[i * model.dimension + j], 0, accuracy: 1e-10) }
        }
    }

    /// Minibatches of B drawn without replacement from N: E[ξξᵀ] = Σ·(N − B)/(B(N − 1)) exactly, with Σ the
    /// per-example covariance; the measured covariance of sampled minibatch gradients must match it (and not Σ/B).
    func testMinibatchCovarianceMatchesWithoutReplacementClosedForm() throws {
        let d = data(n: 60, d: 3, k: 3, seed: 3)
        let model = try NoiseMLP(inputs: 3, hidden: 0, classes: 3)
        let theta = model.initialParameters(RandomGenerator(seed: 4))
        let p = model.dimension
        let g = model.perExampleGradients(theta, d)
        let (sigma, mean) = perExampleCovariance(gradients: g, count: d.count, dimension: p)
        let b = 10, m = 40_000
        let noise = try minibatchNoise(gradients: g, mean: mean, examples: d.count, batch: b, count: m, generator: RandomGenerator(seed: 5))
        let c = noiseCovariance(noise, count: m, dimension: p)
        let factor = Double(d.count - b) / (Double(b) * Double(d.count - 1))
        let expected = sigma.map { $0 * factor }
        let traceC = (0..<p).reduce(0) { $0 + c[$1 * p + $1] }, traceE = (0..<p).reduce(0) { $0 + expected[$1 * p + $1] }
        XCTAssertEqual(traceC / traceE, 1, accuracy: 0.03)
        XCTAssertLessThan(relativeError(c, expected), 0.05)
        // Σ/B (with replacement) is 18% larger here: the sampled covariance tells the two apart.
        let traceWith = (0..<p).reduce(0) { $0 + sigma[$1 * p + $1] } / Double(b)
        XCTAssertGreaterThan(abs(traceC / traceWith - 1), 0.1)
    }

    func testHiddenLayerGradientsMatchFiniteDifferences() throws {
        let d = data(n: 30, d: 5, k: 4, seed: 6)
        let model = try NoiseMLP(inputs: 5, hidden: 6, classes: 4)
        XCTAssertEqual(model.dimension, 6 * 6 + 4 * 7)
        let theta = model.initialParameters(RandomGenerator(seed: 7))
        let g = model.meanGradient(theta, d)
        let eps = 1e-5
        for j in 0..<model.dimension {
            var plus = theta, minus = theta
            plus[j] += eps; minus[j] -= eps
            let fd = (model.loss(plus, d) - model.loss(minus, d)) / (2 * eps)
            XCTAssertEqual(g[j], fd, accuracy: 1e-7 + 1e-5 * abs(fd), "parameter \(j)")
        }
        let per = model.perExampleGradients(theta, d)
        let (_, mean) = perExampleCovariance(gradients: per, count: d.count, dimension: model.dimension)
        XCTAssertLessThan(relativeError(mean, g), 1e-12)
        // The Hessian of the network is symmetric to the finite differences' accuracy.
        let h = try NoiseHessian(model: model, theta: theta, data: d)
        XCTAssertLessThan(h.asymmetry, 1e-7)
        XCTAssertLessThan(h.extrapolationChange, 1e-4)
    }

    func testCovarianceFitRecoversAPlantedProportionality() throws {
        // C = H/B·0.5 exactly: exponent 1, ratio 0.5, correlation 1, no off-diagonal part.
        let lambdas = [4.0, 2.0, 1.0, 0.5, 0.25]
        let p = lambdas.count
        var h = [Double](repeating: 0, count: p * p), c = h
        for i in 0..<p { h[i * p + i] = lambdas[i]; c[i * p + i] = 0.5 * lambdas[i] / 8 }
        let fit = try fitCovariance(rotatedNoise: c, rotatedHessian: h, eigenvalues: lambdas, batch: 8)
        XCTAssertEqual(fit.diagonalExponent, 1, accuracy: 1e-12)
        XCTAssertEqual(fit.diagonalRatio, 0.5, accuracy: 1e-12)
        XCTAssertEqual(fit.diagonalRatioToH, 0.5 / 8, accuracy: 1e-12)
        XCTAssertEqual(fit.allSlope, 0.5, accuracy: 1e-12)
        XCTAssertEqual(fit.offDiagonalFraction, 0, accuracy: 1e-12)
        // A constant C (independent of H) gives exponent 0.
        for i in 0..<p { c[i * p + i] = 1 }
        XCTAssertEqual(try fitCovariance(rotatedNoise: c, rotatedHessian: h, eigenvalues: lambdas, batch: 8).diagonalExponent, 0, accuracy: 1e-12)
    }

    // MARK: The tail index (Mohammadi et al. 2015) on samples of known index

    /// The estimator's spread at K = 10,000 samples is about 0.1 (1/α̂ averages log|Y| over √K blocks):
    /// each estimate must lie within 0.4 of the index and the mean of 40 independent ones (standard error
    /// about 0.016) within 0.06.
    func check(alpha: Double, name: String, sample: (inout RandomGenerator) -> Double) throws {
        var estimates: [Double] = []
        for seed in 0..<40 {
            var rng = RandomGenerator(seed: UInt64(seed)).fork(name)
            estimates.append(try tailIndex((0..<10_000).map { _ in sample(&rng) }))
        }
        for e in estimates { XCTAssertEqual(e, alpha, accuracy: 0.4, name) }
        XCTAssertEqual(estimates.reduce(0, +) / 40, alpha, accuracy: 0.06, name)
    }

    func testTailIndexIsAboutTwoOnGaussianSamples() throws {
        try check(alpha: 2, name: "gaussian") { $0.nextNormal() }
    }

    func testTailIndexRecoversTheIndexOfStableSamples() throws {
        for alpha in [1.0, 1.3, 1.6, 1.9] {
            try check(alpha: alpha, name: "stable-\(alpha)") { symmetricStableSample(alpha: alpha, generator: &$0) }
        }
        // α = 2 in the Chambers–Mallows–Stuck formula is a Gaussian of variance 2.
        var rng = RandomGenerator(seed: 12).fork("stable-2")
        let xs = (0..<40_000).map { _ in symmetricStableSample(alpha: 2, generator: &rng) }
        XCTAssertEqual(xs.reduce(0) { $0 + $1 * $1 } / Double(xs.count), 2, accuracy: 0.06)
    }

    func testNormalQuantile() {
        XCTAssertEqual(normalQuantile(0.5), 0, accuracy: 1e-12)
        XCTAssertEqual(normalQuantile(0.975), 1.959963984540054, accuracy: 1e-9)
        XCTAssertEqual(normalQuantile(0.001), -3.090232306167814, accuracy: 1e-9)
    }

    func testNoiseErrorMessages() {
        func message(_ body: () throws -> Any) -> String {
            do { _ = try body(); return "no error" } catch { return "\(error)" }
        }
        XCTAssertEqual(message { try tailIndex([1, 2, 3]) }, "the tail-index estimate needs at least 64 samples, got 3")
        XCTAssertEqual(message { try NoiseMLP(inputs: 0, hidden: 1, classes: 2) },
                       "the noise model needs inputs >= 1, --hidden >= 0 and at least 2 classes, got 0, 1, 2")
        var s = NoiseSettings()
        s.batchSizes = [16]
        XCTAssertEqual(message { try s.validate() }, "--batch-sizes needs at least two batch sizes to test the 1/B scaling, e.g. 16,64,256")
        s.batchSizes = [16, 16]
        XCTAssertEqual(message { try s.validate() }, "--batch-sizes needs distinct batch sizes >= 1, e.g. 16,64,256")
        s = NoiseSettings(); s.replicates = 1
        XCTAssertEqual(message { try s.validate() }, "--replicates must be >= 2 (for an interval), got 1")
        s = NoiseSettings(); s.minibatches = 10
        XCTAssertEqual(message { try s.validate() }, "--minibatches must be >= 64 (the tail index needs samples), got 10")
        s = NoiseSettings(); s.batchSizes = [16, 1000]
        let d = data(n: 100, d: 2, k: 2, seed: 1)
        XCTAssertEqual(message { try measureNoise(data: d, settings: s, dataLabel: "test") },
                       "--batch-sizes: the largest batch (1000) exceeds the 100 examples")
        XCTAssertEqual(try parseBatchSizes("16, 64,256"), [16, 64, 256])
        XCTAssertEqual(message { try parseBatchSizes("16,2.5") }, "--batch-sizes: '2.5' is not a whole number >= 1")
        XCTAssertEqual(message { try parseBatchSizes("16,x") }, "--batch-sizes: cannot read 'x' as a number; write comma-separated numbers, e.g. 1,2,4")
        XCTAssertEqual(message { try checkNoiseSource(synthetic: nil, dataDirectory: nil) }, "give --data-dir (the folder holding cifar-10-batches-bin) or --synthetic N")
        XCTAssertEqual(message { try checkNoiseSource(synthetic: 1, dataDirectory: nil) }, "--synthetic must be >= 2, got 1")
        XCTAssertEqual(message { try checkNoiseSource(synthetic: 100, dataDirectory: "data") }, "give either --synthetic N or --data-dir, not both")
        XCTAssertEqual(message { try NoiseData.pooled(.init(pixels: [], labels: []), side: 2) }, "the noise analysis needs at least 2 images, got 0")
        XCTAssertEqual(message { try NoiseData(inputs: [1, 2], labels: [5], features: 2, classes: 2) }, "a label lies outside 0..<2")
        XCTAssertEqual(message { try NoiseData.pooled(.init(pixels: [], labels: []), side: 3) },
                       "--side must divide 32 (1, 2, 4, 8, 16 or 32), got 3")
    }

    /// The whole measurement on a small problem: runs, is deterministic, and its fits are finite.
    func testMeasureNoiseIsDeterministic() throws {
        let d = data(n: 300, d: 5, k: 3, seed: 8)
        var s = NoiseSettings()
        s.hidden = 8; s.batchSizes = [8, 32]; s.minibatches = 256; s.replicates = 2; s.trainSteps = 50
        let a = try measureNoise(data: d, settings: s, dataLabel: "test")
        let b = try measureNoise(data: d, settings: s, dataLabel: "test")
        XCTAssertEqual(a, b)
        XCTAssertEqual(a.checkpoints.map(\.name), ["initialisation", "trained"])
        XCTAssertLessThan(a.checkpoints[1].loss, a.checkpoints[0].loss, "SGD lowers the loss")
        for c in a.checkpoints {
            XCTAssertEqual(c.batchExponents.count, 2)
            XCTAssertTrue(c.batchExponents.allSatisfy { $0.isFinite })
            XCTAssertEqual(c.alphaAcrossMinibatches.count, s.trackedParameters)
        }
    }
}

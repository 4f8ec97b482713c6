import Engine
import TestSupport
import XCTest

/// `batchNorm2dReLU` (batch norm, optional residual add, ReLU in one op) against finite
/// differences and against the composition relu(add(batchNorm2d(x), r)) of the primitive ops.
final class FusedOpTests: XCTestCase {
    private func freshStatistics(_ c: Int) -> BatchNormStatistics {
        BatchNormStatistics(runningMean: Tensor(zeros: [c]), runningVar: Tensor(shape: [c], repeating: 1))
    }

    /// Running statistics for evaluation mode (copied, so each use starts from the same values).
    private func evaluationStatistics(_ c: Int) -> BatchNormStatistics {
        BatchNormStatistics(runningMean: Tensor(shape: [c], values: (0..<c).map { Float($0) * 0.1 - 0.15 }),
                            runningVar: Tensor(shape: [c], values: (0..<c).map { 0.5 + Float($0) * 0.4 }))
    }

    private func copy(_ s: BatchNormStatistics) -> BatchNormStatistics {
        BatchNormStatistics(runningMean: s.runningMean.copy(), runningVar: s.runningVar.copy())
    }

    /// Sets beta so that every pre-activation z = bn(x) + r lies at least `margin` away from the
    /// ReLU's kink: per channel, zero is put in the middle of the widest gap between sorted values
    /// of the central half. Returns the smallest |z| obtained.
    private func placeKinkBetweenValues(x: Variable, gamma: Variable, beta: Variable, residual: Variable?,
                                        statistics: BatchNormStatistics, training: Bool, eps: Float) -> Float {
        let (n, c, plane) = (x.shape[0], x.shape[1], x.shape[2] * x.shape[3])
        beta.value.fill(0)
        let z = Tape.withoutGradients {
            let bn = batchNorm2d(x, gamma: gamma, beta: beta, statistics: copy(statistics), training: training, eps: eps)
            return residual.map { add(bn, $0) } ?? bn
        }.value
        var smallest = Float.infinity
        for ch in 0..<c {
            var values: [Float] = []
            for i in 0..<n { for p in 0..<plane { values.append(z[(i * c + ch) * plane + p]) } }
            values.sort()
            let lo = values.count / 4, hi = max(lo + 1, 3 * values.count / 4)
            var best = lo
            for k in lo..<min(hi, values.count - 1) where values[k + 1] - values[k] > values[best + 1] - values[best] { best = k }
            beta.value[ch] = -(values[best] + values[best + 1]) / 2
            for v in values { smallest = min(smallest, abs(v + beta.value[ch])) }
        }
        return smallest
    }

    func testGradientsInTrainingAndEvaluationModeBatchOneAndFour() {
        for (batch, size) in [(4, 3), (1, 5)] {
            for withResidual in [false, true] {
                for training in [true, false] {
                    let what = "batch \(batch), residual \(withResidual), training \(training)"
                    let x = kinkFreeVariable([batch, 3, size, size], seed: 51)
                    let gamma = Variable(Tensor(shape: [3], values: [1.2, -0.9, 0.7]), requiresGrad: true)
                    let beta = Variable(Tensor(zeros: [3]), requiresGrad: true)
                    let residual = withResidual ? kinkFreeVariable(x.shape, seed: 52) : nil
                    let statistics = training ? freshStatistics(3) : evaluationStatistics(3)
                    let eps: Float = training ? 1e-5 : 1e-3
                    let margin = placeKinkBetweenValues(x: x, gamma: gamma, beta: beta, residual: residual,
                                                        statistics: statistics, training: training, eps: eps)
                    XCTAssertGreaterThan(margin, 0.03, "test setup (\(what)): a pre-activation lies near the ReLU kink")
                    let mismatches = gradientMismatches([x, gamma, beta] + (residual.map { [$0] } ?? [])) {
                        batchNorm2dReLU(x, gamma: gamma, beta: beta, statistics: copy(statistics), training: training,
                                        eps: eps, adding: residual)
                    }
                    for m in mismatches.prefix(5) { XCTFail("\(what): \(m)") }
                }
            }
        }
    }

    /// max |a − b| over max |b|: the error relative to the tensor's scale.
    private func relativeDifference(_ a: Tensor, _ b: Tensor) -> Double {
        XCTAssertEqual(a.shape, b.shape)
        let scale = b.array.map { abs(Double($0)) }.max() ?? 0
        let difference = zip(a.array, b.array).map { abs(Double($0) - Double($1)) }.max() ?? 0
        return difference / max(scale, 1e-30)
    }

    /// Outputs, running statistics and every gradient of the fused op equal the composition's
    /// within 1e-5 (relative to each tensor's largest element), in both modes, with and without
    /// the residual, on shapes that exercise the vector loops and their tails, and on inputs whose
    /// mean is far larger than their spread.
    func testFusedEqualsComposition() {
        let shapes = [[1, 3, 5, 5], [4, 3, 3, 3], [8, 16, 8, 8], [3, 5, 7, 7], [2, 4, 30, 30], [16, 8, 4, 4]]
        for (index, shape) in shapes.enumerated() {
            for withResidual in [false, true] {
                for training in [true, false] {
                    for offset: Float in [0, 300] {
                        let what = "\(shape), residual \(withResidual), training \(training), offset \(offset)"
                        let c = shape[1], seed = UInt64(100 + index)
                        let x = randomVariable(shape, seed: seed, std: 2)
                        let plane = shape[2] * shape[3]
                        for i in 0..<x.count { x.value[i] += offset + Float((i / plane) % c) * 0.3 }  // per-channel means
                        let gamma = randomVariable([c], seed: seed + 1), beta = randomVariable([c], seed: seed + 2, std: 0.5)
                        let residual = withResidual ? randomVariable(shape, seed: seed + 3) : nil
                        let start = training ? freshStatistics(c) : evaluationStatistics(c)
                        var weights = RandomGenerator(seed: seed + 4)
                        let outputWeights = Tensor(uninitializedShape: shape)
                        weights.fillUniform(outputWeights, -1, 1)

                        func run(fused: Bool) -> (y: Tensor, stats: BatchNormStatistics, grads: [Tensor]) {
                            let inputs = [x, gamma, beta] + (residual.map { [$0] } ?? [])
                            for v in inputs { v.zeroGrad() }
                            let stats = copy(start)
                            let tape = Tape()
                            var y: Tensor!
                            let loss = tape.record { () -> Variable in
                                let out: Variable
                                if fused {
                                    out = batchNorm2dReLU(x, gamma: gamma, beta: beta, statistics: stats, training: training,
                                                          adding: residual)
                                } else {
                                    let bn = batchNorm2d(x, gamma: gamma, beta: beta, statistics: stats, training: training)
                                    out = relu(residual.map { add(bn, $0) } ?? bn)
                                }
                                y = out.value
                                return sum(mul(out, Variable(outputWeights)))
                            }
                            tape.backward(from: loss)
                            return (y, stats, inputs.map { $0.grad! })
                        }
                        let fused = run(fused: true), reference = run(fused: false)
                        let differences = [relativeDifference(fused.y, reference.y),
                                           relativeDifference(fused.stats.runningMean, reference.stats.runningMean),
                                           relativeDifference(fused.stats.runningVar, reference.stats.runningVar)]
                            + zip(fused.grads, reference.grads).map { relativeDifference($0, $1) }
                        Margin.report("fused batch norm + ReLU, \(what)", error: differences.max()!, tolerance: 1e-5)
                        XCTAssertLessThanOrEqual(relativeDifference(fused.y, reference.y), 1e-5, "output, \(what)")
                        XCTAssertLessThanOrEqual(relativeDifference(fused.stats.runningMean, reference.stats.runningMean), 1e-5,
                                                 "running mean, \(what)")
                        XCTAssertLessThanOrEqual(relativeDifference(fused.stats.runningVar, reference.stats.runningVar), 1e-5,
                                                 "running variance, \(what)")
                        for (k, name) in ["x", "gamma", "beta", "residual"].prefix(fused.grads.count).enumerated() {
                            XCTAssertLessThanOrEqual(relativeDifference(fused.grads[k], reference.grads[k]), 1e-5,
                                                     "gradient of \(name), \(what)")
                        }
                    }
                }
            }
        }
    }

    /// When x already holds a gradient as batch norm's backward runs (another op that reads x was
    /// recorded later, as DenseNet's concatenations are), dx is added into it: the result is exactly
    /// that gradient plus the dx that batch norm alone gives, for both channel walks (small and large
    /// planes), with and without the residual, in training and evaluation.
    func testInputGradientAddsToAGradientAlreadyThere() {
        for shape in [[4, 3, 5, 5], [2, 5, 9, 9], [3, 6, 2, 2]] {
            for withResidual in [false, true] {
                for training in [true, false] {
                    let what = "\(shape), residual \(withResidual), training \(training)"
                    let c = shape[1]
                    let x = randomVariable(shape, seed: 71, std: 2), residual = withResidual ? randomVariable(shape, seed: 72) : nil
                    let gamma = randomVariable([c], seed: 73), beta = randomVariable([c], seed: 74, std: 0.5)
                    let outputWeights = randomVariable(shape, seed: 75), otherWeights = randomVariable(shape, seed: 76)
                    let start = training ? freshStatistics(c) : evaluationStatistics(c)
                    func gradient(alsoReadAfterwards: Bool) -> [Float] {
                        x.zeroGrad()
                        let tape = Tape()
                        let loss = tape.record { () -> Variable in
                            let out = batchNorm2dReLU(x, gamma: gamma, beta: beta, statistics: copy(start), training: training,
                                                      adding: residual)
                            let main = sum(mul(out, outputWeights))
                            return alsoReadAfterwards ? add(main, sum(mul(x, otherWeights))) : main
                        }
                        tape.backward(from: loss)
                        return x.grad!.array
                    }
                    let alone = gradient(alsoReadAfterwards: false), both = gradient(alsoReadAfterwards: true)
                    XCTAssertEqual(both, zip(otherWeights.value.array, alone).map { $0 + $1 }, what)
                }
            }
        }
    }

    /// The running statistics move by momentum towards the batch mean and the unbiased variance.
    func testRunningStatisticsUseTheUnbiasedVariance() {
        let x = Variable(Tensor(shape: [2, 1, 1, 2], values: [1, 2, 3, 6]))
        let stats = freshStatistics(1)
        _ = batchNorm2dReLU(x, gamma: Variable(Tensor(shape: [1], values: [1])), beta: Variable(Tensor(zeros: [1])),
                            statistics: stats, training: true, momentum: 0.25)
        // mean 3, unbiased variance (4 + 1 + 0 + 9) / 3
        XCTAssertEqual(stats.runningMean[0], 0.75 * 0 + 0.25 * 3, accuracy: 1e-6)
        XCTAssertEqual(stats.runningVar[0], 0.75 * 1 + 0.25 * 14 / 3, accuracy: 1e-6)
    }

    /// The tape keeps neither the residual's value nor the composition relu's input alive: backward
    /// needs only the BN input and the output (and, for relu, the output).
    func testTapeDoesNotKeepValuesBackwardDoesNotNeed() {
        let x = randomVariable([2, 3, 4, 4], seed: 61), p = randomVariable([2, 3, 4, 4], seed: 62)
        let gamma = randomVariable([3], seed: 63), beta = randomVariable([3], seed: 64)
        weak var residualStorage: TensorStorage?
        weak var reluInputStorage: TensorStorage?
        let tape = Tape()
        let loss = tape.record { () -> Variable in
            let residual = scale(p, 2)  // an intermediate result, as ResNet's projection shortcut
            residualStorage = residual.value.storage
            let fused = batchNorm2dReLU(x, gamma: gamma, beta: beta, statistics: freshStatistics(3), training: true,
                                        adding: residual)
            let shifted = scale(fused, -1)
            reluInputStorage = shifted.value.storage
            return sum(relu(shifted))
        }
        XCTAssertNil(residualStorage, "the residual's value is kept until backward")
        XCTAssertNil(reluInputStorage, "relu's input is kept until backward")
        tape.backward(from: loss)
        XCTAssertNotNil(p.grad)
        XCTAssertNotNil(x.grad)
    }
}

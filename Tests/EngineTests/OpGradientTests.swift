import Engine
import XCTest

/// Finite-difference gradient checks for every differentiable op.
final class OpGradientTests: XCTestCase {
    /// The checker itself must catch a wrong backward (here: the gradient of x² taken as x).
    func testCheckerRejectsAWrongGradient() {
        let a = randomVariable([4], seed: 41)
        let mismatches = gradientMismatches([a], reportMargin: false) {
            let y = Tensor(uninitializedShape: a.shape)
            for i in 0..<a.count { y[i] = a.value[i] * a.value[i] }
            let av = a.value
            return Tape.result(y, inputs: [a]) { g in
                let d = Tensor(uninitializedShape: a.shape)
                for i in 0..<a.count { d[i] = g[i] * av[i] }  // wrong: should be 2·x·g
                a.accumulateGrad(d, owned: true)
            }
        }
        XCTAssertEqual(mismatches.count, 4, "every element of the wrong gradient should be flagged: \(mismatches)")
    }

    /// tanh through a matmul (a reduction, so the evaluations carry real rounding noise), whose
    /// backward is scaled by `factor` everywhere, or only at element `only` of the input.
    private func mismatchesOfDistortedBackward(factor: Float, only: Int? = nil) -> [String] {
        let a = randomVariable([6, 40], seed: 43), w = randomVariable([40, 7], seed: 44, std: 0.2)
        return gradientMismatches([a], reportMargin: factor == 1) {
            let y = tanh(matmul(a, w))
            return Tape.result(y.value, inputs: [y]) { g in
                let scaled = Tensor(uninitializedShape: g.shape)
                for i in 0..<g.count { scaled[i] = g[i] * factor }
                guard let only else { return y.accumulateGrad(scaled, owned: true) }
                // Only the rows of the output that element `only` of a feeds (a is [6, 40]).
                let row = only / 40
                for i in 0..<g.count where i / 7 != row { scaled[i] = g[i] }
                y.accumulateGrad(scaled, owned: true)
            }
        }
    }

    /// At the tolerances of the error model, a backward off by 5% fails, and so does one wrong at a
    /// single row; the undistorted one passes.
    func testCheckerRejectsAGradientFivePercentOff() {
        XCTAssertEqual(mismatchesOfDistortedBackward(factor: 1), [])
        let scaled = mismatchesOfDistortedBackward(factor: 1.05)
        XCTAssertGreaterThan(scaled.count, 200 * 9 / 10, "a 5% scaled gradient should fail nearly everywhere: \(scaled.prefix(3))")
        let oneRow = mismatchesOfDistortedBackward(factor: 0.9, only: 45)
        XCTAssertFalse(oneRow.isEmpty, "a gradient 10% off in one row should fail")
        XCTAssertTrue(oneRow.allSatisfy { message in
            let element = Int(message.split(separator: " ").drop { $0 != "element" }.dropFirst().first!.dropLast())!
            return element / 40 == 1
        }, "only elements of row 1 may be flagged: \(oneRow.prefix(3))")
    }

    func testMatmul() {
        let a = randomVariable([3, 4], seed: 1), b = randomVariable([4, 5], seed: 2)
        checkGradients([a, b]) { matmul(a, b) }
    }

    func testLinearWithAndWithoutBiasBatchOneAndMore() {
        for batch in [1, 3] {
            let x = randomVariable([batch, 6], seed: 3), w = randomVariable([4, 6], seed: 4), b = randomVariable([4], seed: 5)
            checkGradients([x, w, b]) { linear(x, weight: w, bias: b) }
            checkGradients([x, w]) { linear(x, weight: w, bias: nil) }
        }
    }

    func testElementwiseSameShape() {
        let a = randomVariable([2, 3, 4], seed: 6), b = randomVariable([2, 3, 4], seed: 7)
        checkGradients([a, b]) { add(a, b) }
        checkGradients([a, b]) { sub(a, b) }
        checkGradients([a, b]) { mul(a, b) }
    }

    func testElementwiseBroadcasting() {
        let a = randomVariable([2, 3, 4], seed: 8)
        let row = randomVariable([4], seed: 9), col = randomVariable([3, 1], seed: 10), s = randomVariable([1], seed: 11)
        let channel = randomVariable([1, 3, 1], seed: 12)
        checkGradients([a, row]) { add(a, row) }
        checkGradients([a, col]) { sub(a, col) }
        checkGradients([col, a]) { sub(col, a) }
        checkGradients([a, s]) { mul(a, s) }
        checkGradients([a, channel]) { mul(a, channel) }
        checkGradients([col, row]) { mul(col, row) }  // [3,1] × [4] → [3,4]: both broadcast
    }

    func testSameVariableUsedTwiceAccumulates() {
        let a = randomVariable([5], seed: 13)
        checkGradients([a]) { mul(a, a) }
        checkGradients([a]) { add(mul(a, a), scale(a, 3)) }
    }

    func testReductionsAndScale() {
        let a = randomVariable([3, 5], seed: 14)
        checkGradients([a]) { sum(a) }
        checkGradients([a]) { mean(a) }
        checkGradients([a]) { scale(a, -2.5) }
    }

    func testActivations() {
        let k = kinkFreeVariable([4, 6], seed: 15)
        checkGradients([k]) { relu(k) }
        let a = randomVariable([4, 6], seed: 16, std: 2)
        checkGradients([a]) { sigmoid(a) }
        checkGradients([a]) { tanh(a) }
    }

    func testLogSoftmaxAndCrossEntropy() {
        for batch in [1, 5] {
            let logits = randomVariable([batch, 7], seed: 17, std: 3)
            checkGradients([logits]) { logSoftmax(logits) }
            let labels = (0..<batch).map { Int32(($0 * 3) % 7) }
            checkGradients([logits]) { crossEntropy(logits, labels: labels) }
        }
    }

    func testConv3x3Stride1Padding1() {
        for batch in [1, 2] {
            let x = randomVariable([batch, 3, 5, 5], seed: 18), w = randomVariable([4, 3, 3, 3], seed: 19, std: 0.5)
            let b = randomVariable([4], seed: 20)
            checkGradients([x, w, b]) { conv2d(x, weight: w, bias: b, stride: 1, padding: 1) }
        }
    }

    /// The Winograd paths (forced on for these small channel counts), F(2×2) and F(4×4) in each pass:
    /// padding 0, 1 and 2, sizes that leave partial tiles, bias, and only one of the two gradients.
    func testConvWinograd() {
        let saved = (ConvKernels.winogradPolicy, Winograd.forwardTiles, Winograd.backwardTiles, Winograd.inferenceTiles)
        ConvKernels.winogradPolicy = .always
        defer { (ConvKernels.winogradPolicy, Winograd.forwardTiles, Winograd.backwardTiles, Winograd.inferenceTiles) = saved }
        for tiles in Winograd.Tiles.allCases {
            Winograd.forwardTiles = tiles; Winograd.backwardTiles = tiles; Winograd.inferenceTiles = tiles
            for (batch, padding) in [(1, 1), (2, 0), (2, 2)] {
                let x = randomVariable([batch, 3, 7, 6], seed: 60), w = randomVariable([4, 3, 3, 3], seed: 61, std: 0.5)
                let b = randomVariable([4], seed: 62)
                checkGradients([x, w, b]) { conv2d(x, weight: w, bias: b, stride: 1, padding: padding) }
            }
            let x = randomVariable([2, 2, 5, 9], seed: 63), w = randomVariable([3, 2, 3, 3], seed: 64, std: 0.5)
            let constantW = Variable(w.value, requiresGrad: false), constantX = Variable(x.value, requiresGrad: false)
            checkGradients([x]) { conv2d(x, weight: constantW, padding: 1) }
            checkGradients([w]) { conv2d(constantX, weight: w, padding: 1) }
        }
    }

    func testConvStride2PaddingOddSizes() {
        let x = randomVariable([2, 2, 7, 5], seed: 21), w = randomVariable([3, 2, 3, 3], seed: 22, std: 0.5)
        checkGradients([x, w]) { conv2d(x, weight: w, stride: 2, padding: 1) }
        let w5 = randomVariable([2, 2, 5, 3], seed: 23, std: 0.3)  // non-square kernel, no padding
        checkGradients([x, w5]) { conv2d(x, weight: w5, stride: 1, padding: 0) }
    }

    func testConvPointwise() {
        // batch 1 takes the direct (no-copy) path; batch 3 the gathered path; stride 2 the im2col path.
        for batch in [1, 3] {
            let x = randomVariable([batch, 4, 3, 5], seed: 24), w = randomVariable([6, 4, 1, 1], seed: 25)
            let b = randomVariable([6], seed: 26)
            checkGradients([x, w, b]) { conv2d(x, weight: w, bias: b) }
            checkGradients([x, w]) { conv2d(x, weight: w, stride: 2) }
        }
    }

    func testMaxPool() {
        let x = kinkFreeVariable([2, 2, 6, 6], seed: 27)
        checkGradients([x]) { maxPool2d(x, kernel: 2, stride: 2) }
        let odd = kinkFreeVariable([1, 3, 7, 5], seed: 28)
        checkGradients([odd]) { maxPool2d(odd, kernel: 3, stride: 2, padding: 1) }
        checkGradients([odd]) { maxPool2d(odd, kernel: 3, stride: 1, padding: 1) }  // GoogLeNet's pool branch
        // Rows wide enough for the stride-1 backward's eight-column vector loop (19 = 2 × 8 + a tail of 3).
        let wide = kinkFreeVariable([2, 2, 6, 19], seed: 40)
        checkGradients([wide]) { maxPool2d(wide, kernel: 3, stride: 1, padding: 1) }
        checkGradients([wide]) { maxPool2d(wide, kernel: 2, stride: 1) }
    }

    /// With ties (values from a set of three), each window's gradient goes to its first maximum in
    /// row-major order, exactly as a plain scan finds it, and the output is the window's maximum;
    /// strides 1 and 2, wide and narrow rows.
    func testMaxPoolGradientGoesToTheFirstMaximum() {
        for (shape, kernel, stride, padding) in [([2, 3, 9, 21], 3, 1, 1), ([1, 2, 8, 17], 2, 1, 0), ([1, 2, 9, 21], 3, 2, 1)] {
            var rng = RandomGenerator(seed: 41)
            let count = shape.reduce(1, *)
            let x = Variable(Tensor(shape: shape, values: (0..<count).map { _ in Float(rng.nextInt(below: 3)) }), requiresGrad: true)
            let tape = Tape()
            let y = tape.record { maxPool2d(x, kernel: kernel, stride: stride, padding: padding) }
            let seed = Tensor(uninitializedShape: y.shape)
            rng.fillNormal(seed)
            tape.backward(from: y, seed: seed)
            let (h, w, oh, ow) = (shape[2], shape[3], y.shape[2], y.shape[3])
            var expected = [Float](repeating: 0, count: count)
            let xs = x.value.array, ys = y.value.array, gs = seed.array
            for plane in 0..<(shape[0] * shape[1]) {
                for i in 0..<oh {
                    for j in 0..<ow {
                        let out = plane * oh * ow + i * ow + j
                        var maximum = -Float.infinity
                        for a in max(i * stride - padding, 0)..<min(i * stride - padding + kernel, h) {
                            for b in max(j * stride - padding, 0)..<min(j * stride - padding + kernel, w) {
                                maximum = max(maximum, xs[plane * h * w + a * w + b])
                            }
                        }
                        XCTAssertEqual(ys[out], maximum, "output \(out), kernel \(kernel), stride \(stride), input \(shape)")
                        search: for a in max(i * stride - padding, 0)..<min(i * stride - padding + kernel, h) {
                            for b in max(j * stride - padding, 0)..<min(j * stride - padding + kernel, w)
                            where xs[plane * h * w + a * w + b] == ys[out] {
                                expected[plane * h * w + a * w + b] += gs[out]
                                break search
                            }
                        }
                    }
                }
            }
            XCTAssertEqual(x.grad?.array ?? [], expected, "kernel \(kernel), stride \(stride), padding \(padding), input \(shape)")
        }
    }

    func testAvgPool() {
        let x = randomVariable([2, 2, 6, 6], seed: 29)
        checkGradients([x]) { avgPool2d(x, kernel: 2) }
        let odd = randomVariable([1, 3, 7, 5], seed: 30)
        checkGradients([odd]) { avgPool2d(odd, kernel: 3, stride: 2, padding: 1) }
        checkGradients([odd]) { globalAvgPool2d(odd) }
    }

    func testBatchNormTrainingAndEvaluation() {
        for (batch, size) in [(4, 3), (1, 5)] {
            let x = randomVariable([batch, 3, size, size], seed: 31, std: 2)
            let gamma = randomVariable([3], seed: 32), beta = randomVariable([3], seed: 33)
            let stats = BatchNormStatistics(runningMean: Tensor(zeros: [3]), runningVar: Tensor(shape: [3], repeating: 1))
            checkGradients([x, gamma, beta]) {
                batchNorm2d(x, gamma: gamma, beta: beta, statistics: stats, training: true, eps: 1e-5)
            }
            let evalStats = BatchNormStatistics(
                runningMean: Tensor(shape: [3], values: [0.1, -0.2, 0.3]), runningVar: Tensor(shape: [3], values: [0.5, 2, 1.5]))
            checkGradients([x, gamma, beta]) {
                batchNorm2d(x, gamma: gamma, beta: beta, statistics: evalStats, training: false, eps: 1e-3)
            }
        }
    }

    func testDropoutWithAFixedMask() {
        let x = randomVariable([4, 10], seed: 34)
        let start = RandomGenerator(seed: 35)
        checkGradients([x]) {
            var g = start  // the same mask at every evaluation
            return dropout(x, p: 0.3, training: true, generator: &g)
        }
    }

    /// Locked dropout's op: one [B·D] mask (zeros and 1/(1 − p)) at every row of a [T, B·D] input; word dropout's:
    /// one factor per row. Both: the finite-difference check, and the values by hand.
    func testMaskBroadcastOps() {
        let x = randomVariable([6, 10], seed: 37)  // T·B = 3·2 rows of D = 10 → viewed as [3, 20]
        let columnMask = Tensor(shape: [2, 10], values: (0..<20).map { $0 % 3 == 0 ? 0 : 1 / 0.6 })
        checkGradients([x]) { mulColumns(x, columnMask) }
        let rowScales = Tensor(shape: [6], values: [0, 2, 1, 0, 1.25, 3])
        checkGradients([x]) { mulRows(x, rowScales) }
        let y = Tape.withoutGradients { mulColumns(x, columnMask) }, z = Tape.withoutGradients { mulRows(x, rowScales) }
        XCTAssertEqual(y.shape, [6, 10])
        for i in 0..<60 {
            XCTAssertEqual(y.value[i], x.value[i] * columnMask[i % 20])
            XCTAssertEqual(z.value[i], x.value[i] * rowScales[i / 10])
        }
    }

    func testEmbeddingWithRepeatedIndices() {
        let w = randomVariable([6, 4], seed: 36)
        checkGradients([w]) { embedding([1, 4, 1, 0, 5, 4], weight: w) }
    }

    /// With a padding index the forward pass is the plain lookup and the gradient is the plain one with
    /// the padding row left at zero (F.embedding's padding_idx); elsewhere it passes the finite-difference check.
    func testEmbeddingWithAPaddingIndex() {
        let w = randomVariable([6, 4], seed: 36)
        let indices: [Int32] = [1, 4, 1, 0, 5, 4]
        checkGradients([w]) { embedding(indices, weight: w, paddingIndex: 3) }  // 3 is not looked up: the full gradient
        let seed = Tensor(shape: [6, 4], values: (0..<24).map { Float($0 % 7) - 3 })
        func gradient(_ padding: Int?) -> (value: [Float], grad: [Float]) {
            w.zeroGrad()
            let tape = Tape()
            let y = tape.record { embedding(indices, weight: w, paddingIndex: padding) }
            tape.backward(from: y, seed: seed)
            return (y.value.array, w.grad!.array)
        }
        let plain = gradient(nil), padded = gradient(4)
        XCTAssertEqual(padded.value, plain.value, "the forward pass ignores the padding index")
        for row in 0..<6 {
            let expected = row == 4 ? [Float](repeating: 0, count: 4) : Array(plain.grad[(row * 4)..<(row * 4 + 4)])
            XCTAssertEqual(Array(padded.grad[(row * 4)..<(row * 4 + 4)]), expected, "row \(row)")
        }
        XCTAssertNotEqual(Array(plain.grad[16..<20]), [0, 0, 0, 0], "the padding row is looked up, so its plain gradient is not zero")
    }

    func testConcatSliceChunkReshape() {
        let a = randomVariable([2, 3, 2, 2], seed: 37), b = randomVariable([2, 1, 2, 2], seed: 38)
        checkGradients([a, b]) { concat([a, b, a], axis: 1) }
        let gates = randomVariable([3, 8], seed: 39)
        checkGradients([gates]) { slice(gates, axis: 1, start: 2, length: 4) }
        checkGradients([gates]) {
            let parts = chunk(gates, parts: 4, axis: 1)
            return add(mul(sigmoid(parts[0]), tanh(parts[2])), parts[3])
        }
        checkGradients([a]) { flatten(a) }
        checkGradients([a]) { mul(reshape(a, [4, 6]), reshape(a, [4, 6])) }
        let rows = randomVariable([6, 5], seed: 40)
        checkGradients([rows]) { concat([slice(rows, axis: 0, start: 4, length: 2), slice(rows, axis: 0, start: 0, length: 3)], axis: 0) }
    }
}

import Engine
import Foundation
import TestSupport
import XCTest

final class RandomGeneratorTests: XCTestCase {
    func testSameSeedSameStreamDifferentSeedDifferentStream() {
        var a = RandomGenerator(seed: 7), b = RandomGenerator(seed: 7), c = RandomGenerator(seed: 8)
        let xa = (0..<100).map { _ in a.nextUInt64() }
        XCTAssertEqual(xa, (0..<100).map { _ in b.nextUInt64() })
        XCTAssertNotEqual(xa, (0..<100).map { _ in c.nextUInt64() })
    }

    func testForkDependsOnSeedAndNameOnlyNotOnDrawsSoFar() {
        var parent = RandomGenerator(seed: 3)
        let before = parent.fork("augment").fork(5)
        _ = (0..<10).map { _ in parent.nextUInt64() }
        XCTAssertEqual(parent.fork("augment").fork(5), before)
        var x = parent.fork("augment"), y = parent.fork("dropout")
        XCTAssertNotEqual(x.nextUInt64(), y.nextUInt64())
    }

    func testStateRoundTripsThroughJSONAndContinuesIdentically() throws {
        var g = RandomGenerator(seed: 11)
        _ = (0..<37).map { _ in g.nextUInt64() }
        let saved = try JSONEncoder().encode(g)
        let expected = (0..<50).map { _ in g.nextDouble() }
        var restored = try JSONDecoder().decode(RandomGenerator.self, from: saved)
        XCTAssertEqual((0..<50).map { _ in restored.nextDouble() }, expected)
    }

    func testDistributions() {
        var g = RandomGenerator(seed: 5)
        let n = 200_000
        var sum = 0.0, sumSq = 0.0
        for _ in 0..<n { let z = g.nextNormal(); sum += z; sumSq += z * z }
        XCTAssertEqual(sum / Double(n), 0, accuracy: 0.01)
        XCTAssertEqual(sumSq / Double(n), 1, accuracy: 0.02)
        var counts = [Int](repeating: 0, count: 7)
        for _ in 0..<70_000 { counts[g.nextInt(below: 7)] += 1 }
        for c in counts { XCTAssertEqual(Double(c), 10_000, accuracy: 400) }
        for _ in 0..<10_000 { let u = g.nextFloat(); XCTAssert(u >= 0 && u < 1) }
        XCTAssertEqual(g.permutation(50).sorted(), Array(0..<50))
    }
}

final class TapeTests: XCTestCase {
    func testNoTapeMeansNoGradientAndNothingRecorded() {
        let w = randomVariable([3, 3], seed: 1)
        let y = relu(matmul(w, w))
        XCTAssertFalse(y.requiresGrad, "outside a recording tape results must not require gradients")
        let tape = Tape()
        let z = tape.record { Tape.withoutGradients { relu(matmul(w, w)) } }
        XCTAssertFalse(z.requiresGrad)
        XCTAssertEqual(tape.recordedCount, 0)
    }

    func testBackwardReleasesRecordsAndAccumulatesIntoLeaves() {
        let w = randomVariable([2, 2], seed: 2)
        let tape = Tape()
        let loss = tape.record { sum(mul(w, w)) }
        XCTAssertEqual(tape.recordedCount, 2)
        tape.backward(from: loss)
        XCTAssertEqual(tape.recordedCount, 0)
        XCTAssertEqual(w.grad!.array, w.value.array.map { 2 * $0 })
        let again = tape.record { sum(w) }
        tape.backward(from: again)  // gradients of leaves accumulate until zeroGrad
        XCTAssertEqual(w.grad!.array, w.value.array.map { 2 * $0 + 1 })
        w.zeroGrad()
        XCTAssertNil(w.grad)
    }

    func testBatchNormRunningStatisticsFollowPyTorch() {
        // x holds one channel with values 1…8 (N=2, H=2, W=2): mean 4.5, biased var 5.25, unbiased 6.
        let x = Variable(Tensor(shape: [2, 1, 2, 2], values: [1, 2, 3, 4, 5, 6, 7, 8]))
        let stats = BatchNormStatistics(runningMean: Tensor(zeros: [1]), runningVar: Tensor(shape: [1], repeating: 1))
        let gamma = Variable(Tensor(shape: [1], values: [1])), beta = Variable(Tensor(shape: [1], values: [0]))
        let y = batchNorm2d(x, gamma: gamma, beta: beta, statistics: stats, training: true, momentum: 0.1, eps: 1e-5)
        XCTAssertEqual(stats.runningMean[0], 0.45, accuracy: 1e-6)
        XCTAssertEqual(stats.runningVar[0], 0.9 + 0.6, accuracy: 1e-6)
        XCTAssertEqual(y.value[0], (1 - 4.5) / sqrt(5.25 + 1e-5), accuracy: 1e-5)
        let e = batchNorm2d(x, gamma: gamma, beta: beta, statistics: stats, training: false, eps: 1e-5)
        XCTAssertEqual(e.value[7], (8 - 0.45) / sqrt(1.5 + 1e-5), accuracy: 1e-4)
    }

    func testDropoutKeepsAboutOneMinusPAndScales() {
        var g = RandomGenerator(seed: 9)
        let x = Variable(Tensor(shape: [100_000], repeating: 1))
        let y = dropout(x, p: 0.25, training: true, generator: &g)
        let kept = y.value.array.filter { $0 != 0 }
        XCTAssertEqual(Double(kept.count) / 100_000, 0.75, accuracy: 0.01)
        XCTAssert(kept.allSatisfy { abs($0 - 1 / 0.75) < 1e-6 })
        var h = RandomGenerator(seed: 9)
        XCTAssertEqual(dropout(x, p: 0.25, training: true, generator: &h).value.array, y.value.array, "same seed, same mask")
        XCTAssert(dropout(x, p: 0.25, training: false, generator: &h) === x, "evaluation is the identity")
    }

    func testFillBernoulliDrawsWhatBernoulliDraws() {
        var bulk = RandomGenerator(seed: 21), single = bulk
        let mask = Tensor(uninitializedShape: [1_001])
        bulk.fillBernoulli(mask.data, count: mask.count, p: 0.6, value: 2.5)
        XCTAssertEqual(mask.array, (0..<1_001).map { _ in single.bernoulli(0.6) ? Float(2.5) : 0 })
        XCTAssertEqual(bulk, single, "the generator ends in the same state")
        XCTAssertEqual(bulk.nextUInt64(), single.nextUInt64())
        for p in [0.0, 1e-300, 0.5, 1.0 / 3, 0.9999999999999999, 1.0] {  // the integer threshold at its edges
            var b = RandomGenerator(seed: 5), s = b
            let m = Tensor(uninitializedShape: [257])
            b.fillBernoulli(m.data, count: m.count, p: p, value: 1)
            XCTAssertEqual(m.array, (0..<257).map { _ in s.bernoulli(p) ? Float(1) : 0 }, "p = \(p)")
        }
    }
}

/// The chunked im2col path (several images per GEMM, several chunks) against a plain
/// double-precision convolution, forward and backward.
final class ConvolutionReferenceTests: XCTestCase {
    func testChunkedConvolutionMatchesDirectReference() {
        for acrossThreads in [false, true] {
            // Batched: chunks of 4, 4 and 1 images (the gathered and the single-image paths).
            // Across threads: each thread takes whole images with its own GEMMs.
            checkAgainstReference(Conv2dGeometry(batch: 9, inChannels: 6, height: 11, width: 7, outChannels: 5, kernelH: 3,
                                                 kernelW: 3, stride: 1, padding: 1, imagesPerChunk: 4,
                                                 imagesAcrossThreads: acrossThreads))
            checkAgainstReference(Conv2dGeometry(batch: 5, inChannels: 3, height: 9, width: 8, outChannels: 4, kernelH: 3,
                                                 kernelW: 3, stride: 2, padding: 1, imagesPerChunk: 2,
                                                 imagesAcrossThreads: acrossThreads))
            checkAgainstReference(Conv2dGeometry(batch: 5, inChannels: 7, height: 5, width: 3, outChannels: 4, kernelH: 1,
                                                 kernelW: 1, stride: 1, padding: 0, imagesPerChunk: 3,
                                                 imagesAcrossThreads: acrossThreads))
        }
        // The default chunking of a ResNet18 first-stage layer at batch 128 holds several images per chunk.
        let resnet = Conv2dGeometry(batch: 128, inChannels: 64, height: 32, width: 32, outChannels: 64, kernelH: 3,
                                    kernelW: 3, stride: 1, padding: 1)
        XCTAssert(resnet.imagesPerChunk > 1 && resnet.imagesPerChunk < 128, "got \(resnet.imagesPerChunk)")
    }

    /// Winograd F(2×2, 3×3) and F(4×4, 3×3), each in both passes: partial border tiles, padding 0–2,
    /// interior tiles, several chunks per thread, one image, channel counts that are and are not
    /// multiples of 8, and a real layer's; float32 error stays at the im2col level.
    func testWinogradMatchesDirectReference() {
        let saved = (Winograd.workspaceFloatsPerThread, Winograd.forwardTiles, Winograd.backwardTiles, Winograd.inferenceTiles)
        defer { (Winograd.workspaceFloatsPerThread, Winograd.forwardTiles, Winograd.backwardTiles, Winograd.inferenceTiles) = saved }
        for tiles in Winograd.Tiles.allCases {
            Winograd.forwardTiles = tiles; Winograd.backwardTiles = tiles; Winograd.inferenceTiles = tiles
            for workspace in [saved.0, 3000] {  // 3000 floats force one image per chunk
                Winograd.workspaceFloatsPerThread = workspace
                for (batch, h, w, padding) in [(5, 11, 7, 1), (3, 9, 10, 0), (4, 6, 5, 2), (1, 8, 8, 1), (2, 14, 13, 1)] {
                    checkAgainstReference(Conv2dGeometry(batch: batch, inChannels: 6, height: h, width: w, outChannels: 5,
                                                         kernelH: 3, kernelW: 3, stride: 1, padding: padding, winograd: true))
                }
            }
            Winograd.workspaceFloatsPerThread = saved.0
            let layer = Conv2dGeometry(batch: 3, inChannels: 64, height: 12, width: 12, outChannels: 32, kernelH: 3, kernelW: 3,
                                       stride: 1, padding: 1)
            XCTAssert(layer.winograd, "a 64-channel 3×3 stride-1 layer uses Winograd by default")
            checkAgainstReference(layer)
        }
        XCTAssertFalse(Conv2dGeometry(batch: 3, inChannels: 64, height: 8, width: 8, outChannels: 32, kernelH: 3, kernelW: 3,
                                      stride: 2, padding: 1).winograd, "stride 2 uses im2col")
        XCTAssertFalse(Conv2dGeometry(batch: 3, inChannels: 3, height: 8, width: 8, outChannels: 32, kernelH: 3, kernelW: 3,
                                      stride: 1, padding: 1).winograd, "3 input channels use im2col")
    }

    private func checkAgainstReference(_ g: Conv2dGeometry) {
        var rng = RandomGenerator(seed: 4)
        let x = Tensor(uninitializedShape: [g.batch, g.inChannels, g.height, g.width]); rng.fillNormal(x)
        let wt = Tensor(uninitializedShape: [g.outChannels, g.inChannels, g.kernelH, g.kernelW]); rng.fillNormal(wt)
        let dy = Tensor(uninitializedShape: [g.batch, g.outChannels, g.outHeight, g.outWidth]); rng.fillNormal(dy)
        let y = Tensor(uninitializedShape: dy.shape)
        let dx = Tensor(zeros: x.shape), dw = Tensor(zeros: wt.shape)
        ConvKernels.forward(x.data, wt.data, nil, g, y.data)
        ConvKernels.backward(x.data, wt.data, dy.data, g, dx: dx.data, dw: dw.data)

        var refY = [Double](repeating: 0, count: y.count)
        var refDx = [Double](repeating: 0, count: x.count), refDw = [Double](repeating: 0, count: wt.count)
        let (oh, ow) = (g.outHeight, g.outWidth)
        for b in 0..<g.batch {
            for oc in 0..<g.outChannels {
                for i in 0..<oh {
                    for j in 0..<ow {
                        let yi = ((b * g.outChannels + oc) * oh + i) * ow + j
                        for ic in 0..<g.inChannels {
                            for ki in 0..<g.kernelH {
                                for kj in 0..<g.kernelW {
                                    let r = i * g.stride - g.padding + ki, s = j * g.stride - g.padding + kj
                                    if r < 0 || r >= g.height || s < 0 || s >= g.width { continue }
                                    let xi = ((b * g.inChannels + ic) * g.height + r) * g.width + s
                                    let wi = ((oc * g.inChannels + ic) * g.kernelH + ki) * g.kernelW + kj
                                    refY[yi] += Double(x[xi]) * Double(wt[wi])
                                    refDx[xi] += Double(dy[yi]) * Double(wt[wi])
                                    refDw[wi] += Double(dy[yi]) * Double(x[xi])
                                }
                            }
                        }
                    }
                }
            }
        }
        func maxRelativeError(_ got: Tensor, _ want: [Double]) -> Double {
            let scale = want.map { abs($0) }.max() ?? 1
            return zip(got.array, want).map { abs(Double($0) - $1) }.max()! / scale
        }
        // K = inChannels·kernelH·kernelW ≤ 576 terms per sum: see `Margin` for the error model.
        Margin.report("convolution \(g.inChannels)×\(g.kernelH)×\(g.kernelW)", error: max(maxRelativeError(y, refY), maxRelativeError(dx, refDx),
                                                                                          maxRelativeError(dw, refDw)), tolerance: 1e-5)
        XCTAssertLessThan(maxRelativeError(y, refY), 1e-5, "forward of \(g)")
        XCTAssertLessThan(maxRelativeError(dx, refDx), 1e-5, "input gradient of \(g)")
        XCTAssertLessThan(maxRelativeError(dw, refDw), 1e-5, "weight gradient of \(g)")
    }
}

final class BufferPoolTests: XCTestCase {
    /// An idle buffer serves requests of its own size, or smaller ones down to half its size.
    func testIdleBuffersServeRequestsDownToHalfTheirSize() {
        let pool = BufferPool()
        let a = pool.acquire(count: 1000)
        XCTAssertEqual(a.capacity, 1000)
        pool.release(a.pointer, capacity: a.capacity)
        let b = pool.acquire(count: 600)  // 1000 ≤ 2 · 600: reused
        XCTAssertEqual(b.pointer, a.pointer)
        XCTAssertEqual(b.capacity, 1000)
        pool.release(b.pointer, capacity: b.capacity)
        let c = pool.acquire(count: 400)  // 1000 > 2 · 400: a new buffer
        XCTAssertNotEqual(c.pointer, a.pointer)
        XCTAssertEqual(c.capacity, 400)
        let d = pool.acquire(count: 1000)  // the exact size again
        XCTAssertEqual(d.pointer, a.pointer)
        XCTAssertEqual(pool.reservedFloats, 1400)
        pool.release(c.pointer, capacity: c.capacity)
        pool.release(d.pointer, capacity: d.capacity)
        pool.trim()
        XCTAssertEqual(pool.reservedFloats, 0)
    }

    /// Of several larger idle buffers, the smallest that fits is taken.
    func testBestFit() {
        let pool = BufferPool()
        let buffers = [1900, 1500, 1200].map { pool.acquire(count: $0) }
        for b in buffers { pool.release(b.pointer, capacity: b.capacity) }
        XCTAssertEqual(pool.acquire(count: 1000).capacity, 1200)
        XCTAssertEqual(pool.acquire(count: 1000).capacity, 1500)
        XCTAssertEqual(pool.acquire(count: 1000).capacity, 1900)
        XCTAssertEqual(pool.acquire(count: 1000).capacity, 1000)
    }
}

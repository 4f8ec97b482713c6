@testable import Engine
import Foundation
import TestSupport
import XCTest

/// `ReductionOrder.threadCountDependent`, the pre-fix splits kept as the baseline of
/// `adai-bench bench --compare-reductions`, computes the same values as the engine's fixed order
/// (within float rounding: only the order of the sums differs) for GEMMs, every convolution
/// algorithm and the LSTM recurrence; and it really is the old, thread-count-dependent path.
/// Small shapes on 3 threads (where the old split differs from the fixed one): well under a second.
final class ReductionOrderTests: XCTestCase {
    override func tearDown() {
        Parallel.setReductionOrder(.fixed)
        Parallel.setThreadCount(nil)
    }

    /// `compute()` under the fixed order and under the legacy order, both on `threads` threads; every
    /// output agrees within `tolerance` relative to its largest value (see `Margin` for the error model).
    private func assertOrdersAgree(_ what: String, threads: Int = 3, tolerance: Float = 1e-5,
                                   file: StaticString = #filePath, line: UInt = #line, _ compute: () -> [Tensor]) {
        Parallel.setThreadCount(threads)
        Parallel.setReductionOrder(.fixed)
        let fixed = compute().map(\.array)
        Parallel.setReductionOrder(.threadCountDependent)
        let legacy = compute().map(\.array)
        Parallel.setReductionOrder(.fixed)
        XCTAssertEqual(fixed.count, legacy.count, what, file: file, line: line)
        var worst: Float = 0
        for (i, (a, b)) in zip(legacy, fixed).enumerated() {
            let scale = max(b.map(abs).max() ?? 0, Float.leastNormalMagnitude)
            let difference = zip(a, b).map { abs($0 - $1) }.max() ?? 0
            XCTAssertFalse(a.contains { $0.isNaN }, "\(what): output \(i) has NaN under the legacy order", file: file, line: line)
            XCTAssertLessThanOrEqual(difference, tolerance * scale,
                                     "\(what): output \(i) differs by \(difference) (scale \(scale))", file: file, line: line)
            worst = max(worst, difference / scale)
        }
        Margin.report("legacy reduction order \(what)", error: Double(worst), tolerance: Double(tolerance))
    }

    /// K ≤ 512 terms per sum, α and β ≠ 1, every transpose; large enough to be split (≥ 2^20 multiply-adds).
    func testLegacyGEMMMatchesTheFixedOrder() {
        for (m, n, k) in [(37, 1_000, 160), (1_203, 45, 200), (20, 2_048, 512)] {
            for (transA, transB) in [(false, false), (false, true), (true, false), (true, true)] {
                let lda = transA ? m : k, ldb = transB ? k : n
                let a = randomTensor([(transA ? k : m) * lda], seed: 1), b = randomTensor([(transB ? n : k) * ldb], seed: 2)
                let c0 = randomTensor([m * n], seed: 3)
                assertOrdersAgree("gemm \(m)×\(n)×\(k) transA \(transA) transB \(transB)") {
                    let c = c0.copy()
                    Kernels.gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 0.75, a: a.data, lda: lda,
                                 b: b.data, ldb: ldb, beta: 0.5, c: c.data, ldc: n)
                    return [c]
                }
            }
        }
    }

    private func geometry(batch: Int, c: Int, size: Int, o: Int, kernel: Int, stride: Int, padding: Int, winograd: Bool,
                          across: Bool? = nil) -> Conv2dGeometry {
        Conv2dGeometry(batch: batch, inChannels: c, height: size, width: size, outChannels: o, kernelH: kernel,
                       kernelW: kernel, stride: stride, padding: padding, imagesAcrossThreads: across, winograd: winograd)
    }

    /// Output, input and weight gradients: im2col with images across threads (3×3 stride 2, and 1×1;
    /// weight-gradient sums of batch × plane ≤ 810 terms), Winograd F(2×2) and F(4×4) (a batch of 20
    /// in several chunks; the weight gradient's fold from the transform domain multiplies the rounding
    /// of dU's sums by up to the transform's gain, hence 1e-4).
    func testLegacyConvolutionsMatchTheFixedOrder() {
        assertOrdersAgree("im2col across threads 3×3/2",
                          convolutionPass(geometry(batch: 10, c: 24, size: 18, o: 40, kernel: 3, stride: 2, padding: 1, winograd: false), tiles: nil))
        assertOrdersAgree("im2col across threads 1×1",
                          convolutionPass(geometry(batch: 7, c: 48, size: 8, o: 32, kernel: 1, stride: 1, padding: 0, winograd: false), tiles: nil))
        assertOrdersAgree("Winograd F(2×2)", tolerance: 1e-4,
                          convolutionPass(geometry(batch: 20, c: 24, size: 12, o: 32, kernel: 3, stride: 1, padding: 1, winograd: true), tiles: .f2x2))
        assertOrdersAgree("Winograd F(4×4)", tolerance: 1e-4,
                          convolutionPass(geometry(batch: 20, c: 32, size: 8, o: 24, kernel: 3, stride: 1, padding: 1, winograd: true), tiles: .f4x4))
    }

    /// The LSTM op forward and backward (the legacy order sums per-block partials of ∂L/∂h), 2 and 3 blocks.
    func testLegacyLSTMMatchesTheFixedOrder() {
        for (steps, batch, h, blocks) in [(5, 11, 40, 3), (4, 20, 64, 2)] {
            let projected = Variable(randomTensor([steps * batch, 4 * h], seed: 31), requiresGrad: true)
            let weightHH = Variable(randomTensor([4 * h, h], seed: 32, std: 0.3), requiresGrad: true)
            let biasHH = Variable(randomTensor([4 * h], seed: 33, std: 0.5), requiresGrad: true)
            let h0 = randomTensor([batch, h], seed: 34, std: 0.5), c0 = randomTensor([batch, h], seed: 35)
            let r = randomTensor([steps * batch, h], seed: 36)
            assertOrdersAgree("LSTM H \(h), \(blocks) blocks") {
                for v in [projected, weightHH, biasHH] { v.zeroGrad() }
                let tape = Tape()
                var output: LSTMSequenceOutput!
                let loss = tape.record { () -> Variable in
                    output = lstmSequence(projected: projected, weightHH: weightHH, biasHH: biasHH, h0: h0, c0: c0,
                                          steps: steps, batch: batch, threads: blocks)
                    return sum(mul(output.hidden, Variable(r)))
                }
                tape.backward(from: loss)
                return [output.hidden.value, output.lastCell, projected.grad!, weightHH.grad!, biasHH.grad!].map { $0.copy() }
            }
        }
    }

    /// The legacy order is the old engine: its convolution weight gradient (one partial sum per thread)
    /// changes with the thread count, and its Winograd chunks follow the workspace, not a fixed count.
    func testLegacyOrderIsThreadCountDependent() {
        let compute = convolutionPass(geometry(batch: 10, c: 24, size: 18, o: 40, kernel: 3, stride: 2, padding: 1, winograd: false), tiles: nil)
        Parallel.setReductionOrder(.threadCountDependent)
        Parallel.setThreadCount(1)
        let one = compute()[2].array
        Parallel.setThreadCount(3)
        let three = compute()[2].array
        Parallel.setReductionOrder(.fixed)
        XCTAssertGreaterThan(zip(one, three).filter { $0.bitPattern != $1.bitPattern }.count, 0,
                             "the legacy weight gradient should differ in the last bits between 1 and 3 threads")

        let g = geometry(batch: 128, c: 64, size: 32, o: 64, kernel: 3, stride: 1, padding: 1, winograd: true)
        let fixed = Winograd.Plan<F4x4>(g, legacy: false), legacy = Winograd.Plan<F4x4>(g, legacy: true)
        XCTAssertGreaterThanOrEqual(fixed.chunks, 4)
        XCTAssertNotEqual(fixed.chunk, legacy.chunk)
    }
}

@testable import Engine
import Foundation
import XCTest

/// Same inputs, same bits, on any number of threads: the engine's GEMMs, convolutions (every
/// algorithm, forward and both gradients) and the LSTM recurrence give bit-identical results on
/// 1, 2, 3 and 4 threads, whether or not the host has that many cores (more threads than cores:
/// helpers start late, so blocks land on other threads than planned).
final class ThreadInvarianceTests: XCTestCase {
    override func tearDown() {
        Parallel.setThreadCount(nil)
        Parallel.setGEMMThreading(.split)
    }

    private func bits(_ t: Tensor) -> [UInt32] { t.array.map(\.bitPattern) }

    /// `compute()` on 1, 2, 3 and 4 threads (and 3 again): every run's tensors equal the 1-thread run's bit for bit.
    private func assertSameOnAnyThreadCount(_ what: String, file: StaticString = #filePath, line: UInt = #line,
                                            _ compute: () -> [Tensor]) {
        Parallel.setThreadCount(1)
        let reference = compute().map(bits)
        for threads in [2, 3, 4, 3] {
            Parallel.setThreadCount(threads)
            let got = compute().map(bits)
            XCTAssertEqual(got.count, reference.count, what, file: file, line: line)
            for (i, (a, b)) in zip(got, reference).enumerated() where a != b {
                let differing = zip(a, b).filter { $0 != $1 }.count
                XCTFail("\(what): output \(i) differs on \(threads) threads from 1 thread in \(differing) of \(a.count) values",
                        file: file, line: line)
            }
        }
    }

    /// Shapes around the sizes where GEMMs are split (2^20 multiply-adds) and where OpenBLAS switches to
    /// its small-matrix kernels on AVX-512 CPUs (M·N·K ≤ 10^6 in its SkylakeX build: a block of a split
    /// C whose width followed the thread count crossed it), tall and wide, every transpose, β ≠ 0.
    func testGEMMsAreTheSameOnAnyThreadCount() {
        let shapes = [(64, 130, 128), (130, 64, 128), (96, 120, 100), (100, 100, 110), (37, 1_000, 160),
                      (1_203, 45, 200), (517, 515, 64), (20, 2_048, 512), (2_048, 512, 40)]
        for (m, n, k) in shapes {
            for (transA, transB) in [(false, false), (false, true), (true, false), (true, true)] {
                let lda = transA ? m : k, ldb = transB ? k : n
                let a = randomTensor([(transA ? k : m) * lda], seed: 1), b = randomTensor([(transB ? n : k) * ldb], seed: 2)
                let c0 = randomTensor([m * n], seed: 3)
                assertSameOnAnyThreadCount("gemm m \(m) n \(n) k \(k) transA \(transA) transB \(transB)") {
                    let c = c0.copy()
                    Kernels.gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 0.75, a: a.data, lda: lda,
                                 b: b.data, ldb: ldb, beta: 0.5, c: c.data, ldc: n)
                    return [c]
                }
            }
        }
    }

    /// The output, input gradient and weight gradient of every convolution algorithm: im2col with
    /// images across threads (wide planes; 3×3 stride 2, and 1×1), im2col batched (narrow planes),
    /// Winograd F(2×2) and F(4×4). Batches of 10 and 7 do not split evenly into threads or chunks.
    func testConvolutionsAreTheSameOnAnyThreadCount() {
        struct Case { let name: String; let g: Conv2dGeometry; let tiles: Winograd.Tiles? }
        func geometry(batch: Int, c: Int, size: Int, o: Int, kernel: Int, stride: Int, padding: Int, winograd: Bool,
                      across: Bool? = nil) -> Conv2dGeometry {
            Conv2dGeometry(batch: batch, inChannels: c, height: size, width: size, outChannels: o, kernelH: kernel,
                           kernelW: kernel, stride: stride, padding: padding, imagesAcrossThreads: across, winograd: winograd)
        }
        let cases = [
            Case(name: "im2col across threads 3×3/2", g: geometry(batch: 10, c: 24, size: 18, o: 40, kernel: 3, stride: 2, padding: 1, winograd: false), tiles: nil),
            Case(name: "im2col across threads 1×1", g: geometry(batch: 7, c: 48, size: 8, o: 32, kernel: 1, stride: 1, padding: 0, winograd: false), tiles: nil),
            Case(name: "im2col batched", g: geometry(batch: 10, c: 64, size: 4, o: 96, kernel: 3, stride: 1, padding: 1, winograd: false, across: false), tiles: nil),
            Case(name: "Winograd F(2×2)", g: geometry(batch: 10, c: 24, size: 12, o: 32, kernel: 3, stride: 1, padding: 1, winograd: true), tiles: .f2x2),
            Case(name: "Winograd F(4×4)", g: geometry(batch: 7, c: 32, size: 8, o: 24, kernel: 3, stride: 1, padding: 1, winograd: true), tiles: .f4x4),
        ]
        for item in cases { assertSameOnAnyThreadCount(item.name, convolutionPass(item.g, tiles: item.tiles)) }
    }

    /// The fused LSTM op, forward and backward, with the hidden units split into 1, 2 or 3 blocks
    /// (the split follows the thread count by default) at H = 40 and 64: the same bits every time.
    func testLSTMSequenceIsTheSameOnAnyThreadCountAndSplit() {
        for (steps, batch, h) in [(5, 11, 40), (4, 20, 64)] {
            let projected = Variable(randomTensor([steps * batch, 4 * h], seed: 31), requiresGrad: true)
            let weightHH = Variable(randomTensor([4 * h, h], seed: 32, std: 0.3), requiresGrad: true)
            let biasHH = Variable(randomTensor([4 * h], seed: 33, std: 0.5), requiresGrad: true)
            let h0 = randomTensor([batch, h], seed: 34, std: 0.5), c0 = randomTensor([batch, h], seed: 35)
            let r = randomTensor([steps * batch, h], seed: 36)
            func run(blocks: Int?) -> [Tensor] {
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
            Parallel.setThreadCount(1)
            let reference = run(blocks: 1).map(bits)
            for (threads, blocks) in [(2, 2), (3, 3), (2, 3), (4, nil), (1, 2)] {
                Parallel.setThreadCount(threads)
                let got = run(blocks: blocks).map(bits)
                for (i, (a, b)) in zip(got, reference).enumerated() {
                    XCTAssertTrue(a == b, "H \(h): output \(i) differs with \(blocks.map(String.init) ?? "default") blocks on \(threads) threads")
                }
            }
        }
    }

    /// The GEMM split depends on the shape alone; blocks are whole multiples of 16 wide and cover C.
    func testGEMMSplitLayoutDependsOnTheShapeOnly() {
        for (m, n, k) in [(64, 130, 128), (20, 2_048, 512), (10_000, 512, 700), (128, 512, 512)] {
            Parallel.setThreadCount(1)
            let one = Kernels.splitLayout(m: m, n: n, k: k)
            Parallel.setThreadCount(7)
            let seven = Kernels.splitLayout(m: m, n: n, k: k)
            XCTAssertTrue(one == seven, "\(m)×\(n)×\(k): \(one) on 1 thread, \(seven) on 7")
            let extent = one.alongN ? n : m
            XCTAssertEqual(one.width % 16, 0)
            XCTAssertGreaterThanOrEqual(one.width * one.blocks, extent)
            XCTAssertLessThan(one.width * (one.blocks - 1), extent)
        }
    }
}

import Engine
import TestSupport
import XCTest

/// `Kernels.gemm` under both `GEMMThreading` settings: C cut into blocks of rows or of columns (split)
/// agrees with a double-precision reference for every transpose, odd sizes, leading dimensions
/// wider than the matrices, alpha and beta; and under both settings the same C comes out.
final class GEMMThreadingTests: XCTestCase {
    override func tearDown() {
        Parallel.setGEMMThreading(.split)
        Parallel.setThreadCount(nil)
    }

    /// Row-major C [m, n] (row stride ldc) = alpha op(A) op(B) + beta C, in double precision.
    private func reference(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float, a: [Float], lda: Int,
                           b: [Float], ldb: Int, beta: Float, c: [Float], ldc: Int) -> [Float] {
        var out = c
        for i in 0..<m {
            for j in 0..<n {
                var s = 0.0
                for p in 0..<k {
                    let x = transA ? a[p * lda + i] : a[i * lda + p]
                    let y = transB ? b[j * ldb + p] : b[p * ldb + j]
                    s += Double(x) * Double(y)
                }
                out[i * ldc + j] = Float(Double(alpha) * s + Double(beta) * Double(c[i * ldc + j]))
            }
        }
        return out
    }

    private func run(_ threading: GEMMThreading, threads: Int, transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
                     alpha: Float, a: [Float], lda: Int, b: [Float], ldb: Int, beta: Float, c: [Float], ldc: Int) -> [Float] {
        Parallel.setThreadCount(threads)
        Parallel.setGEMMThreading(threading)
        var out = c
        out.withUnsafeMutableBufferPointer { pc in
            Kernels.gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                         b: b, ldb: ldb, beta: beta, c: pc.baseAddress!, ldc: ldc)
        }
        return out
    }

    func testSplitGEMMsMatchAReference() {
        var generator = RandomGenerator(seed: 11)
        func values(_ count: Int) -> [Float] { (0..<count).map { _ in generator.nextFloat() * 2 - 1 } }
        // (m, n, k): wide (split along N), tall (along M), square-ish with ragged blocks, and one
        // below the size that is split at all.
        let shapes = [(37, 1_000, 160), (1_203, 45, 200), (517, 515, 64), (8, 8, 8)]
        for (m, n, k) in shapes {
            for transA in [false, true] {
                for transB in [false, true] {
                    let lda = (transA ? m : k) + 3, ldb = (transB ? k : n) + 5, ldc = n + 2
                    let a = values((transA ? k : m) * lda), b = values((transB ? n : k) * ldb), c = values(m * ldc)
                    let (alpha, beta): (Float, Float) = transA == transB ? (1, 0) : (0.5, -1.25)
                    let expected = reference(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                                             b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
                    for (threading, threads) in [(GEMMThreading.split, 2), (.split, 3), (.openBLAS, 2)] {
                        let got = run(threading, threads: threads, transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                                      a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
                        var worst: Float = 0
                        for i in 0..<m {
                            for j in 0..<n { worst = max(worst, abs(got[i * ldc + j] - expected[i * ldc + j])) }
                            // Past column n, C's padding is left alone.
                            for j in n..<ldc { XCTAssertEqual(got[i * ldc + j], c[i * ldc + j]) }
                        }
                        Margin.report("GEMM \(m)×\(n)×\(k)", error: Double(worst), tolerance: 1e-4)
                        XCTAssertLessThan(worst, 1e-4, "\(threading) on \(threads) threads, \(m)×\(n)×\(k), transA \(transA), transB \(transB)")
                    }
                }
            }
        }
    }

    /// A linear layer large enough that its GEMMs are split and its bias rows and bias gradient are
    /// spread over two threads (vector columns and a tail), against double precision.
    func testLargeLinearMatchesAReference() {
        Parallel.setThreadCount(2)
        let (batch, inF, outF) = (700, 16, 203)
        let x = randomVariable([batch, inF], seed: 21), w = randomVariable([outF, inF], seed: 22), b = randomVariable([outF], seed: 23)
        let seed = randomVariable([batch, outF], seed: 24).value
        let tape = Tape()
        let y = tape.record { linear(x, weight: w, bias: b) }
        tape.backward(from: y, seed: seed)
        var worstY = 0.0, worstDb = 0.0, worstDw = 0.0
        for j in 0..<outF {
            var db = 0.0
            for r in 0..<batch {
                var dot = Double(b.value[j])
                for i in 0..<inF { dot += Double(x.value[r * inF + i]) * Double(w.value[j * inF + i]) }
                worstY = max(worstY, abs(Double(y.value[r * outF + j]) - dot))
                db += Double(seed[r * outF + j])
            }
            worstDb = max(worstDb, abs(Double(b.grad![j]) - db))
            for i in 0..<inF {
                var dw = 0.0
                for r in 0..<batch { dw += Double(seed[r * outF + j]) * Double(x.value[r * inF + i]) }
                worstDw = max(worstDw, abs(Double(w.grad![j * inF + i]) - dw))
            }
        }
        Margin.report("linear 700×16×203", error: max(worstY / 1e-4, worstDb / 1e-3, worstDw / 1e-3), tolerance: 1)
        XCTAssertLessThan(worstY, 1e-4)
        XCTAssertLessThan(worstDb, 1e-3)  // sums of 700 terms of size ~1
        XCTAssertLessThan(worstDw, 1e-3)
    }
}

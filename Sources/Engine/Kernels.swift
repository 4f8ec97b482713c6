import CBLAS

/// Plain loops and BLAS calls over raw pointers, shared by the ops.
public enum Kernels {
    /// y += x
    @inline(__always)
    public static func addInPlace(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count: Int) {
        Parallel.forChunks(count, grain: 65_536) { r in
            for i in r { y[i] += x[i] }
        }
    }

    /// p[0 ..< count] = 0, in chunks of at least 1 MiB per thread.
    public static func zero(_ p: UnsafeMutablePointer<Float>, count: Int) {
        Parallel.forChunks(count, grain: 1 << 18) { r in (p + r.lowerBound).update(repeating: 0, count: r.count) }
    }

    /// y[i] += x[i] + x[stride + i] + … + x[(parts − 1)·stride + i], added one part after the other (in
    /// part order: the same sums whatever the thread count).
    public static func addInOrder(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, parts: Int, stride: Int, count: Int) {
        Parallel.forChunks(count, grain: max(1, 65_536 / max(parts, 1))) { r in
            for p in 0..<parts {
                let xp = x + p * stride
                for i in r { y[i] += xp[i] }
            }
        }
    }

    /// y += alpha * x
    public static func axpy(_ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        Parallel.forChunks(count, grain: 65_536) { r in
            for i in r { y[i] += alpha * x[i] }
        }
    }

    /// Row-major C = alpha * op(A) * op(B) + beta * C, where op(A) is M×K and op(B) is K×N.
    @inline(__always)
    public static func gemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
        alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        if m == 0 || n == 0 { return }
        if k == 0 {
            if beta == 0 { for i in 0..<m { (c + i * ldc).update(repeating: 0, count: n) } }
            return
        }
        _ = Parallel.blasConfigured
        if !Parallel.inPerThreadSection {
            if Parallel.benchmarkBaseline {  // never in training (BenchmarkBaselines.swift)
                if baselineGEMM(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                                a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc) { return }
            } else if m * n * k >= splitMinimum {
                splitGEMM(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                          a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
                return
            }
        }
        sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
              beta: beta, c: c, ldc: ldc)
    }

    /// GEMMs of at least this many multiply-adds (about 20 µs on one core) are split into blocks.
    static let splitMinimum = 1 << 20

    /// How `splitGEMM` cuts C: along N (`alongN`, when N ≥ M) or M, into blocks `width` wide (the
    /// last one narrower), `blocks` in all. It depends on the shape only, never on the thread count,
    /// so each element of C comes out of the same single-threaded OpenBLAS call (same m, n, k and
    /// position in its block) whatever the thread count: OpenBLAS picks its kernel from the call's
    /// shape (on AVX-512 CPUs, "small matrix" kernels below a size threshold), and a block whose width
    /// followed the thread count could switch kernels and round differently.
    ///
    /// Blocks are a power of two in number (so 1, 2, 4 and 8 threads share them evenly), at most
    /// `maxSplitBlocks`, each at least `minSplitWidth` wide (OpenBLAS repacks the other operand for
    /// every block) and at least half of `splitMinimum` multiply-adds.
    static func splitLayout(m: Int, n: Int, k: Int) -> (alongN: Bool, width: Int, blocks: Int) {
        let alongN = n >= m, extent = alongN ? n : m
        var count = 1
        while count < maxSplitBlocks && extent / (2 * count) >= minSplitWidth
                && m * n * k / (2 * count) >= splitMinimum / 2 {
            count *= 2
        }
        let width = ((extent + count - 1) / count + 15) / 16 * 16
        return (alongN, width, (extent + width - 1) / width)
    }

    /// See `splitLayout`.
    static let maxSplitBlocks = 8
    static let minSplitWidth = 128

    /// C cut into the blocks of `splitLayout`, each a single-threaded OpenBLAS call, the blocks dealt to
    /// the engine's threads (one after the other on one thread).
    static func splitGEMM(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        let (alongN, width, blocks) = splitLayout(m: m, n: n, k: k)
        Parallel.forEachBlock(blocks) { part, _ in
            sgemmBlock(alongN: alongN, first: part * width, width: width, transA: transA, transB: transB, m: m, n: n, k: k,
                       alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
        }
    }

    /// One block of a split GEMM: columns (`alongN`) or rows first ..< first + width of C (fewer at the end).
    @inline(__always)
    static func sgemmBlock(
        alongN: Bool, first: Int, width: Int, transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        let count = min(alongN ? n : m, first + width) - first
        if alongN {  // columns first ..< first + count of op(B) and C
            sgemm(transA: transA, transB: transB, m: m, n: count, k: k, alpha: alpha, a: a, lda: lda,
                  b: transB ? b + first * ldb : b + first, ldb: ldb, beta: beta, c: c + first, ldc: ldc)
        } else {  // rows first ..< first + count of op(A) and C
            sgemm(transA: transA, transB: transB, m: count, n: n, k: k, alpha: alpha,
                  a: transA ? a + first : a + first * lda, lda: lda, b: b, ldb: ldb, beta: beta,
                  c: c + first * ldc, ldc: ldc)
        }
    }

    /// One cblas_sgemm call, on as many threads as OpenBLAS is set to (one, unless `Parallel.gemmThreading`
    /// is `.openBLAS`): no splitting.
    @inline(__always)
    public static func sgemm(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        cblas_sgemm(
            CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// sums[j] += Σ_r x[r, j], row by row (so each column is summed in row order) over a block of
    /// columns per thread.
    static func addColumnSums(_ x: UnsafePointer<Float>, rows: Int, columns: Int, into sums: UnsafeMutablePointer<Float>) {
        let w = Kernels.vectorWidth, vectors = columns / w
        Parallel.forChunks(vectors, grain: max(1, 65_536 / max(rows * w, 1))) { range in
            for r in 0..<rows {
                let row = x + r * columns
                for q in range {
                    Kernels.storeVector(Kernels.loadVector(sums + w * q) + Kernels.loadVector(row + w * q), sums + w * q)
                }
            }
        }
        for j in (vectors * w)..<columns {
            for r in 0..<rows { sums[j] += x[r * columns + j] }
        }
    }

    /// Sum of x in double precision.
    public static func sum(_ x: UnsafePointer<Float>, count: Int) -> Double {
        var s = 0.0
        for i in 0..<count { s += Double(x[i]) }
        return s
    }
}

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
        if Parallel.threadCount > 1 && openblas_get_num_threads() > 1 { Parallel.yieldCores() }  // OpenBLAS's threads need both cores
        cblas_sgemm(
            CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// Sum of x in double precision.
    public static func sum(_ x: UnsafePointer<Float>, count: Int) -> Double {
        var s = 0.0
        for i in 0..<count { s += Double(x[i]) }
        return s
    }
}

import CBLAS
import CLAPACK

/// Double-precision dense linear algebra from OpenBLAS (BLAS and its bundled LAPACK), for the analyses that
/// hold a full Hessian (`adai-bench noise`): row-major matrices, sizes as Int.
public enum DoubleLinearAlgebra {
    /// C ← α·op(A)·op(B) + β·C, row-major; op(X) = Xᵀ when `transposeX`. op(A) is m × k, op(B) k × n, C m × n.
    public static func gemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Double,
                            _ a: UnsafePointer<Double>, lda: Int, _ b: UnsafePointer<Double>, ldb: Int,
                            beta: Double, _ c: UnsafeMutablePointer<Double>, ldc: Int) {
        cblas_dgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// y ← α·x + y over n contiguous elements.
    public static func axpy(count n: Int, alpha: Double, _ x: UnsafePointer<Double>, _ y: UnsafeMutablePointer<Double>) {
        cblas_daxpy(Int32(n), alpha, x, 1, y, 1)
    }

    /// A symmetric matrix's eigenvalues (ascending) and eigenvectors (row i of `vectors`, row-major n × n, is the
    /// eigenvector of `values[i]`), by LAPACK's dsyevd, with LAPACK's info code (0: success).
    public static func symmetricEigen(_ matrix: [Double], dimension n: Int) -> (values: [Double], vectors: [Double], info: Int) {
        precondition(n >= 1 && matrix.count == n * n)
        var a = matrix  // symmetric: row-major and column-major agree
        var w = [Double](repeating: 0, count: n)
        var nn = Int32(n), lda = Int32(n), info: Int32 = 0
        var lwork: Int32 = -1, liwork: Int32 = -1
        var workQuery = [Double](repeating: 0, count: 1), iworkQuery = [Int32](repeating: 0, count: 1)
        dsyevd_("V", "U", &nn, &a, &lda, &w, &workQuery, &lwork, &iworkQuery, &liwork, &info)
        if info == 0 {
            lwork = Int32(workQuery[0]); liwork = iworkQuery[0]
            var work = [Double](repeating: 0, count: Int(lwork)), iwork = [Int32](repeating: 0, count: Int(liwork))
            dsyevd_("V", "U", &nn, &a, &lda, &w, &work, &lwork, &iwork, &liwork, &info)
        }
        // Column j of the column-major result is eigenvector j: in row-major storage that is row j.
        return (w, a, Int(info))
    }
}

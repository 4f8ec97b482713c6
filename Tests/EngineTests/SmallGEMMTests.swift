import Engine
import XCTest

/// The packed small-M GEMM of the LSTM recurrence against a plain Float64 product.
final class SmallGEMMTests: XCTestCase {
    func testMatchesDoublePrecisionProduct() {
        var rng = RandomGenerator(seed: 7)
        // m: partial and full 5-row blocks; n: partial and full 16-column panels; transposed and not;
        // row strides wider than the rows; accumulating into C and overwriting it.
        let cases: [(m: Int, n: Int, k: Int, transposed: Bool, accumulate: Bool)] = [
            (1, 1, 1, false, false), (3, 7, 5, true, false), (5, 16, 9, false, false), (7, 33, 17, true, true),
            (20, 64, 40, true, false), (20, 48, 31, false, true), (11, 20, 64, false, false), (13, 100, 37, true, true),
        ]
        for (m, n, k, transposed, accumulate) in cases {
            let lda = k + 3, ldb = (transposed ? k : n) + 2, ldc = n + 5
            let a = Tensor(uninitializedShape: [m * lda]), b = Tensor(uninitializedShape: [(transposed ? n : k) * ldb])
            let c = Tensor(uninitializedShape: [m * ldc])
            rng.fillNormal(a); rng.fillNormal(b); rng.fillNormal(c)
            let before = c.array
            let packed = PackedGEMMOperand(b: b.data, ldb: ldb, k: k, n: n, transposed: transposed)
            SmallGEMM.multiply(m: m, a: a.data, lda: lda, b: packed, c: c.data, ldc: ldc, accumulate: accumulate)
            let what = "m \(m) n \(n) k \(k)\(transposed ? " transposed" : "")\(accumulate ? " accumulate" : "")"
            for i in 0..<m {
                for j in 0..<n {
                    var expected = accumulate ? Double(before[i * ldc + j]) : 0
                    for kk in 0..<k {
                        let bv = transposed ? b.data[j * ldb + kk] : b.data[kk * ldb + j]
                        expected += Double(a.data[i * lda + kk]) * Double(bv)
                    }
                    XCTAssertEqual(Double(c.data[i * ldc + j]), expected, accuracy: 1e-5 * Double(k).squareRoot() * 4,
                                   "\(what): C[\(i), \(j)]")
                }
                // The padding between rows of C is left alone.
                for j in n..<ldc {
                    XCTAssertEqual(c.data[i * ldc + j], before[i * ldc + j], "\(what): C's row padding at [\(i), \(j)] was written")
                }
            }
        }
    }
}

// GEMMs with few rows of A against a B operand packed once and reused by many calls: the
// recurrent step of an LSTM, h_{t−1} [B, H] · W_hhᵀ, has B = 20 rows and the same W_hh at every
// one of the 35 steps of a window. OpenBLAS repacks B on every call (about a third of such a
// call's time) and its kernels are tuned for larger M; here B is packed once per sequence into
// panels of 16 columns, each panel [k, 16] contiguous, and a kernel keeps a 5 × 16 block of C in
// registers while it runs down k. `engine-bench --lstm-only` compares it with cblas_sgemm: on the
// PTB model's shapes, single-threaded, ~97 GFLOP/s against OpenBLAS's 59–70 (AVX2 host).

/// op(B) [k, n] of C = A · op(B), packed for `SmallGEMM.multiply`: allocated by `init(k:n:)`,
/// filled by one of the `pack` methods (which may run on another thread than the one that allocated it).
public struct PackedGEMMOperand {
    /// Columns per panel.
    public static let panelWidth = 16
    public let k: Int
    public let n: Int
    /// ⌈n / 16⌉ panels of [k, 16] floats; the last panel's columns past n are zeros.
    let storage: Tensor

    var panels: Int { (n + Self.panelWidth - 1) / Self.panelWidth }

    public init(k: Int, n: Int) {
        precondition(k > 0 && n > 0, "PackedGEMMOperand: k = \(k) and n = \(n) must be positive")
        self.k = k
        self.n = n
        storage = Tensor(uninitializedShape: [(n + Self.panelWidth - 1) / Self.panelWidth, k, Self.panelWidth])
    }

    /// Packs op(B) [k, n] stored as B [k, n] (row stride `ldb`), or (`transposed`) as Bᵀ [n, k].
    public init(b: UnsafePointer<Float>, ldb: Int, k: Int, n: Int, transposed: Bool) {
        self.init(k: k, n: n)
        if transposed { pack(columns: { b + $0 * ldb }) } else { pack(rows: { b + $0 * ldb }) }
    }

    /// Packs op(B) given its rows: `row(i)` points at the n floats of row i.
    public func pack(rows row: (Int) -> UnsafePointer<Float>) {
        let w = Self.panelWidth
        for panel in 0..<panels {
            let first = panel * w, width = min(w, n - first)
            let dst = storage.data + panel * k * w
            for kk in 0..<k {
                (dst + kk * w).update(from: row(kk) + first, count: width)
                if width < w { (dst + kk * w + width).update(repeating: 0, count: w - width) }
            }
        }
    }

    /// Packs op(B) given its columns: `column(j)` points at the k floats of column j (a row of Bᵀ).
    public func pack(columns column: (Int) -> UnsafePointer<Float>) {
        let w = Self.panelWidth
        withUnsafeTemporaryAllocation(of: UnsafePointer<Float>.self, capacity: w) { sources in
            for panel in 0..<panels {
                let first = panel * w, width = min(w, n - first)
                for j in 0..<width { sources[j] = column(first + j) }
                let dst = storage.data + panel * k * w
                for kk in 0..<k {  // read the panel's columns side by side, write each packed row once
                    let row = dst + kk * w
                    for j in 0..<width { row[j] = sources[j][kk] }
                    if width < w { (row + width).update(repeating: 0, count: w - width) }
                }
            }
        }
    }
}

public enum SmallGEMM {
    typealias Lanes = SIMD8<Float>
    /// Rows of C per kernel call.
    static let blockRows = 5

    /// C [m, n] = A [m, k] · op(B) (plus C's old value when `accumulate`), single-threaded. A has row
    /// stride `lda`, C `ldc`.
    public static func multiply(m: Int, a: UnsafePointer<Float>, lda: Int, b: PackedGEMMOperand,
                                c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool = false) {
        let w = PackedGEMMOperand.panelWidth, k = b.k
        let packed = UnsafePointer(b.storage.data)
        // A partial last panel's block goes to `tile` first; only its valid columns are copied to C.
        withUnsafeTemporaryAllocation(of: Float.self, capacity: blockRows * w) { tile in
            for panel in 0..<b.panels {
                let first = panel * w, width = min(w, b.n - first)
                let p = packed + panel * k * w
                var row = 0
                while row < m {
                    let rows = min(blockRows, m - row)
                    let aRow = a + row * lda
                    if width == w {
                        block(rows: rows, k: k, a: aRow, lda: lda, panel: p, c: c + row * ldc + first, ldc: ldc, accumulate: accumulate)
                    } else {
                        let t = tile.baseAddress!
                        if accumulate {
                            for r in 0..<rows { (t + r * w).update(from: c + (row + r) * ldc + first, count: width) }
                        }
                        block(rows: rows, k: k, a: aRow, lda: lda, panel: p, c: t, ldc: w, accumulate: accumulate)
                        for r in 0..<rows { (c + (row + r) * ldc + first).update(from: t + r * w, count: width) }
                    }
                    row += rows
                }
            }
        }
        withExtendedLifetime(b.storage) {}
    }

    /// A block of up to 5 rows × 16 columns of C: ten vector accumulators, two loads of B and five
    /// broadcasts of A per step down k, which fits the sixteen vector registers of AVX2. Rows past
    /// `rows` read row 0 of A again (valid memory) and are not stored.
    @inline(__always)
    static func block(rows: Int, k: Int, a: UnsafePointer<Float>, lda: Int, panel: UnsafePointer<Float>,
                      c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
        let a0 = a, a1 = rows > 1 ? a + lda : a, a2 = rows > 2 ? a + 2 * lda : a
        let a3 = rows > 3 ? a + 3 * lda : a, a4 = rows > 4 ? a + 4 * lda : a
        var c00 = Lanes(), c01 = Lanes(), c10 = Lanes(), c11 = Lanes(), c20 = Lanes(), c21 = Lanes()
        var c30 = Lanes(), c31 = Lanes(), c40 = Lanes(), c41 = Lanes()
        var p = UnsafeRawPointer(panel)
        for kk in 0..<k {
            let b0 = p.loadUnaligned(as: Lanes.self), b1 = p.loadUnaligned(fromByteOffset: 32, as: Lanes.self)
            let x0 = Lanes(repeating: a0[kk]), x1 = Lanes(repeating: a1[kk]), x2 = Lanes(repeating: a2[kk])
            let x3 = Lanes(repeating: a3[kk]), x4 = Lanes(repeating: a4[kk])
            c00 = c00.addingProduct(x0, b0); c01 = c01.addingProduct(x0, b1)
            c10 = c10.addingProduct(x1, b0); c11 = c11.addingProduct(x1, b1)
            c20 = c20.addingProduct(x2, b0); c21 = c21.addingProduct(x2, b1)
            c30 = c30.addingProduct(x3, b0); c31 = c31.addingProduct(x3, b1)
            c40 = c40.addingProduct(x4, b0); c41 = c41.addingProduct(x4, b1)
            p += 64
        }
        @inline(__always)
        func store(_ row: UnsafeMutablePointer<Float>, _ v0: Lanes, _ v1: Lanes) {
            let r = UnsafeMutableRawPointer(row)
            if accumulate {
                let o = UnsafeRawPointer(row)
                r.storeBytes(of: v0 + o.loadUnaligned(as: Lanes.self), as: Lanes.self)
                r.storeBytes(of: v1 + o.loadUnaligned(fromByteOffset: 32, as: Lanes.self), toByteOffset: 32, as: Lanes.self)
            } else {
                r.storeBytes(of: v0, as: Lanes.self)
                r.storeBytes(of: v1, toByteOffset: 32, as: Lanes.self)
            }
        }
        store(c, c00, c01)
        if rows > 1 { store(c + ldc, c10, c11) }
        if rows > 2 { store(c + 2 * ldc, c20, c21) }
        if rows > 3 { store(c + 3 * ldc, c30, c31) }
        if rows > 4 { store(c + 4 * ldc, c40, c41) }
    }
}

import CBLAS
import Dispatch
import Foundation

// Winograd convolution F(m×m, 3×3) for 3×3, stride-1 layers (Lavin & Gray 2016), with m = 2 or 4.
//
// The output is cut into m×m tiles; each needs the α×α input patch around it (α = m + 2). For one
// input channel c and one tile p the patch d is transformed to V = Bᵀ d B, for one output channel
// k the kernel g to U = G g Gᵀ, and the output tile is Aᵀ M A with M = Σ_c U_kc ⊙ V_cp. Summing
// over channels position by position turns the convolution into α² independent GEMMs, one per
// position t of the transform: M_t [P × K] = V_t [P × C] · U_tᵀ (P = tiles), with α²
// multiplications per m² outputs instead of 9 m² (2.25× fewer for m = 2, 4× for m = 4).
// Padding taps outside the image are zeros in the patch; output positions outside the image
// are dropped.
//
// The backward pass is the exact adjoint of those linear maps: dM = A dY Aᵀ, then
// dV_t = dM_t U_t (scattered back as dX += B dV Bᵀ) and dU_t = dM_tᵀ V_t (folded back as
// dW += Gᵀ dU G).
//
// Layout: the transforms run on eight channels at once (SIMD8), so a chunk of images is first
// copied channels-last ([image, y, x, channel], channels padded with zeros to a multiple of 8)
// and V, M keep channels innermost: V [α², P, C8], M [α², P, K8]. Work is split by images: each
// thread owns a block of the batch, processes it in chunks that fit a fixed workspace, and runs
// single-threaded GEMMs.

/// One Winograd algorithm F(m×m, 3×3): m×m output tiles from (m+2)×(m+2) input patches, with
/// its 1-D transforms and their adjoints (vectors read with stride `s`, written with stride `t`).
protocol WinogradTiles {
    /// Output tile side m.
    static var m: Int { get }
    /// v = Bᵀ d (m+2 values)
    static func input(_ d: UnsafePointer<Winograd.Lanes>, _ s: Int, _ v: UnsafeMutablePointer<Winograd.Lanes>, _ t: Int)
    /// d = B v
    static func inputAdjoint(_ v: UnsafePointer<Winograd.Lanes>, _ s: Int, _ d: UnsafeMutablePointer<Winograd.Lanes>, _ t: Int)
    /// y = Aᵀ m (m+2 values in, m out)
    static func output(_ m: UnsafePointer<Winograd.Lanes>, _ s: Int, _ y: UnsafeMutablePointer<Winograd.Lanes>, _ t: Int)
    /// m = A y (m values in, m+2 out)
    static func outputAdjoint(_ y: UnsafePointer<Winograd.Lanes>, _ s: Int, _ m: UnsafeMutablePointer<Winograd.Lanes>, _ t: Int)
    /// u = G g (3 scalars in, m+2 out)
    static func kernel(_ g: UnsafePointer<Float>, _ s: Int, _ u: UnsafeMutablePointer<Float>, _ t: Int)
    /// g = Gᵀ u (m+2 scalars in, 3 out)
    static func kernelAdjoint(_ u: UnsafePointer<Float>, _ s: Int, _ g: UnsafeMutablePointer<Float>, _ t: Int)
}

extension WinogradTiles {
    /// Input patch side m+2 and transform positions (m+2)².
    static var alpha: Int { m + 2 }
    static var positions: Int { alpha * alpha }
}

/// F(4×4, 3×3) with the interpolation points 0, ±1, ±2, ∞: 36 multiplications per 16 outputs.
enum F4x4: WinogradTiles {
    typealias Lanes = Winograd.Lanes
    static var m: Int { 4 }

    @inline(__always)
    static func input(_ d: UnsafePointer<Lanes>, _ s: Int, _ v: UnsafeMutablePointer<Lanes>, _ t: Int) {
        let d0 = d[0], d1 = d[s], d2 = d[2 * s], d3 = d[3 * s], d4 = d[4 * s], d5 = d[5 * s]
        v[0] = 4 * d0 - 5 * d2 + d4
        v[t] = d3 + d4 - 4 * (d1 + d2)
        v[2 * t] = 4 * (d1 - d2) - d3 + d4
        v[3 * t] = 2 * (d3 - d1) - d2 + d4
        v[4 * t] = 2 * (d1 - d3) - d2 + d4
        v[5 * t] = 4 * d1 - 5 * d3 + d5
    }

    @inline(__always)
    static func inputAdjoint(_ v: UnsafePointer<Lanes>, _ s: Int, _ d: UnsafeMutablePointer<Lanes>, _ t: Int) {
        let v0 = v[0], v1 = v[s], v2 = v[2 * s], v3 = v[3 * s], v4 = v[4 * s], v5 = v[5 * s]
        d[0] = 4 * v0
        d[t] = 4 * (v2 - v1 + v5) + 2 * (v4 - v3)
        d[2 * t] = -5 * v0 - 4 * (v1 + v2) - v3 - v4
        d[3 * t] = v1 - v2 + 2 * (v3 - v4) - 5 * v5
        d[4 * t] = v0 + v1 + v2 + v3 + v4
        d[5 * t] = v5
    }

    @inline(__always)
    static func output(_ m: UnsafePointer<Lanes>, _ s: Int, _ y: UnsafeMutablePointer<Lanes>, _ t: Int) {
        let m0 = m[0], m1 = m[s], m2 = m[2 * s], m3 = m[3 * s], m4 = m[4 * s], m5 = m[5 * s]
        let a = m1 + m2, b = m1 - m2, c = m3 + m4, e = m3 - m4
        y[0] = m0 + a + c
        y[t] = b + 2 * e
        y[2 * t] = a + 4 * c
        y[3 * t] = b + 8 * e + m5
    }

    @inline(__always)
    static func outputAdjoint(_ y: UnsafePointer<Lanes>, _ s: Int, _ m: UnsafeMutablePointer<Lanes>, _ t: Int) {
        let y0 = y[0], y1 = y[s], y2 = y[2 * s], y3 = y[3 * s]
        let even = y0 + y2, odd = y1 + y3, even4 = y0 + 4 * y2, odd8 = 2 * y1 + 8 * y3
        m[0] = y0
        m[t] = even + odd
        m[2 * t] = even - odd
        m[3 * t] = even4 + odd8
        m[4 * t] = even4 - odd8
        m[5 * t] = y3
    }

    // Multiplying by reciprocals: far cheaper than dividing in these scalar loops.
    @inline(__always)
    static func kernel(_ g: UnsafePointer<Float>, _ s: Int, _ u: UnsafeMutablePointer<Float>, _ t: Int) {
        let sixth: Float = 1.0 / 6, twelfth: Float = 1.0 / 12, twentyFourth: Float = 1.0 / 24
        let g0 = g[0], g1 = g[s], g2 = g[2 * s]
        let outer = g0 * twentyFourth + g2 * sixth, middle = g1 * twelfth
        u[0] = g0 * 0.25
        u[t] = -(g0 + g1 + g2) * sixth
        u[2 * t] = -(g0 - g1 + g2) * sixth
        u[3 * t] = outer + middle
        u[4 * t] = outer - middle
        u[5 * t] = g2
    }

    @inline(__always)
    static func kernelAdjoint(_ u: UnsafePointer<Float>, _ s: Int, _ g: UnsafeMutablePointer<Float>, _ t: Int) {
        let sixth: Float = 1.0 / 6, twelfth: Float = 1.0 / 12, twentyFourth: Float = 1.0 / 24
        let u0 = u[0], u1 = u[s], u2 = u[2 * s], u3 = u[3 * s], u4 = u[4 * s], u5 = u[5 * s]
        g[0] = u0 * 0.25 - (u1 + u2) * sixth + (u3 + u4) * twentyFourth
        g[t] = (u2 - u1) * sixth + (u3 - u4) * twelfth
        g[2 * t] = (u3 + u4 - u1 - u2) * sixth + u5
    }
}

/// F(2×2, 3×3) with the points 0, ±1, ∞: 16 multiplications per 4 outputs, with transforms of
/// only ±1 (and ½ for the kernel), so its rounding error stays close to a direct convolution's.
enum F2x2: WinogradTiles {
    typealias Lanes = Winograd.Lanes
    static var m: Int { 2 }

    @inline(__always)
    static func input(_ d: UnsafePointer<Lanes>, _ s: Int, _ v: UnsafeMutablePointer<Lanes>, _ t: Int) {
        let d0 = d[0], d1 = d[s], d2 = d[2 * s], d3 = d[3 * s]
        v[0] = d0 - d2
        v[t] = d1 + d2
        v[2 * t] = d2 - d1
        v[3 * t] = d1 - d3
    }

    @inline(__always)
    static func inputAdjoint(_ v: UnsafePointer<Lanes>, _ s: Int, _ d: UnsafeMutablePointer<Lanes>, _ t: Int) {
        let v0 = v[0], v1 = v[s], v2 = v[2 * s], v3 = v[3 * s]
        d[0] = v0
        d[t] = v1 - v2 + v3
        d[2 * t] = v1 + v2 - v0
        d[3 * t] = -v3
    }

    @inline(__always)
    static func output(_ m: UnsafePointer<Lanes>, _ s: Int, _ y: UnsafeMutablePointer<Lanes>, _ t: Int) {
        let m0 = m[0], m1 = m[s], m2 = m[2 * s], m3 = m[3 * s]
        y[0] = m0 + m1 + m2
        y[t] = m1 - m2 - m3
    }

    @inline(__always)
    static func outputAdjoint(_ y: UnsafePointer<Lanes>, _ s: Int, _ m: UnsafeMutablePointer<Lanes>, _ t: Int) {
        let y0 = y[0], y1 = y[s]
        m[0] = y0
        m[t] = y0 + y1
        m[2 * t] = y0 - y1
        m[3 * t] = -y1
    }

    @inline(__always)
    static func kernel(_ g: UnsafePointer<Float>, _ s: Int, _ u: UnsafeMutablePointer<Float>, _ t: Int) {
        let g0 = g[0], g1 = g[s], g2 = g[2 * s]
        u[0] = g0
        u[t] = (g0 + g1 + g2) * 0.5
        u[2 * t] = (g0 - g1 + g2) * 0.5
        u[3 * t] = g2
    }

    @inline(__always)
    static func kernelAdjoint(_ u: UnsafePointer<Float>, _ s: Int, _ g: UnsafeMutablePointer<Float>, _ t: Int) {
        let u0 = u[0], u1 = u[s], u2 = u[2 * s], u3 = u[3 * s]
        g[0] = u0 + (u1 + u2) * 0.5
        g[t] = (u1 - u2) * 0.5
        g[2 * t] = (u1 + u2) * 0.5 + u3
    }
}

public enum Winograd {
    typealias Lanes = SIMD8<Float>
    /// Channels per vector (8) and vectors of per-tile scratch space.
    static let lanes = 8, scratchVectors = 80

    /// The tile sizes: F(2×2, 3×3) or F(4×4, 3×3).
    public enum Tiles: String, CaseIterable, Sendable {
        case f2x2 = "F(2×2,3×3)", f4x4 = "F(4×4,3×3)"
    }
    /// Tiles of the forward pass, of the backward pass, and of a forward pass run without a tape
    /// (inference and evaluation). F(4×4) in the forward pass of training makes ~20× the rounding
    /// error of a direct convolution (~2e-5 relative); batch norm in training mode amplifies it
    /// through a deep network beyond the 1e-4 agreement with PyTorch that the model fixtures
    /// require (ResNet18: 5.8e-4), so training's forward pass uses F(2×2) (2.3e-6). The backward
    /// pass meets that agreement with F(4×4) (1.6e-6), and so does evaluation, where batch norm
    /// uses fixed running statistics (ResNet18 in evaluation mode: 3.8e-7).
    nonisolated(unsafe) public static var forwardTiles = Tiles.f2x2
    nonisolated(unsafe) public static var backwardTiles = Tiles.f4x4
    nonisolated(unsafe) public static var inferenceTiles = Tiles.f4x4

    /// F(2×2) where an output side is below 4: F(4×4) tiles would be mostly padding there (VGG's
    /// 2×2 layers: F(4×4) backward at 0.6× im2col's speed, F(2×2) fills its tiles exactly).
    static func fitted(_ tiles: Tiles, _ g: Conv2dGeometry) -> Tiles {
        tiles == .f4x4 && (g.outHeight < 4 || g.outWidth < 4) ? .f2x2 : tiles
    }

    /// Floats one thread's chunk may occupy (staging, V and M); bounds the workspace.
    nonisolated(unsafe) public static var workspaceFloatsPerThread = 6 << 20

    /// Whether a convolution can use Winograd: a 3×3 kernel at stride 1 (any padding).
    public static func applies(kernelH: Int, kernelW: Int, stride: Int) -> Bool {
        kernelH == 3 && kernelW == 3 && stride == 1
    }
    public static func applies(to g: Conv2dGeometry) -> Bool {
        applies(kernelH: g.kernelH, kernelW: g.kernelW, stride: g.stride)
    }

    /// Channel count rounded up to whole vectors.
    static func padded(_ channels: Int) -> Int { (channels + lanes - 1) / lanes * lanes }

    struct Plan<T: WinogradTiles> {
        let g: Conv2dGeometry
        let tilesH, tilesW: Int
        let c8, k8: Int          // padded input and output channels
        let chunk: Int           // images per chunk
        let chunks: Int          // chunks in the batch (the last one may be smaller)
        var tilesPerImage: Int { tilesH * tilesW }
        var stagingFloats: Int { chunk * max(g.height * g.width * c8, g.outPlane * k8) }
        var vFloats: Int { T.positions * chunk * tilesPerImage * c8 }
        var mFloats: Int { T.positions * chunk * tilesPerImage * k8 }
        var workspaceFloats: Int { stagingFloats + vFloats + mFloats + scratchVectors * lanes }

        /// `legacy` (`ReductionOrder.threadCountDependent`, a `bench --compare-reductions` baseline only):
        /// chunks as before the thread-count-invariant engine, as many images as fit the workspace, dealt
        /// to the threads by `legacyForEachChunk`.
        init(_ g: Conv2dGeometry, legacy: Bool = Parallel.legacyReductions) {
            self.g = g
            tilesH = (g.outHeight + T.m - 1) / T.m
            tilesW = (g.outWidth + T.m - 1) / T.m
            c8 = padded(g.inChannels); k8 = padded(g.outChannels)
            let tiles = tilesH * tilesW
            let perImage = T.positions * tiles * (c8 + k8) + max(g.height * g.width * c8, g.outPlane * k8)
            // The batch is cut into chunks by its shape alone (never by the thread count), so that the
            // GEMMs have the same shapes and the weight gradient the same sums on any number of threads:
            // a power of two in number (1, 2, 4, … threads share them evenly), at least 4 (when the batch
            // has that many images), each within the workspace.
            let fitting = max(1, min(g.batch, Winograd.workspaceFloatsPerThread / max(perImage, 1)))
            var count = 1
            while count * fitting < g.batch || (count < 4 && 2 * count <= g.batch) { count *= 2 }
            chunk = legacy ? fitting : (g.batch + count - 1) / count  // legacy: BenchmarkBaselines.swift
            chunks = (g.batch + chunk - 1) / chunk
        }
    }

    // MARK: Weights

    /// U[t, k, c] = (G w[k, c] Gᵀ)[t] for w [K, C, 3, 3]; U is [positions, K, C8], zero in the padding
    /// channels. Each output channel's rows are built in a local buffer and copied out whole, so the
    /// writes to U run along its rows.
    static func transformWeights<T>(_ w: UnsafePointer<Float>, _ plan: Plan<T>, _ u: UnsafeMutablePointer<Float>) {
        let (kOut, cIn, c8, alpha, positions) = (plan.g.outChannels, plan.g.inChannels, plan.c8, T.alpha, T.positions)
        let stride = kOut * c8
        Parallel.forEach(kOut, cost: cIn * 200) { k in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: 3 * alpha + positions + positions * c8) { scratch in
                let half = scratch.baseAddress!, full = half + 3 * alpha, rows = full + positions
                rows.update(repeating: 0, count: positions * c8)
                for c in 0..<cIn {
                    let g = w + (k * cIn + c) * 9
                    for col in 0..<3 { T.kernel(g + col, 3, half + col, 3) }                  // half [α, 3] = G g
                    for row in 0..<alpha { T.kernel(half + row * 3, 1, full + row * alpha, 1) }  // full = half Gᵀ
                    for t in 0..<positions { rows[t * c8 + c] = full[t] }
                }
                for t in 0..<positions { (u + t * stride + k * c8).update(from: rows + t * c8, count: c8) }
            }
        }
    }

    /// dw[k, c] += Gᵀ dU[·, k, c] G for dU [positions, K, C8] (reading each output channel's rows whole).
    static func accumulateWeightGradient<T>(_ du: UnsafePointer<Float>, _ plan: Plan<T>, _ dw: UnsafeMutablePointer<Float>) {
        let (kOut, cIn, c8, alpha, positions) = (plan.g.outChannels, plan.g.inChannels, plan.c8, T.alpha, T.positions)
        let stride = kOut * c8
        Parallel.forEach(kOut, cost: cIn * 200) { k in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: positions + 3 * alpha + 9 + positions * c8) { scratch in
                let full = scratch.baseAddress!, half = full + positions, g = half + 3 * alpha, rows = g + 9
                for t in 0..<positions { (rows + t * c8).update(from: du + t * stride + k * c8, count: c8) }
                for c in 0..<cIn {
                    for t in 0..<positions { full[t] = rows[t * c8 + c] }
                    for row in 0..<alpha { T.kernelAdjoint(full + row * alpha, 1, half + row * 3, 1) }  // [α, 3]
                    for col in 0..<3 { T.kernelAdjoint(half + col, 3, g + col, 3) }                     // [3, 3]
                    let dst = dw + (k * cIn + c) * 9
                    for i in 0..<9 { dst[i] += g[i] }
                }
            }
        }
    }

    // MARK: Channels-last staging

    /// dst[j, q, c] = src[first+j, c, q] for q in the plane, zero for c ≥ channels (up to c8).
    /// Whole 8-channel × 8-pixel blocks are transposed in registers; the rest element by element.
    static func stage(_ src: UnsafePointer<Float>, channels: Int, c8: Int, plane: Int, first: Int, count: Int,
                      _ dst: UnsafeMutablePointer<Float>) {
        let wholeQ = plane / lanes * lanes
        for j in 0..<count {
            let image = src + (first + j) * channels * plane, out = vectors(dst + j * plane * c8)
            for c0 in stride(from: 0, to: c8, by: lanes) {
                let live = min(lanes, channels - c0), block = c0 / lanes, blocks = c8 / lanes
                var q0 = 0
                if live == lanes {
                    while q0 < wholeQ {  // a_l = channel c0+l at pixels q0 ..< q0+8
                        let base = image + c0 * plane + q0
                        let a0 = load(base), a1 = load(base + plane), a2 = load(base + 2 * plane)
                        let a3 = load(base + 3 * plane), a4 = load(base + 4 * plane), a5 = load(base + 5 * plane)
                        let a6 = load(base + 6 * plane), a7 = load(base + 7 * plane)
                        for i in 0..<lanes {
                            out[(q0 + i) * blocks + block] = Lanes(a0[i], a1[i], a2[i], a3[i], a4[i], a5[i], a6[i], a7[i])
                        }
                        q0 += lanes
                    }
                }
                for q in q0..<plane {
                    var v = Lanes()
                    for l in 0..<live { v[l] = image[(c0 + l) * plane + q] }
                    out[q * blocks + block] = v
                }
            }
        }
    }

    /// dst[first+j, c, q] (=, or += when `accumulate`) src[j, q, c] for the first `channels` channels;
    /// the inverse of `stage`, with the same 8 × 8 register transposes.
    static func unstage(_ src: UnsafePointer<Float>, channels: Int, c8: Int, plane: Int, first: Int, count: Int,
                        _ dst: UnsafeMutablePointer<Float>, accumulate: Bool) {
        let wholeQ = plane / lanes * lanes
        for j in 0..<count {
            let image = dst + (first + j) * channels * plane, input = constVectors(src + j * plane * c8)
            for c0 in stride(from: 0, to: channels, by: lanes) {
                let live = min(lanes, channels - c0), block = c0 / lanes, blocks = c8 / lanes
                var q0 = 0
                if live == lanes {
                    while q0 < wholeQ {  // v_i = pixel q0+i, channels c0 ..< c0+8
                        let at = input + q0 * blocks + block
                        let v0 = at[0], v1 = at[blocks], v2 = at[2 * blocks], v3 = at[3 * blocks]
                        let v4 = at[4 * blocks], v5 = at[5 * blocks], v6 = at[6 * blocks], v7 = at[7 * blocks]
                        for l in 0..<lanes {
                            let row = Lanes(v0[l], v1[l], v2[l], v3[l], v4[l], v5[l], v6[l], v7[l])
                            let target = image + (c0 + l) * plane + q0
                            store(accumulate ? load(target) + row : row, target)
                        }
                        q0 += lanes
                    }
                }
                for q in q0..<plane {
                    let v = input[q * blocks + block]
                    if accumulate {
                        for l in 0..<live { image[(c0 + l) * plane + q] += v[l] }
                    } else {
                        for l in 0..<live { image[(c0 + l) * plane + q] = v[l] }
                    }
                }
            }
        }
    }

    @inline(__always) static func load(_ p: UnsafePointer<Float>) -> Lanes {
        UnsafeRawPointer(p).loadUnaligned(as: Lanes.self)
    }
    @inline(__always) static func load(_ p: UnsafeMutablePointer<Float>) -> Lanes { load(UnsafePointer(p)) }
    @inline(__always) static func store(_ v: Lanes, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: Lanes.self)
    }

    @inline(__always) static func vectors(_ p: UnsafeMutablePointer<Float>) -> UnsafeMutablePointer<Lanes> {
        UnsafeMutableRawPointer(p).assumingMemoryBound(to: Lanes.self)
    }
    @inline(__always) static func constVectors(_ p: UnsafePointer<Float>) -> UnsafePointer<Lanes> {
        UnsafeRawPointer(p).assumingMemoryBound(to: Lanes.self)
    }

    // MARK: Tile transforms (on staged, channels-last data)

    /// V[t, p, c] = (Bᵀ d B)[t] for the α×α patch d of tile p, all channels of the staged chunk xs.
    static func transformInput<T>(_ xs: UnsafePointer<Float>, _ plan: Plan<T>, count: Int, _ v: UnsafeMutablePointer<Float>,
                                  _ scratch: UnsafeMutablePointer<Float>) {
        let g = plan.g, (h, w, pad, alpha, m) = (g.height, g.width, g.padding, T.alpha, T.m)
        let blocks = plan.c8 / lanes, positionStride = count * plan.tilesPerImage * blocks
        let source = constVectors(xs), out = vectors(v)
        let patch = vectors(scratch), half = patch + 36, zero = half + 36
        zero.pointee = Lanes()
        for j in 0..<count {
            let image = source + j * h * w * blocks
            for ty in 0..<plan.tilesH {
                let y0 = ty * m - pad
                for tx in 0..<plan.tilesW {
                    let x0 = tx * m - pad, p = (j * plan.tilesH + ty) * plan.tilesW + tx
                    let inside = y0 >= 0 && y0 + alpha <= h && x0 >= 0 && x0 + alpha <= w
                    for b in 0..<blocks {
                        let d: UnsafePointer<Lanes>, rowStride: Int, colStride: Int
                        if inside {
                            d = image + (y0 * w + x0) * blocks + b; rowStride = w * blocks; colStride = blocks
                        } else {  // border tile: copy, with zeros outside the image
                            for r in 0..<alpha {
                                for q in 0..<alpha {
                                    let y = y0 + r, x = x0 + q
                                    patch[r * alpha + q] = (y >= 0 && y < h && x >= 0 && x < w) ? image[(y * w + x) * blocks + b] : zero.pointee
                                }
                            }
                            d = UnsafePointer(patch); rowStride = alpha; colStride = 1
                        }
                        for col in 0..<alpha { T.input(d + col * colStride, rowStride, half + col, alpha) }  // Bᵀ d
                        let dst = out + p * blocks + b
                        for row in 0..<alpha {  // (Bᵀ d) B, straight into V
                            T.input(half + row * alpha, 1, dst + row * alpha * positionStride, positionStride)
                        }
                    }
                }
            }
        }
    }

    /// dxs[j, patch of tile p, c] += (B dV[·, p, c] Bᵀ), clipped to the image (dxs staged, zeroed by the caller).
    static func accumulateInputGradient<T>(_ dv: UnsafePointer<Float>, _ plan: Plan<T>, count: Int,
                                           _ dxs: UnsafeMutablePointer<Float>, _ scratch: UnsafeMutablePointer<Float>) {
        let g = plan.g, (h, w, pad, alpha, m) = (g.height, g.width, g.padding, T.alpha, T.m)
        let blocks = plan.c8 / lanes, positionStride = count * plan.tilesPerImage * blocks
        let input = constVectors(dv), target = vectors(dxs)
        let half = vectors(scratch), patch = half + 36
        for j in 0..<count {
            let image = target + j * h * w * blocks
            for ty in 0..<plan.tilesH {
                let y0 = ty * m - pad
                for tx in 0..<plan.tilesW {
                    let x0 = tx * m - pad, p = (j * plan.tilesH + ty) * plan.tilesW + tx
                    let inside = y0 >= 0 && y0 + alpha <= h && x0 >= 0 && x0 + alpha <= w
                    for b in 0..<blocks {
                        let src = input + p * blocks + b
                        for row in 0..<alpha {
                            T.inputAdjoint(src + row * alpha * positionStride, positionStride, half + row * alpha, 1)
                        }
                        for col in 0..<alpha { T.inputAdjoint(half + col, alpha, patch + col, alpha) }
                        for r in 0..<alpha where inside || (y0 + r >= 0 && y0 + r < h) {
                            for q in 0..<alpha where inside || (x0 + q >= 0 && x0 + q < w) {
                                image[((y0 + r) * w + x0 + q) * blocks + b] += patch[r * alpha + q]
                            }
                        }
                    }
                }
            }
        }
    }

    /// ys[j, tile p, k] = Aᵀ M[·, p, k] A, clipped to the output plane (ys staged channels-last).
    static func transformOutput<T>(_ mm: UnsafePointer<Float>, _ plan: Plan<T>, count: Int, _ ys: UnsafeMutablePointer<Float>,
                                   _ scratch: UnsafeMutablePointer<Float>) {
        let g = plan.g, (oh, ow, alpha, m) = (g.outHeight, g.outWidth, T.alpha, T.m)
        let blocks = plan.k8 / lanes, positionStride = count * plan.tilesPerImage * blocks
        let input = constVectors(mm), target = vectors(ys)
        let half = vectors(scratch), tile = half + 24
        for j in 0..<count {
            let image = target + j * oh * ow * blocks
            for ty in 0..<plan.tilesH {
                let y0 = ty * m
                for tx in 0..<plan.tilesW {
                    let x0 = tx * m, p = (j * plan.tilesH + ty) * plan.tilesW + tx
                    let whole = y0 + m <= oh && x0 + m <= ow
                    for b in 0..<blocks {
                        let src = input + p * blocks + b
                        for row in 0..<alpha { T.output(src + row * alpha * positionStride, positionStride, half + row * m, 1) }
                        if whole {
                            let dst = image + (y0 * ow + x0) * blocks + b
                            for col in 0..<m { T.output(half + col, m, dst + col * blocks, ow * blocks) }
                        } else {
                            for col in 0..<m { T.output(half + col, m, tile + col, m) }
                            for r in 0..<min(m, oh - y0) {
                                for q in 0..<min(m, ow - x0) { image[((y0 + r) * ow + x0 + q) * blocks + b] = tile[r * m + q] }
                            }
                        }
                    }
                }
            }
        }
    }

    /// dM[·, p, k] = A dY_p Aᵀ from the staged dys, with dY zero outside the output plane.
    static func transformOutputGradient<T>(_ dys: UnsafePointer<Float>, _ plan: Plan<T>, count: Int,
                                           _ dm: UnsafeMutablePointer<Float>, _ scratch: UnsafeMutablePointer<Float>) {
        let g = plan.g, (oh, ow, alpha, m) = (g.outHeight, g.outWidth, T.alpha, T.m)
        let blocks = plan.k8 / lanes, positionStride = count * plan.tilesPerImage * blocks
        let source = constVectors(dys), out = vectors(dm)
        let tile = vectors(scratch), half = tile + 16, zero = half + 24
        zero.pointee = Lanes()
        for j in 0..<count {
            let image = source + j * oh * ow * blocks
            for ty in 0..<plan.tilesH {
                let y0 = ty * m
                for tx in 0..<plan.tilesW {
                    let x0 = tx * m, p = (j * plan.tilesH + ty) * plan.tilesW + tx
                    let whole = y0 + m <= oh && x0 + m <= ow
                    for b in 0..<blocks {
                        let d: UnsafePointer<Lanes>, rowStride: Int, colStride: Int
                        if whole {
                            d = image + (y0 * ow + x0) * blocks + b; rowStride = ow * blocks; colStride = blocks
                        } else {
                            for r in 0..<m {
                                for q in 0..<m {
                                    tile[r * m + q] = (y0 + r < oh && x0 + q < ow) ? image[((y0 + r) * ow + x0 + q) * blocks + b] : zero.pointee
                                }
                            }
                            d = UnsafePointer(tile); rowStride = m; colStride = 1
                        }
                        for col in 0..<m { T.outputAdjoint(d + col * colStride, rowStride, half + col, m) }  // [α, m]
                        let dst = out + p * blocks + b
                        for row in 0..<alpha {
                            T.outputAdjoint(half + row * m, 1, dst + row * alpha * positionStride, positionStride)
                        }
                    }
                }
            }
        }
    }

    // MARK: Passes

    /// Runs `body(chunk, images, workspace)` for every chunk of the plan (see `Plan.chunks`), the
    /// chunks dealt to the threads in increasing order, each thread with a private workspace and
    /// OpenBLAS single-threaded meanwhile.
    static func forEachChunk<T>(_ plan: Plan<T>, _ body: (Int, Range<Int>, UnsafeMutablePointer<Float>) -> Void) {
        // Every layer asks for the same size (unless one image alone needs more), so that the
        // buffer pool hands all layers one recycled workspace instead of keeping one per shape.
        let floats = max(plan.workspaceFloats, workspaceFloatsPerThread + scratchVectors * lanes)
        if Parallel.legacyReductions { return legacyForEachChunk(plan, workspaceFloats: floats, body) }  // bench only (BenchmarkBaselines.swift)
        let workspace = Tensor(uninitializedShape: [Parallel.blockParts(plan.chunks) * floats])
        Parallel.perThreadSection {
            Parallel.forEachBlock(plan.chunks) { c, part in
                body(c, (c * plan.chunk)..<min(plan.g.batch, (c + 1) * plan.chunk), workspace.data + part * floats)
            }
        }
    }

    /// y = conv(x, w) for a 3×3 stride-1 geometry (no bias; the caller adds it), with `tiles`
    /// (default: `forwardTiles`; F(2×2) instead of F(4×4) where an output side is below 4).
    public static func forward(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ g: Conv2dGeometry,
                               _ y: UnsafeMutablePointer<Float>, tiles: Tiles? = nil) {
        precondition(applies(to: g), "Winograd convolution needs a 3×3 kernel at stride 1")
        switch fitted(tiles ?? forwardTiles, g) {
        case .f2x2: forward(F2x2.self, x, w, g, y)
        case .f4x4: forward(F4x4.self, x, w, g, y)
        }
    }

    static func forward<T: WinogradTiles>(_: T.Type, _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
                                          _ g: Conv2dGeometry, _ y: UnsafeMutablePointer<Float>) {
        let plan = Plan<T>(g), (k8, c8, positions) = (plan.k8, plan.c8, T.positions)
        let u = Tensor(uninitializedShape: [positions * g.outChannels * c8])
        transformWeights(w, plan, u.data)
        forEachChunk(plan) { _, images, space in
            let staging = space, v = space + plan.stagingFloats, m = v + plan.vFloats, scratch = m + plan.mFloats
            do {
                let first = images.lowerBound, n = images.count, tiles = n * plan.tilesPerImage
                stage(x, channels: g.inChannels, c8: c8, plane: g.height * g.width, first: first, count: n, staging)
                transformInput(staging, plan, count: n, v, scratch)
                // M_t [P, K] = V_t [P, C8] · U_tᵀ (U_t [K, C8]). M's padding columns (K ..< K8) are never
                // written; they only reach the staging's padding channels, which `unstage` skips.
                for t in 0..<positions {
                    Kernels.gemm(transA: false, transB: true, m: tiles, n: g.outChannels, k: c8,
                                 a: v + t * tiles * c8, lda: c8, b: u.data + t * g.outChannels * c8, ldb: c8,
                                 c: m + t * tiles * k8, ldc: k8)
                }
                transformOutput(m, plan, count: n, staging, scratch)
                unstage(staging, channels: g.outChannels, c8: k8, plane: g.outPlane, first: first, count: n, y, accumulate: false)
            }
        }
    }

    /// Adds the input gradient into dx and the weight gradient into dw (either may be nil), with
    /// `tiles` (default: `backwardTiles`; fitted as in `forward`). Returns the wall time spent, split into the share for
    /// the weight gradient and for the input gradient (the shared transform of dy split evenly).
    @discardableResult
    public static func backward(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ dy: UnsafePointer<Float>,
                                _ g: Conv2dGeometry, dx: UnsafeMutablePointer<Float>?, dw: UnsafeMutablePointer<Float>?,
                                tiles: Tiles? = nil) -> (weights: Double, data: Double) {
        precondition(applies(to: g), "Winograd convolution needs a 3×3 kernel at stride 1")
        switch fitted(tiles ?? backwardTiles, g) {
        case .f2x2: return backward(F2x2.self, x, w, dy, g, dx: dx, dw: dw)
        case .f4x4: return backward(F4x4.self, x, w, dy, g, dx: dx, dw: dw)
        }
    }

    static func backward<T: WinogradTiles>(_: T.Type, _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
                                           _ dy: UnsafePointer<Float>, _ g: Conv2dGeometry, dx: UnsafeMutablePointer<Float>?,
                                           dw: UnsafeMutablePointer<Float>?) -> (weights: Double, data: Double) {
        if dx == nil && dw == nil { return (0, 0) }
        let start = DispatchTime.now().uptimeNanoseconds
        let plan = Plan<T>(g), (k8, c8, kOut, positions) = (plan.k8, plan.c8, g.outChannels, T.positions)
        let weightFloats = positions * kOut * c8
        let u = Tensor(uninitializedShape: [dx == nil ? 0 : weightFloats])
        if dx != nil { transformWeights(w, plan, u.data) }
        // One dU for all threads, each transform position's dU_t receiving the chunks' products in chunk
        // order (`order`: chunk c adds to dU_t once chunks 0 ..< c have), so that its sums do not depend on
        // the thread count or on which thread ran which chunk. A chunk adds first at the positions whose
        // turn has come and waits only when none has.
        let du = Tensor(zeros: [dw == nil ? 0 : weightFloats])
        let inTurn: (_ chunk: Int, _ gemm: (Int) -> Void) -> Void
        if Parallel.legacyReductions {  // bench only (BenchmarkBaselines.swift)
            inTurn = legacyInTurn(batch: g.batch, positions: positions, weightGradient: dw != nil)
        } else if #available(macOS 15.0, *) {
            let order = OrderedSteps(steps: dw == nil ? 0 : positions)
            inTurn = { chunk, gemm in order.inTurn(block: chunk, steps: positions, gemm) }
        } else {  // `forEachChunk` runs the chunks one after the other
            inTurn = { _, gemm in for t in 0..<positions { gemm(t) } }
        }
        // Chunk 0's time in the shared, weight-only and data-only phases, to split the wall time.
        var phase = (shared: UInt64(0), weights: UInt64(0), data: UInt64(0))
        forEachChunk(plan) { chunk, images, space in
            let staging = space, v = space + plan.stagingFloats, dm = v + plan.vFloats, scratch = dm + plan.mFloats
            var clock = DispatchTime.now().uptimeNanoseconds
            func lap(_ slot: WritableKeyPath<(shared: UInt64, weights: UInt64, data: UInt64), UInt64>) {
                guard chunk == 0 else { return }
                let now = DispatchTime.now().uptimeNanoseconds
                phase[keyPath: slot] += now - clock
                clock = now
            }
            do {
                let first = images.lowerBound, n = images.count, tiles = n * plan.tilesPerImage
                stage(dy, channels: kOut, c8: k8, plane: g.outPlane, first: first, count: n, staging)
                transformOutputGradient(staging, plan, count: n, dm, scratch)
                lap(\.shared)
                if dw != nil {  // dU_t [K, C8] += dM_tᵀ [K, P] · V_t [P, C8]
                    stage(x, channels: g.inChannels, c8: c8, plane: g.height * g.width, first: first, count: n, staging)
                    transformInput(staging, plan, count: n, v, scratch)
                    inTurn(chunk) { t in
                        Kernels.gemm(transA: true, transB: false, m: kOut, n: c8, k: tiles,
                                     a: dm + t * tiles * k8, lda: k8, b: v + t * tiles * c8, ldb: c8,
                                     beta: 1, c: du.data + t * kOut * c8, ldc: c8)
                    }
                    lap(\.weights)
                }
                if let dx {  // dV_t [P, C8] = dM_t [P, K] · U_t [K, C8], in V's space
                    for t in 0..<positions {
                        Kernels.gemm(transA: false, transB: false, m: tiles, n: c8, k: kOut,
                                     a: dm + t * tiles * k8, lda: k8, b: u.data + t * kOut * c8, ldb: c8,
                                     c: v + t * tiles * c8, ldc: c8)
                    }
                    staging.update(repeating: 0, count: n * g.height * g.width * c8)
                    accumulateInputGradient(v, plan, count: n, staging, scratch)
                    unstage(staging, channels: g.inChannels, c8: c8, plane: g.height * g.width, first: first, count: n,
                            dx, accumulate: true)
                    lap(\.data)
                }
            }
        }
        var foldNanos: UInt64 = 0
        if let dw {
            let foldStart = DispatchTime.now().uptimeNanoseconds
            accumulateWeightGradient(du.data, plan, dw)
            foldNanos = DispatchTime.now().uptimeNanoseconds - foldStart
        }
        let total = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let fold = Double(foldNanos) / 1e9, threaded = total - fold
        let measured = Double(phase.shared + phase.weights + phase.data)
        guard measured > 0 else { return (dw == nil ? 0 : total, dw == nil ? total : 0) }
        let sharedShare = dx == nil ? 1.0 : dw == nil ? 0.0 : 0.5
        let weightShare = (Double(phase.weights) + Double(phase.shared) * sharedShare) / measured
        return (threaded * weightShare + fold, threaded * (1 - weightShare))
    }
}

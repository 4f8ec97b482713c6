import CBLAS
import Dispatch

// 2-D convolution (cross-correlation, as in PyTorch) on NCHW tensors through im2col + SGEMM, or, for
// 3×3 stride-1 layers, through Winograd transforms (ConvWinograd.swift).
//
// Images are processed in chunks of `imagesPerChunk`: the chunk's patches are laid out as
// one [C·kh·kw, chunk·OH·OW] matrix so that each GEMM is large, while the matrix stays small
// enough to live in cache-friendly, reusable memory. A 1×1, stride-1, unpadded convolution
// on a single-image chunk uses the input directly as that matrix.

/// Geometry of one convolution.
public struct Conv2dGeometry: Equatable {
    public let batch, inChannels, height, width: Int
    public let outChannels, kernelH, kernelW, stride, padding: Int
    public var outHeight: Int { (height + 2 * padding - kernelH) / stride + 1 }
    public var outWidth: Int { (width + 2 * padding - kernelW) / stride + 1 }
    public var patchSize: Int { inChannels * kernelH * kernelW }
    public var outPlane: Int { outHeight * outWidth }
    public var isPointwise: Bool { kernelH == 1 && kernelW == 1 && stride == 1 && padding == 0 }
    /// Multiply-adds × 2 of the forward pass.
    public var forwardFlops: Double { 2 * Double(batch * outChannels * outPlane) * Double(patchSize) }

    /// Images per im2col chunk (batched strategy).
    public let imagesPerChunk: Int
    /// Strategy: give each thread whole images, one single-threaded GEMM per image (wide output
    /// planes, where one image's GEMM is already large), or batch `imagesPerChunk` images into one
    /// multi-threaded GEMM (narrow planes, where per-image GEMMs would be too small).
    public let imagesAcrossThreads: Bool
    /// Algorithm: Winograd (3×3 stride-1 layers with enough channels; tile sizes per pass in
    /// `Winograd`, the choice of layers in `ConvKernels.winogradPolicy`), else im2col + SGEMM.
    public let winograd: Bool

    /// `imagesPerChunk` defaults to as many images as fit a 4M-float (16 MB) patch matrix, at least one.
    public init(batch: Int, inChannels: Int, height: Int, width: Int, outChannels: Int,
                kernelH: Int, kernelW: Int, stride: Int, padding: Int, imagesPerChunk: Int? = nil,
                imagesAcrossThreads: Bool? = nil, winograd: Bool? = nil) {
        self.batch = batch; self.inChannels = inChannels; self.height = height; self.width = width
        self.outChannels = outChannels; self.kernelH = kernelH; self.kernelW = kernelW
        self.stride = stride; self.padding = padding
        let outPlane = ((height + 2 * padding - kernelH) / stride + 1) * ((width + 2 * padding - kernelW) / stride + 1)
        let perImage = max(inChannels * kernelH * kernelW * outPlane, 1)
        self.imagesPerChunk = max(1, min(batch, imagesPerChunk ?? (4 << 20) / perImage))
        self.imagesAcrossThreads = imagesAcrossThreads ?? (outPlane >= 64 && batch >= 2)
        let eligible = Winograd.applies(kernelH: kernelH, kernelW: kernelW, stride: stride)
        switch winograd.map({ $0 ? ConvKernels.WinogradPolicy.always : .never }) ?? ConvKernels.winogradPolicy {
        case .never: self.winograd = false
        case .always: self.winograd = eligible
        case .automatic: self.winograd = eligible && inChannels >= 16 && outChannels >= 16
        }
    }
}

public enum ConvKernels {
    /// Which 3×3 stride-1 convolutions use Winograd: `automatic` (those with at least 16 input
    /// and output channels, where the transform-domain GEMMs are large enough to pay off),
    /// `always`, or `never` (im2col + SGEMM everywhere, for comparisons).
    public enum WinogradPolicy: String, CaseIterable, Sendable { case automatic, always, never }
    nonisolated(unsafe) public static var winogradPolicy = WinogradPolicy.automatic

    @inline(__always)
    static func loop(_ count: Int, cost: Int, parallel: Bool, _ body: (Int) -> Void) {
        if parallel { Parallel.forEach(count, cost: cost, body) } else { for i in 0..<count { body(i) } }
    }

    /// Output columns `lo..<hi` whose input column `o·stride − padding + k` falls inside 0..<size.
    @inline(__always)
    static func validRange(size: Int, out: Int, k: Int, stride: Int, padding: Int) -> (Int, Int) {
        // need 0 <= o*stride - padding + k <= size-1
        let lowNum = padding - k
        var lo = lowNum <= 0 ? 0 : (lowNum + stride - 1) / stride
        let highNum = size - 1 + padding - k
        var hi = highNum < 0 ? 0 : highNum / stride + 1
        lo = min(lo, out); hi = min(max(hi, lo), out)
        return (lo, hi)
    }

    /// Patch matrix of images [first, first+count): col[(c,ki,kj), j·OHW + oh·OW + ow].
    public static func im2col(_ x: UnsafePointer<Float>, _ g: Conv2dGeometry, first: Int, count: Int,
                              _ col: UnsafeMutablePointer<Float>, parallel: Bool = true) {
        let kk = g.kernelH * g.kernelW, oh = g.outHeight, ow = g.outWidth, plane = g.height * g.width
        let rowLength = count * g.outPlane
        loop(g.patchSize, cost: rowLength, parallel: parallel) { r in
            let c = r / kk, ki = (r % kk) / g.kernelW, kj = r % g.kernelW
            let (wLo, wHi) = validRange(size: g.width, out: ow, k: kj, stride: g.stride, padding: g.padding)
            let (hLo, hHi) = validRange(size: g.height, out: oh, k: ki, stride: g.stride, padding: g.padding)
            let rowBase = col + r * rowLength
            for j in 0..<count {
                let src = x + ((first + j) * g.inChannels + c) * plane
                let dst = rowBase + j * g.outPlane
                for y in 0..<oh {
                    let d = dst + y * ow
                    if y < hLo || y >= hHi {
                        d.update(repeating: 0, count: ow)
                        continue
                    }
                    let srcRow = src + (y * g.stride - g.padding + ki) * g.width
                    if wLo > 0 { d.update(repeating: 0, count: wLo) }
                    if g.stride == 1 {
                        let offset = kj - g.padding
                        (d + wLo).update(from: srcRow + wLo + offset, count: wHi - wLo)
                    } else {
                        for o in wLo..<wHi { d[o] = srcRow[o * g.stride - g.padding + kj] }
                    }
                    if wHi < ow { (d + wHi).update(repeating: 0, count: ow - wHi) }
                }
            }
        }
    }

    /// Adds the patch-matrix gradient back onto the input gradient (the adjoint of im2col).
    public static func col2im(_ col: UnsafePointer<Float>, _ g: Conv2dGeometry, first: Int, count: Int,
                              _ dx: UnsafeMutablePointer<Float>, parallel: Bool = true) {
        let kk = g.kernelH * g.kernelW, oh = g.outHeight, ow = g.outWidth, plane = g.height * g.width
        let rowLength = count * g.outPlane
        // One channel per task: a channel's rows write only that channel's plane.
        loop(g.inChannels, cost: kk * rowLength, parallel: parallel) { c in
            for ki in 0..<g.kernelH {
                let (hLo, hHi) = validRange(size: g.height, out: oh, k: ki, stride: g.stride, padding: g.padding)
                for kj in 0..<g.kernelW {
                    let (wLo, wHi) = validRange(size: g.width, out: ow, k: kj, stride: g.stride, padding: g.padding)
                    let rowBase = col + (c * kk + ki * g.kernelW + kj) * rowLength
                    for j in 0..<count {
                        let dst = dx + ((first + j) * g.inChannels + c) * plane
                        let src = rowBase + j * g.outPlane
                        for y in hLo..<hHi {
                            let dRow = dst + (y * g.stride - g.padding + ki) * g.width
                            let s = src + y * ow
                            if g.stride == 1 {
                                let d = dRow + kj - g.padding
                                for o in wLo..<wHi { d[o] += s[o] }
                            } else {
                                for o in wLo..<wHi { dRow[o * g.stride - g.padding + kj] += s[o] }
                            }
                        }
                    }
                }
            }
        }
    }

    /// dst[c, j·plane + p] = src[(first+j), c, p]: gathers a chunk of NCHW images channel-major.
    public static func gatherChannelMajor(_ src: UnsafePointer<Float>, channels: Int, plane: Int, first: Int,
                                          count: Int, _ dst: UnsafeMutablePointer<Float>) {
        Parallel.forEach(channels, cost: count * plane) { c in
            for j in 0..<count {
                (dst + c * count * plane + j * plane).update(from: src + ((first + j) * channels + c) * plane, count: plane)
            }
        }
    }

    /// The inverse of `gatherChannelMajor`.
    public static func scatterChannelMajor(_ src: UnsafePointer<Float>, channels: Int, plane: Int, first: Int,
                                           count: Int, _ dst: UnsafeMutablePointer<Float>) {
        Parallel.forEach(channels, cost: count * plane) { c in
            for j in 0..<count {
                (dst + ((first + j) * channels + c) * plane).update(from: src + c * count * plane + j * plane, count: plane)
            }
        }
    }

    /// y = conv(x, w) (+ bias). x [N,C,H,W], w [O,C,kh,kw], y [N,O,OH,OW].
    /// `winogradTiles` overrides `Winograd.forwardTiles` for a Winograd geometry.
    public static func forward(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ bias: UnsafePointer<Float>?,
                               _ g: Conv2dGeometry, _ y: UnsafeMutablePointer<Float>, winogradTiles: Winograd.Tiles? = nil) {
        if g.winograd {
            Winograd.forward(x, w, g, y, tiles: winogradTiles)
        } else if g.imagesAcrossThreads {
            forwardImagesAcrossThreads(x, w, g, y)
        } else {
            forwardBatched(x, w, g, y)
        }
        if let bias {
            let plane = g.outPlane
            Parallel.forEach(g.batch * g.outChannels, cost: plane) { i in
                let b = bias[i % g.outChannels], row = y + i * plane
                for p in 0..<plane { row[p] += b }
            }
        }
    }

    /// Image b's patches as a [K, plane] matrix: the image itself for a 1×1 stride-1 convolution,
    /// else its im2col written into `col`.
    static func imagePatches(_ x: UnsafePointer<Float>, _ g: Conv2dGeometry, image b: Int,
                             into col: UnsafeMutablePointer<Float>) -> UnsafePointer<Float> {
        if g.isPointwise { return x + b * g.inChannels * g.outPlane }
        im2col(x, g, first: b, count: 1, col, parallel: false)
        return UnsafePointer(col)
    }

    /// Splits the batch into one contiguous block of images per thread and runs `body(thread, images)`
    /// with OpenBLAS single-threaded, so that the threads' GEMMs do not oversubscribe the cores.
    static func perThread(_ batch: Int, _ body: (Int, Range<Int>) -> Void) {
        let threads = min(Parallel.threadCount, batch)
        Parallel.perThreadSection {
            Parallel.run(parts: threads) { t in
                body(t, (t * batch / threads)..<((t + 1) * batch / threads))
            }
        }
    }

    static func forwardImagesAcrossThreads(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ g: Conv2dGeometry,
                                           _ y: UnsafeMutablePointer<Float>) {
        let k = g.patchSize, plane = g.outPlane, threads = min(Parallel.threadCount, g.batch)
        let cols = Tensor(uninitializedShape: [g.isPointwise ? 0 : threads * k * plane])
        perThread(g.batch) { t, images in
            let col = cols.data + t * k * plane
            for b in images {
                let patches = imagePatches(x, g, image: b, into: col)
                Kernels.gemm(transA: false, transB: false, m: g.outChannels, n: plane, k: k,
                             a: w, lda: k, b: patches, ldb: plane, c: y + b * g.outChannels * plane, ldc: plane)
            }
        }
    }

    static func forwardBatched(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
                               _ g: Conv2dGeometry, _ y: UnsafeMutablePointer<Float>) {
        let chunk = g.imagesPerChunk, k = g.patchSize, plane = g.outPlane
        let col = Tensor(uninitializedShape: [g.isPointwise && chunk == 1 ? 0 : k * chunk * plane])
        let tmp = Tensor(uninitializedShape: [chunk == 1 ? 0 : g.outChannels * chunk * plane])
        var first = 0
        while first < g.batch {
            let n = min(chunk, g.batch - first)
            let patches: UnsafePointer<Float>
            if g.isPointwise && n == 1 {
                patches = x + first * g.inChannels * plane
            } else if g.isPointwise {
                gatherChannelMajor(x, channels: g.inChannels, plane: plane, first: first, count: n, col.data)
                patches = UnsafePointer(col.data)
            } else {
                im2col(x, g, first: first, count: n, col.data)
                patches = UnsafePointer(col.data)
            }
            let out = n == 1 ? y + first * g.outChannels * plane : tmp.data
            Kernels.gemm(transA: false, transB: false, m: g.outChannels, n: n * plane, k: k,
                         a: w, lda: k, b: patches, ldb: n * plane, c: out, ldc: n * plane)
            if n > 1 { scatterChannelMajor(tmp.data, channels: g.outChannels, plane: plane, first: first, count: n, y) }
            first += n
        }
    }

    /// Given dy, adds the input gradient into dx (if any) and the weight gradient into dw (if any).
    public static func backward(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ dy: UnsafePointer<Float>,
                                _ g: Conv2dGeometry, dx: UnsafeMutablePointer<Float>?, dw: UnsafeMutablePointer<Float>?) {
        if g.winograd {
            Winograd.backward(x, w, dy, g, dx: dx, dw: dw)
        } else if g.imagesAcrossThreads {
            backwardImagesAcrossThreads(x, w, dy, g, dx: dx, dw: dw)
        } else {
            backwardBatched(x, w, dy, g, dx: dx, dw: dw)
        }
    }

    /// The weight gradient of `backwardImagesAcrossThreads` is summed over fixed groups of images:
    /// `groups` groups of `size` consecutive images (the last one smaller), a power of two in number,
    /// at most 16 and at most as many as fit `imageGroupFloats` floats of partial gradients (at least 4
    /// groups). Shape only: the same groups, so the same sums, whatever the thread count.
    static func imageGroups(batch: Int, weightCount: Int) -> (size: Int, groups: Int) {
        var count = 1
        while count < 16 && 2 * count <= batch && (count < 4 || 2 * count * weightCount <= imageGroupFloats) { count *= 2 }
        let size = (batch + count - 1) / count
        return (size, (batch + size - 1) / size)
    }

    /// The memory for the partial weight gradients of `imageGroups`, in floats (16 MB).
    static let imageGroupFloats = 4 << 20

    static func backwardImagesAcrossThreads(
        _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, _ g: Conv2dGeometry,
        dx: UnsafeMutablePointer<Float>?, dw: UnsafeMutablePointer<Float>?
    ) {
        if Parallel.legacyReductions { return legacyBackwardImagesAcrossThreads(x, w, dy, g, dx: dx, dw: dw) }  // bench only (BenchmarkBaselines.swift)
        let k = g.patchSize, plane = g.outPlane, weightCount = g.outChannels * k
        // Each group of images sums its weight gradient into its own buffer, image by image; the
        // groups' sums are then added to dw in group order (see `imageGroups`).
        let (size, groups) = imageGroups(batch: g.batch, weightCount: weightCount)
        let cols = Tensor(uninitializedShape: [g.isPointwise ? 0 : Parallel.blockParts(groups) * k * plane])
        let partialDw = Tensor(uninitializedShape: [dw == nil ? 0 : groups * weightCount])
        Parallel.perThreadSection {
            Parallel.forEachBlock(groups) { group, part in
                let col = cols.data + part * k * plane, groupDw = partialDw.data + group * weightCount
                let images = (group * size)..<min(g.batch, (group + 1) * size)
                for b in images {
                    let dyb = dy + b * g.outChannels * plane
                    if dw != nil {  // group's dw [O, K] (+)= dy_b [O, plane] × patchesᵀ [plane, K]
                        let patches = imagePatches(x, g, image: b, into: col)
                        Kernels.gemm(transA: false, transB: true, m: g.outChannels, n: k, k: plane, a: dyb, lda: plane,
                                     b: patches, ldb: plane, beta: b == images.lowerBound ? 0 : 1, c: groupDw, ldc: k)
                    }
                    guard let dx else { continue }
                    imageInputGradient(w, dyb, g, image: b, col: col, dx: dx)
                }
            }
        }
        if let dw { Kernels.addInOrder(dw, partialDw.data, parts: groups, stride: weightCount, count: weightCount) }
    }

    /// Image `b`'s input gradient from its output gradient `dyb`, on the calling thread: dx_b [C, plane] += wᵀ [C, O] ×
    /// dy_b [O, plane] straight into dx for a 1×1 convolution, else the patches' gradients into `col` and col2im.
    @inline(__always)
    static func imageInputGradient(_ w: UnsafePointer<Float>, _ dyb: UnsafePointer<Float>, _ g: Conv2dGeometry, image b: Int,
                                   col: UnsafeMutablePointer<Float>, dx: UnsafeMutablePointer<Float>) {
        let k = g.patchSize, plane = g.outPlane
        if g.isPointwise {
            Kernels.gemm(transA: true, transB: false, m: k, n: plane, k: g.outChannels, a: w, lda: k,
                         b: dyb, ldb: plane, beta: 1, c: dx + b * g.inChannels * plane, ldc: plane)
        } else {
            Kernels.gemm(transA: true, transB: false, m: k, n: plane, k: g.outChannels, a: w, lda: k,
                         b: dyb, ldb: plane, c: col, ldc: plane)
            col2im(col, g, first: b, count: 1, dx, parallel: false)
        }
    }

    static func backwardBatched(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ dy: UnsafePointer<Float>,
                                _ g: Conv2dGeometry, dx: UnsafeMutablePointer<Float>?, dw: UnsafeMutablePointer<Float>?) {
        let chunk = g.imagesPerChunk, k = g.patchSize, plane = g.outPlane
        let direct = g.isPointwise && chunk == 1
        let col = Tensor(uninitializedShape: [direct ? 0 : k * chunk * plane])
        let dyChunk = Tensor(uninitializedShape: [chunk == 1 ? 0 : g.outChannels * chunk * plane])
        var first = 0
        while first < g.batch {
            let n = min(chunk, g.batch - first)
            let cols = n * plane
            let dyc: UnsafePointer<Float>
            if n == 1 {
                dyc = dy + first * g.outChannels * plane
            } else {
                gatherChannelMajor(dy, channels: g.outChannels, plane: plane, first: first, count: n, dyChunk.data)
                dyc = UnsafePointer(dyChunk.data)
            }
            if let dw {  // dw [O, K] += dyc [O, cols] × patchesᵀ [cols, K]
                let patches: UnsafePointer<Float>
                if direct {
                    patches = x + first * g.inChannels * plane
                } else if g.isPointwise {
                    gatherChannelMajor(x, channels: g.inChannels, plane: plane, first: first, count: n, col.data)
                    patches = UnsafePointer(col.data)
                } else {
                    im2col(x, g, first: first, count: n, col.data)
                    patches = UnsafePointer(col.data)
                }
                Kernels.gemm(transA: false, transB: true, m: g.outChannels, n: k, k: cols, a: dyc, lda: cols,
                             b: patches, ldb: cols, beta: 1, c: dw, ldc: k)
            }
            if let dx {  // dpatches [K, cols] = wᵀ [K, O] × dyc [O, cols]
                if direct {
                    Kernels.gemm(transA: true, transB: false, m: k, n: cols, k: g.outChannels, a: w, lda: k,
                                 b: dyc, ldb: cols, beta: 1, c: dx + first * g.inChannels * plane, ldc: cols)
                } else {
                    Kernels.gemm(transA: true, transB: false, m: k, n: cols, k: g.outChannels, a: w, lda: k,
                                 b: dyc, ldb: cols, c: col.data, ldc: cols)
                    if g.isPointwise {
                        addChannelMajor(col.data, channels: g.inChannels, plane: plane, first: first, count: n, dx)
                    } else {
                        col2im(col.data, g, first: first, count: n, dx)
                    }
                }
            }
            first += n
        }
    }

    /// dst[(first+j), c, p] += src[c, j·plane + p]
    static func addChannelMajor(_ src: UnsafePointer<Float>, channels: Int, plane: Int, first: Int,
                                count: Int, _ dst: UnsafeMutablePointer<Float>) {
        Parallel.forEach(channels, cost: count * plane) { c in
            for j in 0..<count {
                let d = dst + ((first + j) * channels + c) * plane, s = src + c * count * plane + j * plane
                for p in 0..<plane { d[p] += s[p] }
            }
        }
    }
}

/// conv2d(x [N,C,H,W], weight [O,C,kh,kw], bias [O]?) with a square stride and zero padding.
public func conv2d(_ x: Variable, weight: Variable, bias: Variable? = nil, stride: Int = 1, padding: Int = 0) -> Variable {
    precondition(x.shape.count == 4 && weight.shape.count == 4 && x.shape[1] == weight.shape[1],
                 "conv2d: input \(x.shape) does not match weight \(weight.shape)")
    precondition(stride >= 1 && padding >= 0, "conv2d: stride \(stride), padding \(padding)")
    let g = Conv2dGeometry(batch: x.shape[0], inChannels: x.shape[1], height: x.shape[2], width: x.shape[3],
                           outChannels: weight.shape[0], kernelH: weight.shape[2], kernelW: weight.shape[3],
                           stride: stride, padding: padding)
    precondition(g.outHeight >= 1 && g.outWidth >= 1, "conv2d: kernel larger than padded input \(x.shape)")
    if let bias { precondition(bias.shape == [g.outChannels], "conv2d: bias \(bias.shape), expected [\(g.outChannels)]") }
    let y = Tensor(uninitializedShape: [g.batch, g.outChannels, g.outHeight, g.outWidth])
    Profiler.measure(.convForward) {
        // Without a tape (inference, evaluation) no gradient follows, so the faster F(4×4) tiles serve.
        ConvKernels.forward(x.value.data, weight.value.data, bias.map { UnsafePointer($0.value.data) }, g, y.data,
                            winogradTiles: Tape.active == nil ? Winograd.inferenceTiles : nil)
    }
    let xv = x.value, wv = weight.value
    var inputs = [x, weight]
    if let bias { inputs.append(bias) }
    return Tape.result(y, inputs: inputs, category: nil) { dy in  // times its own parts
        if g.winograd {  // one pass shares the transform of dy between both gradients
            let dw = weight.requiresGrad ? weight.gradBuffer() : nil
            let dx = x.requiresGrad ? Tensor(zeros: x.shape) : nil
            let seconds = Winograd.backward(xv.data, wv.data, dy.data, g, dx: dx?.data, dw: dw?.data)
            if Profiler.enabled {
                Profiler.add(.convBackwardWeights, nanoseconds: UInt64(seconds.weights * 1e9))
                Profiler.add(.convBackwardData, nanoseconds: UInt64(seconds.data * 1e9))
            }
            if let dx { x.accumulateGrad(dx, owned: true) }
        } else {
            if weight.requiresGrad {
                let dw = weight.gradBuffer()
                Profiler.measure(.convBackwardWeights) { ConvKernels.backward(xv.data, wv.data, dy.data, g, dx: nil, dw: dw.data) }
            }
            if x.requiresGrad {
                let dx = Tensor(zeros: x.shape)
                Profiler.measure(.convBackwardData) { ConvKernels.backward(xv.data, wv.data, dy.data, g, dx: dx.data, dw: nil) }
                x.accumulateGrad(dx, owned: true)
            }
        }
        if let bias, bias.requiresGrad {  // db[o] += Σ_{n,p} dy[n,o,p] (counted as weight gradient time)
            let start = Profiler.enabled ? DispatchTime.now().uptimeNanoseconds : 0
            let db = bias.gradBuffer()
            for o in 0..<g.outChannels {
                var s: Float = 0
                for n in 0..<g.batch {
                    let row = dy.data + (n * g.outChannels + o) * g.outPlane
                    for p in 0..<g.outPlane { s += row[p] }
                }
                db.data[o] += s
            }
            if Profiler.enabled { Profiler.add(.convBackwardWeights, nanoseconds: DispatchTime.now().uptimeNanoseconds - start) }
        }
    }
}

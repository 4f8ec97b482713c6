// Max and average pooling over NCHW tensors (square kernel, stride and zero/−∞ padding;
// output size ⌊(H + 2p − k)/s⌋ + 1, as PyTorch with ceil_mode=False).

/// The checked geometry of a pooling window over x: stride (default the kernel) and the output size.
private func poolGeometry(_ op: String, _ x: Variable, kernel: Int, stride: Int?, padding: Int)
    -> (n: Int, c: Int, h: Int, w: Int, stride: Int, oh: Int, ow: Int)
{
    let s = stride ?? kernel
    precondition(x.shape.count == 4, "\(op) expects [N,C,H,W], got \(x.shape)")
    precondition(kernel >= 1 && s >= 1 && padding >= 0 && padding * 2 <= kernel,
                 "\(op): kernel \(kernel), stride \(s), padding \(padding) (padding must be at most half the kernel)")
    let (h, w) = (x.shape[2], x.shape[3])
    let oh = (h + 2 * padding - kernel) / s + 1, ow = (w + 2 * padding - kernel) / s + 1
    precondition(oh >= 1 && ow >= 1, "\(op): kernel \(kernel) larger than input \(x.shape)")
    return (x.shape[0], x.shape[1], h, w, s, oh, ow)
}

/// Max pooling. Padding counts as −∞; the gradient goes to the first maximum of each window (in
/// row-major order).
///
/// The forward pass is separable: the maximum over each input row's window columns, once per input
/// row, then the maximum of those over the window rows (a loop along the output row). It keeps no
/// indices: backward finds each window's first element equal to its output again, so inference
/// allocates nothing beyond the output.
public func maxPool2d(_ x: Variable, kernel: Int, stride: Int? = nil, padding: Int = 0) -> Variable {
    Profiler.measure(.pooling) {
        let (n, c, h, w, s, oh, ow) = poolGeometry("maxPool2d", x, kernel: kernel, stride: stride, padding: padding)
        let y = Tensor(uninitializedShape: [n, c, oh, ow])
        let xv = x.value, px = xv.data, py = y.data
        Parallel.forEach(n * c, cost: oh * ow * kernel * kernel) { plane in
            let src = px + plane * h * w, dst = py + plane * oh * ow
            if s == 1 {
                MaxPoolKernels.forwardStride1(src: src, into: dst, h: h, w: w, oh: oh, ow: ow, kernel: kernel, padding: padding)
                return
            }
            withUnsafeTemporaryAllocation(of: Float.self, capacity: h * ow) { buffer in
                let rows = buffer.baseAddress!
                for r in 0..<h {  // rows[r, j] = max over the window columns of output column j
                    let line = src + r * w, out = rows + r * ow
                    for j in 0..<ow {
                        let w0 = j * s - padding
                        let b1 = min(w0 + kernel, w)
                        var b = max(w0, 0), best = line[b]
                        b += 1
                        while b < b1 { let v = line[b]; best = v > best ? v : best; b += 1 }
                        out[j] = best
                    }
                }
                for i in 0..<oh {  // dst[i, j] = max over the window rows (padding ≤ kernel/2: never empty)
                    let h0 = i * s - padding, a1 = min(h0 + kernel, h), d = dst + i * ow
                    let a0 = max(h0, 0)
                    d.update(from: rows + a0 * ow, count: ow)
                    for a in (a0 + 1)..<max(a1, a0 + 1) {
                        let row = rows + a * ow
                        for j in 0..<ow { let v = row[j]; d[j] = v > d[j] ? v : d[j] }
                    }
                }
            }
        }
        return Tape.result(y, inputs: [x], category: .pooling) { g in
            let dx = Tensor(zeros: x.shape)
            let pd = dx.data, pg = g.data
            Parallel.forEach(n * c, cost: oh * ow * kernel * kernel) { plane in
                let src = px + plane * h * w, out = py + plane * oh * ow
                let d = pd + plane * h * w, gg = pg + plane * oh * ow
                if s == 1 {
                    MaxPoolKernels.backwardStride1(src: src, output: out, gradOutput: gg, into: d, h: h, w: w,
                                                   oh: oh, ow: ow, kernel: kernel, padding: padding)
                    return
                }
                withUnsafeTemporaryAllocation(of: Int.self, capacity: ow) { buffer in
                    let index = buffer.baseAddress!
                    for i in 0..<oh {
                        let h0 = i * s - padding, target = out + i * ow
                        // Each output row's window positions scanned last-to-first without branches, so
                        // that `index` ends at the first maximum; the first valid element stands in
                        // where none equals the output (a NaN maximum).
                        for j in 0..<ow { index[j] = max(h0, 0) * w + max(j * s - padding, 0) }
                        for a in Swift.stride(from: min(h0 + kernel, h) - 1, through: max(h0, 0), by: -1) {
                            for b in Swift.stride(from: kernel - 1, through: 0, by: -1) {
                                let (lo, hi) = ConvKernels.validRange(size: w, out: ow, k: b, stride: s, padding: padding)
                                let line = src + a * w + b - padding, base = a * w + b - padding
                                for j in lo..<hi { index[j] = line[j * s] == target[j] ? base + j * s : index[j] }
                            }
                        }
                        for j in 0..<ow { d[index[j]] += gg[i * ow + j] }
                    }
                }
            }
            withExtendedLifetime((xv, y)) {}
            x.accumulateGrad(dx, owned: true)
        }
    }
}

enum MaxPoolKernels {
    typealias Floats = SIMD8<Float>
    typealias Offsets = SIMD8<Int32>

    /// Forward of one plane of a stride-1 max pool, separable like the general loop (the maximum
    /// over the window columns for every input row, then over the window rows), in whole vectors of
    /// eight: each input row is copied between −∞ borders (padding counts as −∞) and the per-row
    /// maxima are kept with rows rounded up to whole vectors, so that no tap leaves a scalar tail.
    static func forwardStride1(src: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>, h: Int, w: Int,
                               oh: Int, ow: Int, kernel: Int, padding: Int) {
        let columns = (ow + 7) / 8 * 8, width = columns + kernel
        withUnsafeTemporaryAllocation(of: Float.self, capacity: width + (h + 1) * columns) { buffer in
            // padded[padding + c] = x[r, c], −∞ around it; rows[r, j] = max over output column j's window columns
            let padded = buffer.baseAddress!, rows = padded + width, last = rows + h * columns
            padded.initialize(repeating: -.infinity, count: width)
            @inline(__always) func load(_ p: UnsafePointer<Float>) -> Floats { UnsafeRawPointer(p).loadUnaligned(as: Floats.self) }
            @inline(__always) func store(_ v: Floats, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: Floats.self) }
            for r in 0..<h {
                (padded + padding).update(from: src + r * w, count: w)
                let out = rows + r * columns
                for j in Swift.stride(from: 0, to: columns, by: 8) {
                    var best = Floats(repeating: -.infinity)
                    for b in 0..<kernel {
                        let v = load(padded + b + j)
                        best = best.replacing(with: v, where: v .> best)
                    }
                    store(best, out + j)
                }
            }
            for i in 0..<oh {  // the window rows' maxima (padding ≤ kernel/2: never empty)
                let a0 = max(i - padding, 0), a1 = min(i - padding + kernel, h)
                let full = ow / 8 * 8, d = dst + i * ow
                for j in Swift.stride(from: 0, to: columns, by: 8) {
                    var best = load(rows + a0 * columns + j)
                    for a in (a0 + 1)..<max(a1, a0 + 1) {
                        let v = load(rows + a * columns + j)
                        best = best.replacing(with: v, where: v .> best)
                    }
                    if j < full { store(best, d + j) } else {
                        store(best, last)
                        d.advanced(by: j).update(from: last, count: ow - j)
                    }
                }
            }
        }
    }

    /// Backward of one plane of a stride-1 max pool: the general loop's search for each window's
    /// first maximum (window positions scanned last to first, the first valid one standing in where
    /// none equals the output), eight output columns at a time, with the offsets kept as 32-bit
    /// lanes beside the float comparison; then d[first maximum] += g for every output. Each input
    /// row is copied between NaN borders first, and each output row into a buffer padded with NaN
    /// to whole vectors (NaN equals nothing, so no border position is ever taken): every kernel
    /// column then scans whole vectors, where the valid part of a row whose width is not a multiple
    /// of eight would leave up to seven columns per tap to a scalar tail.
    static func backwardStride1(src: UnsafePointer<Float>, output: UnsafePointer<Float>, gradOutput gg: UnsafePointer<Float>,
                                into d: UnsafeMutablePointer<Float>, h: Int, w: Int, oh: Int, ow: Int,
                                kernel: Int, padding: Int) {
        let columns = (ow + 7) / 8 * 8  // output columns rounded up to whole vectors
        let width = columns + kernel  // the padded input row, with room for the last vector of every kernel column
        withUnsafeTemporaryAllocation(of: Float.self, capacity: width + columns) { rowBuffer in
            withUnsafeTemporaryAllocation(of: Int32.self, capacity: columns) { indexBuffer in
                // padded[padding + c] = x[a, c], NaN around it; target[j] = y[i, j], NaN past the row's end
                let padded = rowBuffer.baseAddress!, target = padded + width, index = indexBuffer.baseAddress!
                rowBuffer.initialize(repeating: .nan)
                let lanes = Offsets(0, 1, 2, 3, 4, 5, 6, 7)
                for i in 0..<oh {
                    let h0 = i - padding
                    target.update(from: output + i * ow, count: ow)
                    for j in 0..<ow { index[j] = Int32(max(h0, 0) * w + max(j - padding, 0)) }
                    for a in Swift.stride(from: min(h0 + kernel, h) - 1, through: max(h0, 0), by: -1) {
                        (padded + padding).update(from: src + a * w, count: w)
                        for b in Swift.stride(from: kernel - 1, through: 0, by: -1) {
                            // line[j] = x[a, j + b − padding], NaN outside the row
                            let line = padded + b, base = a * w + b - padding
                            for j in Swift.stride(from: 0, to: columns, by: 8) {
                                let equal = UnsafeRawPointer(line + j).loadUnaligned(as: Floats.self)
                                    .== UnsafeRawPointer(target + j).loadUnaligned(as: Floats.self)
                                let slot = UnsafeMutableRawPointer(index + j)
                                let current = slot.loadUnaligned(as: Offsets.self)
                                slot.storeBytes(of: current.replacing(with: Offsets(repeating: Int32(base + j)) &+ lanes, where: equal),
                                                as: Offsets.self)
                            }
                        }
                    }
                    let g = gg + i * ow
                    for j in 0..<ow { d[Int(index[j])] += g[j] }
                }
            }
        }
    }
}

/// Average pooling; padded positions count in the divisor (PyTorch's count_include_pad=True).
public func avgPool2d(_ x: Variable, kernel: Int, stride: Int? = nil, padding: Int = 0) -> Variable {
    Profiler.measure(.pooling) {
        let (n, c, h, w, s, oh, ow) = poolGeometry("avgPool2d", x, kernel: kernel, stride: stride, padding: padding)
        let y = Tensor(uninitializedShape: [n, c, oh, ow])
        let px = x.value.data, py = y.data
        let inv = 1 / Float(kernel * kernel)
        Parallel.forEach(n * c, cost: oh * ow * kernel * kernel) { plane in
            let src = px + plane * h * w, dst = py + plane * oh * ow
            for i in 0..<oh {
                let h0 = i * s - padding
                for j in 0..<ow {
                    let w0 = j * s - padding
                    var acc: Float = 0
                    for a in max(h0, 0)..<min(h0 + kernel, h) {
                        for b in max(w0, 0)..<min(w0 + kernel, w) { acc += src[a * w + b] }
                    }
                    dst[i * ow + j] = acc * inv
                }
            }
        }
        return Tape.result(y, inputs: [x], category: .pooling) { g in
            let dx = Tensor(zeros: x.shape)
            let pd = dx.data, pg = g.data
            Parallel.forEach(n * c, cost: oh * ow * kernel * kernel) { plane in
                let d = pd + plane * h * w, gg = pg + plane * oh * ow
                for i in 0..<oh {
                    let h0 = i * s - padding
                    for j in 0..<ow {
                        let w0 = j * s - padding
                        let v = gg[i * ow + j] * inv
                        for a in max(h0, 0)..<min(h0 + kernel, h) {
                            for b in max(w0, 0)..<min(w0 + kernel, w) { d[a * w + b] += v }
                        }
                    }
                }
            }
            x.accumulateGrad(dx, owned: true)
        }
    }
}

/// Mean over each channel's whole plane: [N,C,H,W] → [N,C,1,1] (PyTorch's AdaptiveAvgPool2d(1)).
public func globalAvgPool2d(_ x: Variable) -> Variable {
    Profiler.measure(.pooling) {
        precondition(x.shape.count == 4, "globalAvgPool2d expects [N,C,H,W], got \(x.shape)")
        let (n, c, plane) = (x.shape[0], x.shape[1], x.shape[2] * x.shape[3])
        let y = Tensor(uninitializedShape: [n, c, 1, 1])
        let px = x.value.data, py = y.data
        let inv = 1 / Float(plane)
        Parallel.forEach(n * c, cost: plane) { i in
            var acc: Float = 0
            let src = px + i * plane
            for p in 0..<plane { acc += src[p] }
            py[i] = acc * inv
        }
        return Tape.result(y, inputs: [x], category: .pooling) { g in
            let dx = Tensor(uninitializedShape: x.shape)
            let pd = dx.data, pg = g.data
            Parallel.forEach(n * c, cost: plane) { i in
                (pd + i * plane).update(repeating: pg[i] * inv, count: plane)
            }
            x.accumulateGrad(dx, owned: true)
        }
    }
}

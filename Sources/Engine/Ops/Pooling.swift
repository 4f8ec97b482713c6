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

/// Max pooling. Padding counts as −∞; the gradient goes to the first maximum of each window.
public func maxPool2d(_ x: Variable, kernel: Int, stride: Int? = nil, padding: Int = 0) -> Variable {
    Profiler.measure(.pooling) {
        let (n, c, h, w, s, oh, ow) = poolGeometry("maxPool2d", x, kernel: kernel, stride: stride, padding: padding)
        let y = Tensor(uninitializedShape: [n, c, oh, ow])
        var argmax = [Int32](repeating: 0, count: y.count)
        let px = x.value.data, py = y.data
        argmax.withUnsafeMutableBufferPointer { am in
            let pa = am.baseAddress!
            Parallel.forEach(n * c, cost: oh * ow * kernel * kernel) { plane in
                let src = px + plane * h * w, dst = py + plane * oh * ow, arg = pa + plane * oh * ow
                for i in 0..<oh {
                    let h0 = i * s - padding
                    for j in 0..<ow {
                        let w0 = j * s - padding
                        var best = -Float.infinity
                        var bestIndex: Int32 = -1
                        for a in max(h0, 0)..<min(h0 + kernel, h) {
                            for b in max(w0, 0)..<min(w0 + kernel, w) {
                                let v = src[a * w + b]
                                if v > best || bestIndex < 0 { best = v; bestIndex = Int32(a * w + b) }
                            }
                        }
                        dst[i * ow + j] = best
                        arg[i * ow + j] = bestIndex
                    }
                }
            }
        }
        return Tape.result(y, inputs: [x], category: .pooling) { g in
            let dx = Tensor(zeros: x.shape)
            let pd = dx.data, pg = g.data
            argmax.withUnsafeBufferPointer { am in
                let pa = am.baseAddress!
                Parallel.forEach(n * c, cost: oh * ow) { plane in
                    let d = pd + plane * h * w, gg = pg + plane * oh * ow, arg = pa + plane * oh * ow
                    for o in 0..<(oh * ow) { d[Int(arg[o])] += gg[o] }
                }
            }
            x.accumulateGrad(dx, owned: true)
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

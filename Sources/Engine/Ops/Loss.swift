import Foundation

// Log-softmax and cross-entropy over the last dimension of [B, C] logits.

/// Numerically stable log-softmax over the last dimension of a [B, C] tensor.
public func logSoftmax(_ x: Variable) -> Variable {
    Profiler.measure(.loss) {
        precondition(x.shape.count == 2, "logSoftmax expects [batch, classes], got \(x.shape)")
        let rows = x.shape[0], cols = x.shape[1]
        let y = Tensor(uninitializedShape: x.shape)
        let px = x.value.data, py = y.data
        Parallel.forEach(rows, cost: cols) { r in
            let xr = px + r * cols, yr = py + r * cols
            var maxv = -Float.infinity
            for j in 0..<cols { maxv = max(maxv, xr[j]) }
            var s: Double = 0
            for j in 0..<cols { s += Double(Foundation.exp(xr[j] - maxv)) }
            let lse = maxv + Float(Foundation.log(s))
            for j in 0..<cols { yr[j] = xr[j] - lse }
        }
        return Tape.result(y, inputs: [x], category: .loss) { g in
            // dx = g - softmax * sum(g) per row
            let dx = Tensor(uninitializedShape: x.shape)
            let pg = g.data, pd = dx.data, py = y.data
            Parallel.forEach(rows, cost: cols) { r in
                let gr = pg + r * cols, yr = py + r * cols, dr = pd + r * cols
                var s: Float = 0
                for j in 0..<cols { s += gr[j] }
                for j in 0..<cols { dr[j] = gr[j] - Foundation.exp(yr[j]) * s }
            }
            x.accumulateGrad(dx, owned: true)
        }
    }
}

/// Mean over the batch of −log softmax(logits)[label]; logits [B, C], labels B class indices.
///
/// The gradient (softmax − onehot) / B is computed in the forward pass, where each row is still in
/// cache, and backward only scales it by the incoming gradient when that is not 1. Rows are spread
/// over the threads; within a row the passes run eight columns at a time with `Kernels.fastExp`
/// (the LSTM language model's rows have 10,000 columns).
public func crossEntropy(_ logits: Variable, labels: [Int32]) -> Variable {
    Profiler.measure(.loss) {
        precondition(logits.shape.count == 2 && logits.shape[0] == labels.count,
                     "crossEntropy: logits \(logits.shape) for \(labels.count) labels")
        let rows = logits.shape[0], cols = logits.shape[1]
        for (i, l) in labels.enumerated() {
            precondition(l >= 0 && Int(l) < cols, "crossEntropy: label \(l) of example \(i) is outside 0..<\(cols)")
        }
        let recording = Tape.active != nil && logits.requiresGrad
        // (softmax − onehot) / B, when a gradient will be needed.
        let gradient = Tensor(uninitializedShape: recording ? logits.shape : [0])
        let px = logits.value.data, pd = gradient.data
        let invRows = 1 / Float(max(rows, 1))
        var losses = [Double](repeating: 0, count: rows)
        losses.withUnsafeMutableBufferPointer { lossBuf in
            let lb = lossBuf.baseAddress!
            Parallel.forChunks(rows, grain: max(1, 16_384 / max(cols, 1))) { range in
                let scratch = Tensor(uninitializedShape: [recording ? 0 : cols])  // e^(x − max) of a row, without a tape
                for r in range {
                    let xr = px + r * cols
                    let er = recording ? pd + r * cols : scratch.data
                    let (maxv, s) = LossKernels.expRow(xr, er, count: cols)
                    lb[r] = -(Double(xr[Int(labels[r])] - maxv) - Foundation.log(s))
                    if recording {
                        LossKernels.scaleRow(er, by: Float(1 / s) * invRows, count: cols)
                        er[Int(labels[r])] -= invRows
                    }
                }
            }
        }
        let loss = losses.reduce(0, +) / Double(max(rows, 1))
        return Tape.result(Tensor(scalar: Float(loss)), inputs: [logits], category: .loss) { g in
            let scale = g.data[0], pd = gradient.data  // the captured tensor keeps the gradient alive
            if scale != 1 {
                Parallel.forChunks(gradient.count, grain: 65_536) { r in
                    LossKernels.scaleRow(pd + r.lowerBound, by: scale, count: r.count)
                }
            }
            logits.accumulateGrad(gradient, owned: true)
        }
    }
}

enum LossKernels {
    /// e[j] = e^(x[j] − max x) for one row; returns max x and Σ e (the sum in double precision,
    /// from `Kernels.vectorWidth`-wide float partial sums over blocks of 2,048 columns).
    static func expRow(_ x: UnsafePointer<Float>, _ e: UnsafeMutablePointer<Float>, count n: Int) -> (Float, Double) {
        let w = Kernels.vectorWidth, vectors = n / w
        var maxima = FloatVector(repeating: -.infinity)
        for q in 0..<vectors {
            let v = Kernels.loadVector(x + w * q)
            maxima.replace(with: v, where: v .> maxima)
        }
        var maxv = maxima.max()
        for j in (vectors * w)..<n { maxv = max(maxv, x[j]) }
        var total = 0.0
        var q = 0
        while q < vectors {
            let end = min(vectors, q + 256)
            var sums = FloatVector()
            while q < end {
                let v = Kernels.fastExp(Kernels.loadVector(x + w * q) - maxv)
                Kernels.storeVector(v, e + w * q)
                sums += v
                q += 1
            }
            total += Double(sums.sum())
        }
        for j in (vectors * w)..<n {
            e[j] = Kernels.fastExp(x[j] - maxv)
            total += Double(e[j])
        }
        return (maxv, total)
    }

    /// x[j] *= s
    static func scaleRow(_ x: UnsafeMutablePointer<Float>, by s: Float, count n: Int) {
        let w = Kernels.vectorWidth, vectors = n / w
        for q in 0..<vectors { Kernels.storeVector(Kernels.loadVector(x + w * q) * s, x + w * q) }
        for j in (vectors * w)..<n { x[j] *= s }
    }
}

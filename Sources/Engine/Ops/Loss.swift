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
public func crossEntropy(_ logits: Variable, labels: [Int32]) -> Variable {
    Profiler.measure(.loss) {
        precondition(logits.shape.count == 2 && logits.shape[0] == labels.count,
                     "crossEntropy: logits \(logits.shape) for \(labels.count) labels")
        let rows = logits.shape[0], cols = logits.shape[1]
        for (i, l) in labels.enumerated() {
            precondition(l >= 0 && Int(l) < cols, "crossEntropy: label \(l) of example \(i) is outside 0..<\(cols)")
        }
        let probs = Tensor(uninitializedShape: logits.shape)  // softmax, kept for backward
        let px = logits.value.data, pp = probs.data
        var losses = [Double](repeating: 0, count: rows)
        losses.withUnsafeMutableBufferPointer { lossBuf in
            let lb = lossBuf.baseAddress!
            Parallel.forEach(rows, cost: cols) { r in
                let xr = px + r * cols, pr = pp + r * cols
                var maxv = -Float.infinity
                for j in 0..<cols { maxv = max(maxv, xr[j]) }
                var s: Double = 0
                for j in 0..<cols {
                    let e = Double(Foundation.exp(xr[j] - maxv))
                    pr[j] = Float(e)
                    s += e
                }
                let inv = 1 / s
                for j in 0..<cols { pr[j] = Float(Double(pr[j]) * inv) }
                lb[r] = -(Double(xr[Int(labels[r])] - maxv) - Foundation.log(s))
            }
        }
        let loss = losses.reduce(0, +) / Double(max(rows, 1))
        return Tape.result(Tensor(scalar: Float(loss)), inputs: [logits], category: .loss) { g in
            // dlogits = (softmax − onehot) · g / B
            let scale = g.data[0] / Float(max(rows, 1))
            let dx = Tensor(uninitializedShape: logits.shape)
            let pd = dx.data, pp = probs.data  // captured tensor keeps the softmax alive
            for r in 0..<rows {
                let pr = pp + r * cols, dr = pd + r * cols
                for j in 0..<cols { dr[j] = pr[j] * scale }
                dr[Int(labels[r])] -= scale
            }
            logits.accumulateGrad(dx, owned: true)
        }
    }
}

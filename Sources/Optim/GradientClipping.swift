import Engine

/// Scales the gradients of `parameters` so that their global L2 norm is at most `maxNorm`, as
/// `torch.nn.utils.clip_grad_norm_` does: coefficient maxNorm/(norm + 1e-6), capped at 1.
/// Parameters without a gradient are ignored. Returns the norm before clipping.
@discardableResult
public func clipGradientNorm(_ parameters: [Variable], maxNorm: Double) -> Double {
    let gradients = parameters.compactMap(\.grad)
    var squares = 0.0
    for g in gradients {
        let x = g.data
        squares += Parallel.sumChunks(g.count) { r in
            var s = 0.0
            for i in r { s += Double(x[i]) * Double(x[i]) }
            return s
        }
    }
    let norm = Float(squares.squareRoot())
    let coefficient = min(Float(maxNorm) / (norm + Float(1e-6)), 1)
    if coefficient < 1 {
        for g in gradients {
            let x = g.data
            forEachChunk(g.count) { r in for i in r { x[i] = x[i] * coefficient } }
        }
    }
    return Double(norm)
}

extension Parallel {
    /// The sum of `body` over fixed blocks of 0..<count, added in block order: the same value
    /// whatever the thread count.
    static func sumChunks(_ count: Int, block: Int = 1 << 15, _ body: (Range<Int>) -> Double) -> Double {
        let blocks = (count + block - 1) / block
        guard blocks > 1 else { return count > 0 ? body(0..<count) : 0 }
        let partial = UnsafeMutableBufferPointer<Double>.allocate(capacity: blocks)
        defer { partial.deallocate() }
        forEach(blocks, cost: block) { b in partial[b] = body((b * block)..<min(count, (b + 1) * block)) }
        return partial.reduce(0, +)
    }
}

// Inverted dropout: in training, each element is kept with probability 1 − p and scaled by
// 1/(1 − p); in evaluation (or p = 0) it is the identity. The mask comes from `generator`.

public func dropout(_ x: Variable, p: Float, training: Bool, generator: inout RandomGenerator) -> Variable {
    Profiler.measure(.other) {
        precondition(p >= 0 && p < 1, "dropout: p must be in [0, 1), got \(p)")
        if !training || p == 0 { return x }
        let keep = Double(1 - p), scale = 1 / (1 - p)
        let mask = Tensor(uninitializedShape: x.shape)
        let pm = mask.data
        generator.fillBernoulli(pm, count: mask.count, p: keep, value: scale)
        let y = Tensor(uninitializedShape: x.shape)
        let px = x.value.data, py = y.data
        Parallel.forChunks(y.count, grain: 65_536) { r in for i in r { py[i] = px[i] * pm[i] } }
        return Tape.result(y, inputs: [x]) { g in
            let d = Tensor(uninitializedShape: x.shape)
            let pd = d.data, pg = g.data, pm = mask.data  // captured tensor keeps the mask alive
            Parallel.forChunks(d.count, grain: 65_536) { r in for i in r { pd[i] = pg[i] * pm[i] } }
            x.accumulateGrad(d, owned: true)
        }
    }
}

// Fixed masks broadcast along one axis (the AWD-LSTM's locked and word dropout): the mask is a constant, so
// only `x` gets a gradient, the same product with the mask. Both split the rows over the threads; each
// element is one product, so the result is the same at every thread count.

/// y[r, c] = x[r, c] · mask[c], x seen as [count / mask.count, mask.count] (row-major): one mask per row, e.g.
/// locked dropout's [B·D] mask at every time step of a [T, B·D] sequence.
public func mulColumns(_ x: Variable, _ mask: Tensor) -> Variable {
    let columns = mask.count
    precondition(columns > 0 && x.value.count % columns == 0,
                 "mulColumns: \(x.value.count) elements are not whole rows of the mask's \(columns)")
    let pm = mask.data
    return scaledRows(x, rows: x.value.count / columns, columns: columns, keeping: mask) { s, d, _ in
        for j in 0..<columns { d[j] = s[j] * pm[j] }
    }
}

/// y[r, c] = x[r, c] · scales[r], x seen as [scales.count, count / scales.count]: one factor per row, e.g. word
/// dropout's [V] mask over the [V, E] embedding matrix.
public func mulRows(_ x: Variable, _ scales: Tensor) -> Variable {
    let rows = scales.count
    precondition(rows > 0 && x.value.count % rows == 0, "mulRows: \(x.value.count) elements are not \(rows) whole rows")
    let columns = x.value.count / rows, ps = scales.data
    return scaledRows(x, rows: rows, columns: columns, keeping: scales) { s, d, row in
        let f = ps[row]
        for j in 0..<columns { d[j] = s[j] * f }
    }
}

/// The shared body of mulColumns and mulRows: `scaleRow(source, destination, row)` applied to every row of x, split
/// over the threads, forward and (the same product, the factors being constants) backward. `constant` is the
/// factors' tensor, captured so that it lives as long as the tape needs it.
private func scaledRows(_ x: Variable, rows: Int, columns: Int, keeping constant: Tensor,
                        _ scaleRow: @escaping (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void) -> Variable {
    Profiler.measure(.elementwise) {
        func apply(_ src: UnsafeMutablePointer<Float>, _ dst: UnsafeMutablePointer<Float>) {
            Parallel.forChunks(rows, grain: max(1, 65_536 / max(1, columns))) { r in
                for row in r { scaleRow(src + row * columns, dst + row * columns, row) }
            }
        }
        let y = Tensor(uninitializedShape: x.shape)
        apply(x.value.data, y.data)
        return Tape.result(y, inputs: [x], category: .elementwise) { g in
            _ = constant
            let d = Tensor(uninitializedShape: x.shape)
            apply(g.data, d.data)
            x.accumulateGrad(d, owned: true)
        }
    }
}

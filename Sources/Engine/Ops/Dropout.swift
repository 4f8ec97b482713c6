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

import Foundation

// Element-wise binary ops with NumPy broadcasting, unary activations, and full reductions.
// Same-shape and scalar operands take fast paths; other broadcasts use a general index walk.

/// Calls body(outIndex, aIndex, bIndex) for every element of the broadcast of shapes a and b.
private func forEachBroadcast(_ out: [Int], _ a: [Int], _ b: [Int], _ body: (Int, Int, Int) -> Void) {
    let sa = Shape.broadcastStrides(of: a, to: out)
    let sb = Shape.broadcastStrides(of: b, to: out)
    let rank = out.count
    let total = out.reduce(1, *)
    if total == 0 { return }
    var index = [Int](repeating: 0, count: rank)
    var ia = 0, ib = 0
    for i in 0..<total {
        body(i, ia, ib)
        var d = rank - 1
        while d >= 0 {
            index[d] += 1
            ia += sa[d]
            ib += sb[d]
            if index[d] < out[d] { break }
            ia -= sa[d] * out[d]
            ib -= sb[d] * out[d]
            index[d] = 0
            d -= 1
        }
    }
}

private enum BinaryKind { case add, sub, mul }

private func broadcastShape(_ a: Variable, _ b: Variable, _ op: String) -> [Int] {
    guard let s = Shape.broadcast(a.shape, b.shape) else {
        preconditionFailure("\(op): shapes \(a.shape) and \(b.shape) do not broadcast")
    }
    return s
}

private func binary(_ a: Variable, _ b: Variable, _ kind: BinaryKind, _ name: String) -> Variable {
    let outShape = broadcastShape(a, b, name)
    let y = Tensor(uninitializedShape: outShape)
    let pa = a.value.data, pb = b.value.data, py = y.data
    let f: (Float, Float) -> Float
    switch kind {
    case .add: f = { $0 + $1 }
    case .sub: f = { $0 - $1 }
    case .mul: f = { $0 * $1 }
    }
    if a.shape == outShape && b.shape == outShape {
        Parallel.forChunks(y.count, grain: 65_536) { r in for i in r { py[i] = f(pa[i], pb[i]) } }
    } else if b.count == 1 && a.shape == outShape {
        let s = pb[0]
        Parallel.forChunks(y.count, grain: 65_536) { r in for i in r { py[i] = f(pa[i], s) } }
    } else {
        forEachBroadcast(outShape, a.shape, b.shape) { i, ia, ib in py[i] = f(pa[ia], pb[ib]) }
    }
    let av = a.value, bv = b.value
    return Tape.result(y, inputs: [a, b], category: .elementwise) { g in
        let pg = g.data
        // da, db: gradient reduced over a's / b's broadcast dimensions.
        for (input, other, isFirst) in [(a, bv, true), (b, av, false)] where input.requiresGrad {
            let sign: Float = (kind == .sub && !isFirst) ? -1 : 1
            let po = other.data
            if input.shape == outShape && (kind != .mul || other.shape == outShape) {
                let d = Tensor(uninitializedShape: input.shape)
                let pd = d.data
                Parallel.forChunks(d.count, grain: 65_536) { r in
                    if kind == .mul { for i in r { pd[i] = pg[i] * po[i] } } else { for i in r { pd[i] = sign * pg[i] } }
                }
                input.accumulateGrad(d, owned: true)
            } else {
                let d = Tensor(zeros: input.shape)
                let pd = d.data
                let (sa, sb) = isFirst ? (input.shape, other.shape) : (other.shape, input.shape)
                forEachBroadcast(outShape, sa, sb) { i, ia, ib in
                    let mine = isFirst ? ia : ib, theirs = isFirst ? ib : ia
                    pd[mine] += kind == .mul ? pg[i] * po[theirs] : sign * pg[i]
                }
                input.accumulateGrad(d, owned: true)
            }
        }
    }
}

/// a + b with broadcasting.
public func add(_ a: Variable, _ b: Variable) -> Variable { Profiler.measure(.elementwise) { binary(a, b, .add, "add") } }
/// a - b with broadcasting.
public func sub(_ a: Variable, _ b: Variable) -> Variable { Profiler.measure(.elementwise) { binary(a, b, .sub, "sub") } }
/// a * b (element-wise) with broadcasting.
public func mul(_ a: Variable, _ b: Variable) -> Variable { Profiler.measure(.elementwise) { binary(a, b, .mul, "mul") } }

/// x * s for a constant s.
public func scale(_ x: Variable, _ s: Float) -> Variable {
    Profiler.measure(.elementwise) {
        let y = Tensor(uninitializedShape: x.shape)
        let px = x.value.data, py = y.data
        Parallel.forChunks(y.count, grain: 65_536) { r in for i in r { py[i] = px[i] * s } }
        return Tape.result(y, inputs: [x], category: .elementwise) { g in
            let d = Tensor(uninitializedShape: x.shape)
            let pg = g.data, pd = d.data
            Parallel.forChunks(d.count, grain: 65_536) { r in for i in r { pd[i] = pg[i] * s } }
            x.accumulateGrad(d, owned: true)
        }
    }
}

/// Applies `forward` element-wise; `backward(x, y, g)` gives the input gradient element.
private func unary(
    _ x: Variable, forward: @escaping (Float) -> Float, backward: @escaping (Float, Float, Float) -> Float
) -> Variable {
    let y = Tensor(uninitializedShape: x.shape)
    let px = x.value.data, py = y.data
    Parallel.forChunks(y.count, grain: 32_768) { r in for i in r { py[i] = forward(px[i]) } }
    let xv = x.value
    return Tape.result(y, inputs: [x], category: .activations) { g in
        let d = Tensor(uninitializedShape: x.shape)
        let pg = g.data, pd = d.data, px = xv.data, py = y.data
        Parallel.forChunks(d.count, grain: 32_768) { r in for i in r { pd[i] = backward(px[i], py[i], pg[i]) } }
        x.accumulateGrad(d, owned: true)
    }
}

/// max(x, 0); the gradient at exactly 0 is 0, as in PyTorch.
///
/// Backward needs only the mask x > 0, which is y > 0, so the tape keeps y (which the next op
/// usually keeps anyway) and not x; the gradient is written over the incoming one.
public func relu(_ x: Variable) -> Variable {
    Profiler.measure(.activations) {
        let y = Tensor(uninitializedShape: x.shape)
        let px = x.value.data, py = y.data
        Parallel.forChunks(y.count, grain: 32_768) { r in for i in r { py[i] = px[i] > 0 ? px[i] : 0 } }
        let sink = GradientSink(x)
        return Tape.result(y, inputs: [x], category: .activations) { g in
            // The tape hands each op the only reference to its output gradient, so it can be reused.
            let pg = g.data, py = y.data
            Parallel.forChunks(g.count, grain: 32_768) { r in for i in r { pg[i] = py[i] > 0 ? pg[i] : 0 } }
            sink.accumulate(g, owned: true)
        }
    }
}

/// 1 / (1 + exp(-x)), computed without overflow for large |x|.
public func sigmoid(_ x: Variable) -> Variable {
    Profiler.measure(.activations) {
        unary(x, forward: Kernels.sigmoid, backward: { _, y, g in g * y * (1 - y) })
    }
}

/// tanh(x)
public func tanh(_ x: Variable) -> Variable {
    Profiler.measure(.activations) {
        unary(x, forward: { Foundation.tanh($0) }, backward: { _, y, g in g * (1 - y * y) })
    }
}

extension Kernels {
    @inline(__always)
    public static func sigmoid(_ x: Float) -> Float {
        if x >= 0 { return 1 / (1 + Foundation.exp(-x)) }
        let e = Foundation.exp(x)
        return e / (1 + e)
    }
}

/// Sum of every element, as a scalar (shape []).
public func sum(_ x: Variable) -> Variable {
    Profiler.measure(.other) {
        let s = Kernels.sum(x.value.data, count: x.count)
        return Tape.result(Tensor(scalar: Float(s)), inputs: [x]) { g in
            x.accumulateGrad(Tensor(shape: x.shape, repeating: g.data[0]), owned: true)
        }
    }
}

/// Mean of every element, as a scalar (shape []).
public func mean(_ x: Variable) -> Variable {
    Profiler.measure(.other) {
        let n = Float(max(x.count, 1))
        let s = Kernels.sum(x.value.data, count: x.count)
        return Tape.result(Tensor(scalar: Float(s / Double(n))), inputs: [x]) { g in
            x.accumulateGrad(Tensor(shape: x.shape, repeating: g.data[0] / n), owned: true)
        }
    }
}

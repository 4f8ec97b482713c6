// One LSTM layer over a whole sequence as a single differentiable op.
//
// Recording every time step as separate ops (a linear for h·W_hhᵀ, four slices, three sigmoids,
// two tanh, products and sums) costs a dozen small passes per step and, in backward, one weight
// gradient GEMM per step with K = batch. Here a step is one GEMM plus one fused element-wise
// loop, and backward through time is one GEMM plus one fused loop per step; the weight gradient
// is a single GEMM over all steps after the loop.
//
// Layout (time-major, PyTorch gate order i, f, g, o):
//   projected [T·B, 4H]  x_t·W_ihᵀ + b_ih for every step (rows t·B ..< (t+1)·B are step t)
//   weightHH  [4H, H], biasHH [4H], h0 and c0 [B, H] (constants: no gradient flows into them)
//   a_t = projected_t + h_{t−1}·W_hhᵀ + b_hh
//   i = σ(a_i)  f = σ(a_f)  g = tanh(a_g)  o = σ(a_o)   c_t = f⊙c_{t−1} + i⊙g   h_t = o⊙tanh(c_t)
//   output: h_t for every step [T·B, H], and the last h and c as plain tensors.

/// The result of `lstmSequence`.
public struct LSTMSequenceOutput {
    /// h_t of every step, [T·B, H], time-major.
    public let hidden: Variable
    /// h and c after the last step, [B, H] each (plain tensors: the state carried to the next window).
    public let lastHidden: Tensor
    public let lastCell: Tensor
}

public func lstmSequence(projected: Variable, weightHH: Variable, biasHH: Variable, h0: Tensor, c0: Tensor,
                         steps: Int, batch: Int) -> LSTMSequenceOutput {
    let h = weightHH.shape.count == 2 ? weightHH.shape[1] : 0
    let g4 = 4 * h, rows = steps * batch
    precondition(steps > 0 && batch > 0 && h > 0 && weightHH.shape == [g4, h],
                 "lstmSequence: weight_hh \(weightHH.shape) must be [4H, H] with H > 0, and steps, batch > 0")
    precondition(projected.shape == [rows, g4], "lstmSequence: projected input \(projected.shape), expected [\(rows), \(g4)]")
    precondition(biasHH.shape == [g4], "lstmSequence: bias_hh \(biasHH.shape), expected [\(g4)]")
    precondition(h0.shape == [batch, h] && c0.shape == [batch, h],
                 "lstmSequence: initial state \(h0.shape) and \(c0.shape), expected [\(batch), \(h)]")

    // Saved for backward: the gate activations (overwriting the pre-activations), every c_t and tanh(c_t).
    let gates = Tensor(uninitializedShape: [rows, g4])
    let cells = Tensor(uninitializedShape: [rows, h])
    let tanhCells = Tensor(uninitializedShape: [rows, h])
    let hidden = Tensor(uninitializedShape: [rows, h])
    let pa = gates.data, pc = cells.data, ptc = tanhCells.data, ph = hidden.data
    let pp = projected.value.data, pw = weightHH.value.data, pb = biasHH.value.data

    for t in 0..<steps {
        let first = t * batch
        let hPrev = t == 0 ? h0.data : ph + (first - batch) * h
        let cPrev = t == 0 ? c0.data : pc + (first - batch) * h
        // a_t (without projected_t and b_hh, added in the loop below) = h_{t−1} [B, H] · W_hhᵀ [H, 4H]
        Profiler.measure(.linear) {
            Kernels.gemm(transA: false, transB: true, m: batch, n: g4, k: h, a: hPrev, lda: h,
                         b: pw, ldb: h, c: pa + first * g4, ldc: g4)
        }
        Profiler.measure(.activations) {
            for b in 0..<batch {
                let r = first + b
                LSTMKernels.cellForward(hidden: h, gates: pa + r * g4, projected: pp + r * g4, bias: pb,
                                        cPrev: cPrev + b * h, c: pc + r * h, tanhC: ptc + r * h, h: ph + r * h)
            }
        }
    }
    let lastHidden = Tensor(uninitializedShape: [batch, h]), lastCell = Tensor(uninitializedShape: [batch, h])
    lastHidden.data.update(from: ph + (rows - batch) * h, count: batch * h)
    lastCell.data.update(from: pc + (rows - batch) * h, count: batch * h)

    let weights = weightHH.value
    let output = Tape.result(hidden, inputs: [projected, weightHH, biasHH], category: nil) { gradOutput in
        // The closure holds the saved tensors (not just their pointers) until backward has run.
        let pa = gates.data, pc = cells.data, ptc = tanhCells.data, ph = hidden.data, pw = weights.data
        let dGates = Tensor(uninitializedShape: [rows, g4])  // ∂L/∂a_t for every step: also ∂L/∂projected
        let dhNext = Tensor(zeros: [batch, h])  // ∂L/∂h_t through step t+1 (the recurrent GEMM)
        let dcNext = Tensor(zeros: [batch, h])  // ∂L/∂c_t through step t+1
        let pdg = dGates.data, pgo = gradOutput.data, pdh = dhNext.data, pdc = dcNext.data
        for t in stride(from: steps - 1, through: 0, by: -1) {
            let first = t * batch
            let cPrev = t == 0 ? c0.data : pc + (first - batch) * h
            Profiler.measure(.activations) {
                for b in 0..<batch {
                    let r = first + b
                    LSTMKernels.cellBackward(hidden: h, gates: pa + r * g4, cPrev: cPrev + b * h, tanhC: ptc + r * h,
                                             gradH: pgo + r * h, dhNext: pdh + b * h, dcNext: pdc + b * h,
                                             dGates: pdg + r * g4)
                }
            }
            if t > 0 {  // ∂L/∂h_{t−1} [B, H] = ∂L/∂a_t [B, 4H] · W_hh [4H, H]  (h0 needs none)
                Profiler.measure(.linear) {
                    Kernels.gemm(transA: false, transB: false, m: batch, n: h, k: g4, a: pdg + first * g4, lda: g4,
                                 b: pw, ldb: h, c: pdh, ldc: h)
                }
            }
        }
        if weightHH.requiresGrad {
            // dW_hh [4H, H] += Σ_t ∂L/∂a_tᵀ · h_{t−1}: one GEMM over all steps, with h_{t−1} gathered
            // as [h0; h_0; …; h_{T−2}] [T·B, H].
            Profiler.measure(.linear) {
                let previous = Tensor(uninitializedShape: [rows, h])
                previous.data.update(from: h0.data, count: batch * h)
                (previous.data + batch * h).update(from: ph, count: (rows - batch) * h)
                let dw = weightHH.gradBuffer()
                Kernels.gemm(transA: true, transB: false, m: g4, n: h, k: rows, a: pdg, lda: g4,
                             b: previous.data, ldb: h, beta: 1, c: dw.data, ldc: h)
            }
        }
        if biasHH.requiresGrad {  // db_hh += column sums of ∂L/∂a
            Profiler.measure(.activations) { LSTMKernels.addColumnSums(pdg, rows: rows, columns: g4, into: biasHH.gradBuffer().data) }
        }
        if projected.requiresGrad { projected.accumulateGrad(dGates, owned: true) }
    }
    return LSTMSequenceOutput(hidden: output, lastHidden: lastHidden, lastCell: lastCell)
}

/// The fused element-wise loops of `lstmSequence`, on one batch row of one step, four hidden units at
/// a time (then the tail one unit at a time through the same four-wide code).
enum LSTMKernels {
    typealias Row = UnsafeMutablePointer<Float>

    /// Gate activations and the new cell and hidden state of one row. `gates` holds h_{t−1}·W_hhᵀ
    /// on entry and the activations i, f, g, o on exit.
    @inline(__always)
    static func cellForward(hidden n: Int, gates a: Row, projected p: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                            cPrev: UnsafePointer<Float>, c: Row, tanhC: Row, h: Row) {
        @inline(__always)
        func step(_ j: Int, _ load: (UnsafePointer<Float>) -> Float4, _ store: (Float4, Row) -> Void) {
            let i = Kernels.fastSigmoid(load(a + j) + load(p + j) + load(bias + j))
            let f = Kernels.fastSigmoid(load(a + n + j) + load(p + n + j) + load(bias + n + j))
            let g = Kernels.fastTanh(load(a + 2 * n + j) + load(p + 2 * n + j) + load(bias + 2 * n + j))
            let o = Kernels.fastSigmoid(load(a + 3 * n + j) + load(p + 3 * n + j) + load(bias + 3 * n + j))
            let cNew = f * load(cPrev + j) + i * g
            let tc = Kernels.fastTanh(cNew)
            store(i, a + j); store(f, a + n + j); store(g, a + 2 * n + j); store(o, a + 3 * n + j)
            store(cNew, c + j); store(tc, tanhC + j); store(o * tc, h + j)
        }
        var j = 0
        while j + 4 <= n {
            step(j, Kernels.load4, Kernels.store4)
            j += 4
        }
        while j < n {  // tail: lane 0 only
            step(j, { Float4(repeating: $0[0]) }, { v, q in q[0] = v[0] })
            j += 1
        }
    }

    /// Backward of one row of one step. On entry `dhNext`/`dcNext` hold the gradients of h_t and c_t
    /// arriving from step t+1; on exit `dcNext` holds that of c_{t−1} (the recurrent GEMM then
    /// overwrites `dhNext` with that of h_{t−1}). Writes ∂L/∂a_t for the four gates.
    @inline(__always)
    static func cellBackward(hidden n: Int, gates a: UnsafePointer<Float>, cPrev: UnsafePointer<Float>,
                             tanhC: UnsafePointer<Float>, gradH: UnsafePointer<Float>, dhNext: Row, dcNext: Row,
                             dGates d: Row) {
        @inline(__always)
        func step(_ j: Int, _ load: (UnsafePointer<Float>) -> Float4, _ store: (Float4, Row) -> Void) {
            let i = load(a + j), f = load(a + n + j), g = load(a + 2 * n + j), o = load(a + 3 * n + j)
            let tc = load(tanhC + j)
            let dh = load(gradH + j) + load(dhNext + j)
            let dc = load(dcNext + j) + dh * o * (1 - tc * tc)
            store(dc * g * i * (1 - i), d + j)
            store(dc * load(cPrev + j) * f * (1 - f), d + n + j)
            store(dc * i * (1 - g * g), d + 2 * n + j)
            store(dh * tc * o * (1 - o), d + 3 * n + j)
            store(dc * f, dcNext + j)
        }
        var j = 0
        while j + 4 <= n {
            step(j, Kernels.load4, Kernels.store4)
            j += 4
        }
        while j < n {
            step(j, { Float4(repeating: $0[0]) }, { v, q in q[0] = v[0] })
            j += 1
        }
    }

    /// sums[j] += Σ_r x[r, j], row by row over a block of columns per thread.
    static func addColumnSums(_ x: UnsafePointer<Float>, rows: Int, columns: Int, into sums: Row) {
        let quads = columns / 4
        Parallel.forChunks(quads, grain: max(1, 65_536 / max(rows * 4, 1))) { range in
            for r in 0..<rows {
                let row = x + r * columns
                for q in range { Kernels.store4(Kernels.load4(sums + 4 * q) + Kernels.load4(row + 4 * q), sums + 4 * q) }
            }
        }
        for j in (quads * 4)..<columns {
            for r in 0..<rows { sums[j] += x[r * columns + j] }
        }
    }
}

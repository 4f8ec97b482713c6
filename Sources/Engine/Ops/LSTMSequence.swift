import CBLAS
import Dispatch
import Foundation
import Synchronization  // Atomic (Swift 6 toolchains; on macOS from 15, hence the availability checks)

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
//
// The per-step GEMMs have only B rows (20 in the PTB model) and reuse the same W_hh 35 times:
// they run on SmallGEMM's kernel, with each thread's rows of W_hh packed once per call (forward
// and backward each), instead of OpenBLAS, which repacks W_hh on every call.
//
// Threads: a step's GEMM is too small for OpenBLAS's own threading to pay off, and the
// element-wise work of a step is tiny. So the hidden units are split
// into one contiguous block per thread, and each thread runs, per step, its own single-threaded
// GEMM for the gate rows of its units followed by the gate loop for its units; the threads meet
// at a spinning barrier once per step (h_t, or ∂L/∂h_t, must be complete before the next step; a
// step takes a few hundred microseconds, too little to put threads to sleep and wake them, and
// DispatchQueue.concurrentPerform per step often ran both blocks on the calling thread, one after
// the other, while its worker was still waking up). Each thread packs the W_hh rows of its gates
// before its first step, its gate columns ordered block by block:
//   gate column 4·start_p + k·n_p + u  ↔  W_hh row k·H + start_p + u   (gate k, unit u of block p)
// and the saved gate activations use the same order within each row. In backward a step has two
// phases with a barrier between them: each thread runs the gate loop of its units (∂L/∂a_t, in
// natural order), then computes its units' columns of ∂L/∂h_{t−1} = ∂L/∂a_t · W_hh from all 4H
// gates (W_hh's columns of its units packed once). No thread sums a part of a dot product, so
// every number is the same whatever the split into blocks, i.e. whatever the thread count.

/// The result of `lstmSequence`.
public struct LSTMSequenceOutput {
    /// h_t of every step, [T·B, H], time-major.
    public let hidden: Variable
    /// h and c after the last step, [B, H] each (plain tensors: the state carried to the next window).
    public let lastHidden: Tensor
    public let lastCell: Tensor
}

/// `threads`: how many blocks of hidden units run side by side (nil: `Parallel.threadCount`, at most
/// one per 64 units, when the per-step GEMM is large enough to be worth splitting, else 1). Tests set
/// it to cover uneven splits.
public func lstmSequence(projected: Variable, weightHH: Variable, biasHH: Variable, h0: Tensor, c0: Tensor,
                         steps: Int, batch: Int, threads: Int? = nil) -> LSTMSequenceOutput {
    let h = weightHH.shape.count == 2 ? weightHH.shape[1] : 0
    let g4 = 4 * h, rows = steps * batch
    precondition(steps > 0 && batch > 0 && h > 0 && weightHH.shape == [g4, h],
                 "lstmSequence: weight_hh \(weightHH.shape) must be [4H, H] with H > 0, and steps, batch > 0")
    precondition(projected.shape == [rows, g4], "lstmSequence: projected input \(projected.shape), expected [\(rows), \(g4)]")
    precondition(biasHH.shape == [g4], "lstmSequence: bias_hh \(biasHH.shape), expected [\(g4)]")
    precondition(h0.shape == [batch, h] && c0.shape == [batch, h],
                 "lstmSequence: initial state \(h0.shape) and \(c0.shape), expected [\(batch), \(h)]")
    let split = LSTMUnitSplit(hidden: h, threads: threads ?? (batch * g4 * h >= 1 << 20 ? min(Parallel.threadCount, h / 64) : 1))
    let weights = weightHH.value
    // Each block's rows of W_hh, transposed and packed for the per-step GEMMs (see SmallGEMM.swift),
    // by the block's own thread before its first step.
    let packedForward = (0..<split.threads).map { PackedGEMMOperand(k: h, n: 4 * split.count($0)) }

    // Saved for backward: the gate activations (permuted columns), every c_t and tanh(c_t).
    let gates = Tensor(uninitializedShape: [rows, g4])
    let cells = Tensor(uninitializedShape: [rows, h])
    let tanhCells = Tensor(uninitializedShape: [rows, h])
    let hidden = Tensor(uninitializedShape: [rows, h])
    do {
        let pa = gates.data, pc = cells.data, ptc = tanhCells.data, ph = hidden.data
        let pp = projected.value.data, pw = UnsafePointer(weights.data), pb = biasHH.value.data
        let h0p = h0.data, c0p = c0.data
        split.forEachStep(steps) { t, p, gemm, elementwise in
            let first = t * batch
            let hPrev = t == 0 ? h0p : ph + (first - batch) * h
            let cPrev = t == 0 ? c0p : pc + (first - batch) * h
            let start = split.start(p), n = split.count(p), block = 4 * start
            // This block's a_t without projected_t and b_hh (added in the gate loop):
            // h_{t−1} [B, H] · (its rows of W_hh)ᵀ [H, 4n]
            gemm {
                if t == 0 { packedForward[p].pack(columns: { split.weightRow(pw, gateColumn: $0, block: p) }) }
                SmallGEMM.multiply(m: batch, a: hPrev, lda: h, b: packedForward[p], c: pa + first * g4 + block, ldc: g4)
            }
            elementwise {
                for b in 0..<batch {
                    let r = first + b
                    LSTMKernels.cellForward(units: n, gates: pa + r * g4 + block, projected: pp + r * g4 + start,
                                            bias: pb + start, inputStride: h, cPrev: cPrev + b * h + start,
                                            c: pc + r * h + start, tanhC: ptc + r * h + start, h: ph + r * h + start)
                }
            }
        }
        withExtendedLifetime((h0, c0, projected, biasHH, weights, packedForward)) {}  // used above through raw pointers
    }
    let lastHidden = Tensor(uninitializedShape: [batch, h]), lastCell = Tensor(uninitializedShape: [batch, h])
    lastHidden.data.update(from: hidden.data + (rows - batch) * h, count: batch * h)
    lastCell.data.update(from: cells.data + (rows - batch) * h, count: batch * h)

    let output = Tape.result(hidden, inputs: [projected, weightHH, biasHH], category: nil) { gradOutput in
        // The closure holds the saved tensors (not just their pointers) until backward has run.
        let pa = gates.data, pc = cells.data, ptc = tanhCells.data, ph = hidden.data, pw = UnsafePointer(weights.data)
        let dGates = Tensor(uninitializedShape: [rows, g4])  // ∂L/∂a_t of every step (natural order): also ∂L/∂projected
        // ∂L/∂h_{t−1} [B, H] = ∂L/∂a_t [B, 4H] · W_hh [4H, H], each block computing its own units' columns
        // over all 4H gates (no block sums a part of the 4H terms: the sums are the same for any split).
        let dhPrevious = Tensor(uninitializedShape: [Parallel.legacyReductions ? 0 : batch, h])
        let dcNext = Tensor(zeros: [batch, h])  // ∂L/∂c_t through step t+1
        let pdg = dGates.data, pgo = gradOutput.data, pdc = dcNext.data, pdh = dhPrevious.data
        let packedBackward = (0..<(Parallel.legacyReductions ? 0 : split.threads)).map {
            PackedGEMMOperand(k: g4, n: split.count($0))  // W_hh's columns of each block
        }
        let c0p = c0.data
        if Parallel.legacyReductions {  // bench baseline only (BenchmarkBaselines.swift)
            legacyLSTMBackwardRecurrence(split: split, steps: steps, batch: batch, h: h, gates: pa, cells: pc, tanhCells: ptc,
                                         weights: pw, c0: c0p, gradOutput: pgo, dcNext: pdc, dGates: pdg)
        } else {
            // Two phases per step, every block finishing one before any block starts the next: the gate
            // loop of step t (reading ∂L/∂h_t, complete), then the GEMM for ∂L/∂h_{t−1} (reading all of ∂L/∂a_t).
            split.forEachStep(2 * steps) { i, p, gemm, elementwise in
                let t = steps - 1 - i / 2
                let first = t * batch
                let start = split.start(p), n = split.count(p)
                if i % 2 == 0 {
                    let cPrev = t == 0 ? c0p : pc + (first - batch) * h
                    let incoming: UnsafePointer<Float>? = t == steps - 1 ? nil : UnsafePointer(pdh)
                    elementwise {
                        for b in 0..<batch {
                            let r = first + b, block = 4 * start
                            LSTMKernels.cellBackward(units: n, gates: pa + r * g4 + block, cPrev: cPrev + b * h + start,
                                                     tanhC: ptc + r * h + start, gradH: pgo + r * h + start,
                                                     dhNext: incoming.map { $0 + b * h + start },
                                                     dcNext: pdc + b * h + start, dGates: pdg + r * g4 + start, gateStride: h)
                        }
                    }
                } else if t > 0 {  // this block's units of ∂L/∂h_{t−1} = ∂L/∂a_t [B, 4H] · W_hh[:, units] [4H, n]
                    gemm {
                        if t == steps - 1 { packedBackward[p].pack(rows: { pw + $0 * h + start }) }
                        SmallGEMM.multiply(m: batch, a: pdg + first * g4, lda: g4, b: packedBackward[p], c: pdh + start, ldc: h)
                    }
                }
            }
        }
        withExtendedLifetime((dhPrevious, dcNext, c0, weights, packedBackward)) {}  // used above through raw pointers
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
            Profiler.measure(.activations) { Kernels.addColumnSums(pdg, rows: rows, columns: g4, into: biasHH.gradBuffer().data) }
        }
        if projected.requiresGrad { projected.accumulateGrad(dGates, owned: true) }
    }
    return LSTMSequenceOutput(hidden: output, lastHidden: lastHidden, lastCell: lastCell)
}

/// The hidden units split into `threads` contiguous blocks, one per thread.
struct LSTMUnitSplit {
    let hidden: Int
    let threads: Int

    init(hidden: Int, threads: Int) {
        self.hidden = hidden
        self.threads = max(1, min(threads, hidden))
    }

    func start(_ p: Int) -> Int { p * hidden / threads }
    func count(_ p: Int) -> Int { start(p + 1) - start(p) }

    /// The row of W_hh [4H, H] behind gate column `j` of block p (gate j / n_p, unit j % n_p of
    /// the block; see the comment at the top of the file).
    @inline(__always)
    func weightRow(_ w: UnsafePointer<Float>, gateColumn j: Int, block p: Int) -> UnsafePointer<Float> {
        let n = count(p)
        return w + ((j / n) * hidden + start(p) + j % n) * hidden
    }

    typealias Timer = (() -> Void) -> Void

    /// Runs `body(i, p, gemm, elementwise)` for i = 0, 1, …, count − 1 and every block p: block 0 on
    /// the calling thread, the others on helper threads started for the call, all with OpenBLAS
    /// single-threaded; every block finishes step i before any block starts step i + 1. `body` wraps
    /// its GEMM and its element-wise work in the two closures it is given, which time them for the
    /// profiler: the wall time counts as linear / matmul except block 0's element-wise time, which
    /// counts as activations.
    func forEachStep(_ count: Int, _ body: @escaping (_ i: Int, _ p: Int, _ gemm: Timer, _ elementwise: Timer) -> Void) {
        let profiling = Profiler.enabled
        let start = profiling ? DispatchTime.now().uptimeNanoseconds : 0
        var elementwiseNanoseconds: UInt64 = 0
        let plain: Timer = { $0() }
        let timed: Timer = { work in
            let s = DispatchTime.now().uptimeNanoseconds
            work()
            elementwiseNanoseconds += DispatchTime.now().uptimeNanoseconds - s
        }
        let mine = profiling ? timed : plain
        if threads == 1 {
            for i in 0..<count { body(i, 0, plain, mine) }
        } else {
            Parallel.perThreadSection {
                if Parallel.gemmThreading == .openBLAS { BLASThreads.stopSpinning() }  // its idle workers would compete with ours
                if #available(macOS 15.0, *) {
                    let barrier = SpinBarrier(parties: threads)
                    for p in 1..<threads {
                        Thread {
                            for i in 0..<count {
                                body(i, p, plain, plain)
                                barrier.wait()
                            }
                        }.start()
                    }
                    for i in 0..<count {
                        body(i, 0, plain, mine)
                        barrier.wait()  // after the last step the helpers only return
                    }
                } else {
                    for i in 0..<count {
                        DispatchQueue.concurrentPerform(iterations: threads) { p in body(i, p, plain, p == 0 ? mine : plain) }
                    }
                }
            }
        }
        if profiling {
            let total = DispatchTime.now().uptimeNanoseconds - start
            Profiler.add(.activations, nanoseconds: elementwiseNanoseconds)
            Profiler.add(.linear, nanoseconds: total - min(total, elementwiseNanoseconds))
        }
    }
}

/// A barrier for `parties` threads that spins (yielding now and then) instead of sleeping.
@available(macOS 15.0, *)
final class SpinBarrier: @unchecked Sendable {
    let parties: Int
    private let arrived = Atomic<Int>(0)
    private let generation = Atomic<Int>(0)

    init(parties: Int) { self.parties = parties }

    func wait() {
        let current = generation.load(ordering: .acquiring)
        if arrived.add(1, ordering: .acquiringAndReleasing).newValue == parties {
            // Last to arrive: reset the count, then release the others (who cannot arrive at the
            // next round before they see the new generation, so they never see a stale count).
            arrived.store(0, ordering: .relaxed)
            generation.add(1, ordering: .releasing)
        } else {
            var spins = 0
            while generation.load(ordering: .acquiring) == current {
                spins += 1
                if spins == 2_000 {  // a few microseconds: let other work on this core run
                    sched_yield()
                    spins = 0
                }
            }
        }
    }
}

/// The fused element-wise loops of `lstmSequence`, on one batch row of one step and one block of
/// units, `Kernels.vectorWidth` units at a time (then the tail one unit at a time through the same
/// vector code).
enum LSTMKernels {
    typealias Row = UnsafeMutablePointer<Float>

    /// Runs `step(j, lanes)` for j = 0, w, 2w, … (w = `Kernels.vectorWidth`) and then one by one over the tail.
    @inline(__always)
    static func sweep(_ n: Int, _ step: (Int, Lanes) -> Void) {
        let w = Kernels.vectorWidth
        var j = 0
        while j + w <= n {
            step(j, Lanes(tail: false))
            j += w
        }
        while j < n {
            step(j, Lanes(tail: true))
            j += 1
        }
    }

    /// Gate activations and the new cell and hidden state of `units` units of one row. `gates` holds
    /// the block's h_{t−1}·W_hhᵀ on entry (gate k of unit u at k·units + u) and the activations on exit;
    /// `projected` and `bias` hold gate k of unit u at k·inputStride + u.
    @inline(__always)
    static func cellForward(units n: Int, gates a: Row, projected p: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                            inputStride s: Int, cPrev: UnsafePointer<Float>, c: Row, tanhC: Row, h: Row) {
        @inline(__always)
        func step(_ j: Int, _ v: Lanes) {
            let i = Kernels.fastSigmoid(v.load(a + j) + v.load(p + j) + v.load(bias + j))
            let f = Kernels.fastSigmoid(v.load(a + n + j) + v.load(p + s + j) + v.load(bias + s + j))
            let g = Kernels.fastTanh(v.load(a + 2 * n + j) + v.load(p + 2 * s + j) + v.load(bias + 2 * s + j))
            let o = Kernels.fastSigmoid(v.load(a + 3 * n + j) + v.load(p + 3 * s + j) + v.load(bias + 3 * s + j))
            let cNew = f * v.load(cPrev + j) + i * g
            let tc = Kernels.fastTanh(cNew)
            v.store(i, a + j); v.store(f, a + n + j); v.store(g, a + 2 * n + j); v.store(o, a + 3 * n + j)
            v.store(cNew, c + j); v.store(tc, tanhC + j); v.store(o * tc, h + j)
        }
        sweep(n, step)
    }

    /// Backward of `units` units of one row of one step. ∂L/∂h_t is `gradH` (from the output) plus
    /// `dhNext` (through step t+1; nil at the last step); `dcNext` holds ∂L/∂c_t from step t+1 on
    /// entry and ∂L/∂c_{t−1} on exit. Writes ∂L/∂a_t to `dGates` (gate k of unit u at k·gateStride + u).
    @inline(__always)
    static func cellBackward(units n: Int, gates a: UnsafePointer<Float>, cPrev: UnsafePointer<Float>,
                             tanhC: UnsafePointer<Float>, gradH: UnsafePointer<Float>,
                             dhNext: UnsafePointer<Float>?, dcNext: Row, dGates d: Row, gateStride s: Int) {
        @inline(__always)
        func step(_ j: Int, _ v: Lanes) {
            let i = v.load(a + j), f = v.load(a + n + j), g = v.load(a + 2 * n + j), o = v.load(a + 3 * n + j)
            let tc = v.load(tanhC + j)
            var dh = v.load(gradH + j)
            if let dhNext { dh += v.load(dhNext + j) }
            let dc = v.load(dcNext + j) + dh * o * (1 - tc * tc)
            let di = dc * g * i * (1 - i), df = dc * v.load(cPrev + j) * f * (1 - f)
            let dg = dc * i * (1 - g * g), dO = dh * tc * o * (1 - o)
            v.store(di, d + j); v.store(df, d + s + j); v.store(dg, d + 2 * s + j); v.store(dO, d + 3 * s + j)
            v.store(dc * f, dcNext + j)
        }
        sweep(n, step)
    }
}

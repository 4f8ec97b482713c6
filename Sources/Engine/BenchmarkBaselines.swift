import Foundation

// The engine's benchmark-only baselines, kept apart from the paths training runs.
//
// `adai-bench bench --compare-reductions` times a training step under the engine's fixed reduction
// order and under the splits the engine had before its reductions were made thread-count invariant
// (`ReductionOrder.threadCountDependent`); `--compare-gemm-threading` and `engine-bench` time
// OpenBLAS's own threading (`GEMMThreading.openBLAS`). The ops call into this file at one line each,
// behind `Parallel.legacyReductions` or `Parallel.benchmarkBaseline`, which are false in every command
// but the benchmarks; what follows is those baselines' code.

/// How the engine splits the reductions that cross threads (`Parallel.reductionOrder`).
///
/// `.fixed` is the engine: the only order training, `model grad` and every other command use.
/// `.threadCountDependent` is a **baseline for `adai-bench bench --compare-reductions` only**: the
/// splits the engine had before its reductions were made thread-count invariant (GEMMs cut into one
/// block per thread, convolution weight gradients summed per thread, Winograd chunks dealt per thread
/// with a lock per transform position, the LSTM's ∂L/∂h summed from per-thread partials), kept so
/// that the cost of the fixed order can be measured step by step in one process. Its results are
/// **not deterministic across thread counts** (and, with late helpers, not even across runs).
public enum ReductionOrder: String, CaseIterable, Sendable {
    /// Work cut into blocks by the problem's shape alone, partial results combined in a fixed order.
    case fixed
    /// The pre-fix splits, which follow the thread count (benchmark baseline only; see above).
    case threadCountDependent = "thread-count-dependent"
}

extension Parallel {
    /// See `ReductionOrder`. Only `adai-bench bench --compare-reductions` sets anything but `.fixed`.
    nonisolated(unsafe) public private(set) static var reductionOrder: ReductionOrder = .fixed

    /// Chooses the reduction order (see `ReductionOrder`; `.threadCountDependent` is a benchmark
    /// baseline only). Call it between steps, never while an op runs.
    public static func setReductionOrder(_ order: ReductionOrder) {
        reductionOrder = order
        updateBenchmarkBaseline()
    }

    /// `reductionOrder == .threadCountDependent`, for the ops' legacy paths.
    @inline(__always)
    static var legacyReductions: Bool { reductionOrder == .threadCountDependent }

    /// True while a benchmark baseline is set (`GEMMThreading.openBLAS` or
    /// `ReductionOrder.threadCountDependent`): `Kernels.gemm` then goes through `Kernels.baselineGEMM`.
    nonisolated(unsafe) private(set) static var benchmarkBaseline = false

    static func updateBenchmarkBaseline() { benchmarkBaseline = gemmThreading != .split || reductionOrder != .fixed }
}

extension Kernels {
    /// `gemm` under a benchmark baseline (outside per-thread sections): the pre-fix split under
    /// `ReductionOrder.threadCountDependent`, OpenBLAS's own threads under `GEMMThreading.openBLAS`.
    /// Returns false when the caller is to make the one plain `sgemm` call.
    static func baselineGEMM(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) -> Bool {
        switch Parallel.gemmThreading {
        case .split:  // so `Parallel.legacyReductions`
            guard Parallel.threadCount > 1 && m * n * k >= splitMinimum else { return false }
            legacySplitGEMM(threads: Parallel.threadCount, transA: transA, transB: transB, m: m, n: n, k: k,
                            alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
            return true
        case .openBLAS:
            if Parallel.threadCount > 1 { Parallel.yieldCores() }  // OpenBLAS's threads need both cores
            return false
        }
    }

    /// The split before the thread-count-invariant engine, for `ReductionOrder.threadCountDependent`
    /// (baseline for `bench --compare-reductions` only; not deterministic across thread counts): C cut
    /// into one block per thread along its longer side (blocks a multiple of 16 wide), so the blocks'
    /// shapes, hence OpenBLAS's kernels, follow the thread count.
    static func legacySplitGEMM(
        threads: Int, transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        let alongN = n >= m, extent = alongN ? n : m
        let width = ((extent + threads - 1) / threads + 15) / 16 * 16
        Parallel.run(parts: (extent + width - 1) / width) { part in
            sgemmBlock(alongN: alongN, first: part * width, width: width, transA: transA, transB: transB, m: m, n: n, k: k,
                       alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
        }
    }
}

extension ConvKernels {
    /// `backwardImagesAcrossThreads` before the thread-count-invariant engine, for
    /// `ReductionOrder.threadCountDependent` (baseline for `bench --compare-reductions` only; not
    /// deterministic across thread counts): one contiguous block of images per thread, each thread
    /// summing its own weight gradient, the threads' sums then added to dw in thread order.
    static func legacyBackwardImagesAcrossThreads(
        _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, _ g: Conv2dGeometry,
        dx: UnsafeMutablePointer<Float>?, dw: UnsafeMutablePointer<Float>?
    ) {
        let k = g.patchSize, plane = g.outPlane, threads = min(Parallel.threadCount, g.batch)
        let weightCount = g.outChannels * k
        let cols = Tensor(uninitializedShape: [g.isPointwise ? 0 : threads * k * plane])
        let partialDw = Tensor(zeros: [dw == nil ? 0 : threads * weightCount])  // one weight gradient per thread
        perThread(g.batch) { t, images in
            let col = cols.data + t * k * plane, myDw = partialDw.data + t * weightCount
            for b in images {
                let dyb = dy + b * g.outChannels * plane
                if dw != nil {  // dw [O, K] += dy_b [O, plane] × patchesᵀ [plane, K]
                    let patches = imagePatches(x, g, image: b, into: col)
                    Kernels.gemm(transA: false, transB: true, m: g.outChannels, n: k, k: plane, a: dyb, lda: plane,
                                 b: patches, ldb: plane, beta: 1, c: myDw, ldc: k)
                }
                guard let dx else { continue }
                imageInputGradient(w, dyb, g, image: b, col: col, dx: dx)
            }
        }
        if let dw {
            for t in 0..<threads { Kernels.addInPlace(dw, partialDw.data + t * weightCount, count: weightCount) }
        }
    }
}

extension Winograd {
    /// `forEachChunk` under `ReductionOrder.threadCountDependent` (not deterministic across thread counts),
    /// as before the thread-count-invariant engine: each thread owns a contiguous block of the batch and
    /// runs its chunks one after the other, and the first argument of `body` is the thread, not the chunk.
    static func legacyForEachChunk<T>(_ plan: Plan<T>, workspaceFloats floats: Int,
                                      _ body: (Int, Range<Int>, UnsafeMutablePointer<Float>) -> Void) {
        let threads = min(Parallel.threadCount, plan.g.batch)
        let workspace = Tensor(uninitializedShape: [threads * floats])
        ConvKernels.perThread(plan.g.batch) { t, images in
            var first = images.lowerBound
            while first < images.upperBound {
                let n = min(plan.chunk, images.upperBound - first)
                body(t, first..<(first + n), workspace.data + t * floats)
                first += n
            }
        }
    }

    /// The weight gradient's turn-taking under `ReductionOrder.threadCountDependent`, as before the
    /// thread-count-invariant engine: each position's GEMM under that position's lock, the threads
    /// (`legacyForEachChunk` passes the thread) starting at different positions, so dU_t's sums follow the
    /// threads' timing.
    static func legacyInTurn(batch: Int, positions: Int, weightGradient: Bool) -> (_ thread: Int, _ gemm: (Int) -> Void) -> Void {
        let threads = min(Parallel.threadCount, batch)
        let locks = (0..<(weightGradient ? positions : 0)).map { _ in NSLock() }
        return { thread, gemm in
            for i in 0..<positions {
                let t = (i + thread * positions / threads) % positions
                locks[t].lock()
                gemm(t)
                locks[t].unlock()
            }
        }
    }
}

/// The backward recurrence of `lstmSequence` before the thread-count-invariant engine, for
/// `ReductionOrder.threadCountDependent` (baseline for `bench --compare-reductions` only; not
/// deterministic across thread counts): each block multiplies its own gate columns of ∂L/∂a_t by its
/// rows of W_hh, giving one partial ∂L/∂h_{t−1} per block (so per thread), and the next step's gate
/// loop adds the partials up. Fills `dGates` (∂L/∂a_t of every step, natural order) and updates `dcNext`.
func legacyLSTMBackwardRecurrence(split: LSTMUnitSplit, steps: Int, batch: Int, h: Int, gates pa: UnsafePointer<Float>,
                                  cells pc: UnsafePointer<Float>, tanhCells ptc: UnsafePointer<Float>,
                                  weights pw: UnsafePointer<Float>, c0 c0p: UnsafePointer<Float>,
                                  gradOutput pgo: UnsafePointer<Float>, dcNext pdc: UnsafeMutablePointer<Float>,
                                  dGates pdg: UnsafeMutablePointer<Float>) {
    let g4 = 4 * h
    // Per block: its gate columns of ∂L/∂a_t (the A operand of its GEMM), and two alternating sets
    // of partial ∂L/∂h (one [B, H] per block): step t reads those of step t+1 and writes its own.
    let blockGrads = Tensor(uninitializedShape: [batch, g4])
    let partials = Tensor(uninitializedShape: [2, split.threads, batch, h])
    let pbg = blockGrads.data
    let packedBackward = (0..<split.threads).map { PackedGEMMOperand(k: 4 * split.count($0), n: h) }  // each block's rows of W_hh
    let partStride = batch * h
    split.forEachStep(steps) { i, p, gemm, elementwise in
        let t = steps - 1 - i
        let first = t * batch
        let cPrev = t == 0 ? c0p : pc + (first - batch) * h
        let incoming: UnsafePointer<Float>? = t == steps - 1 ? nil : UnsafePointer(partials.data + ((t + 1) % 2) * split.threads * partStride)
        let outgoing = partials.data + (t % 2) * split.threads * partStride
        let start = split.start(p), n = split.count(p), block = 4 * start
        elementwise {
            for b in 0..<batch {
                let r = first + b
                LSTMKernels.legacyCellBackward(units: n, gates: pa + r * g4 + block, cPrev: cPrev + b * h + start,
                                               tanhC: ptc + r * h + start, gradH: pgo + r * h + start,
                                               dhParts: incoming.map { $0 + b * h + start }, parts: split.threads, partStride: partStride,
                                               dcNext: pdc + b * h + start, dGates: pdg + r * g4 + start, gateStride: h,
                                               blockGrads: pbg + b * g4 + block)
            }
        }
        if t > 0 {  // this block's share of ∂L/∂h_{t−1} [B, H] = its ∂L/∂a_t [B, 4n] · its rows of W_hh [4n, H]
            gemm {
                if t == steps - 1 { packedBackward[p].pack(rows: { split.weightRow(pw, gateColumn: $0, block: p) }) }
                SmallGEMM.multiply(m: batch, a: pbg + block, lda: g4, b: packedBackward[p], c: outgoing + p * partStride, ldc: h)
            }
        }
    }
    withExtendedLifetime((blockGrads, partials, packedBackward)) {}  // used above through raw pointers
}

extension LSTMKernels {
    /// `cellBackward` for `legacyLSTMBackwardRecurrence` (`ReductionOrder.threadCountDependent`, bench
    /// baseline only): ∂L/∂h_t is `gradH` plus the sum of the `parts` partials at `dhParts` (nil at the
    /// last step), and ∂L/∂a_t is written twice: to `dGates` (gate k of unit u at k·gateStride + u) and
    /// to `blockGrads` (at k·units + u).
    @inline(__always)
    static func legacyCellBackward(units n: Int, gates a: UnsafePointer<Float>, cPrev: UnsafePointer<Float>,
                                   tanhC: UnsafePointer<Float>, gradH: UnsafePointer<Float>,
                                   dhParts: UnsafePointer<Float>?, parts: Int, partStride: Int, dcNext: Row,
                                   dGates d: Row, gateStride s: Int, blockGrads e: Row) {
        @inline(__always)
        func step(_ j: Int, _ v: Lanes) {
            let i = v.load(a + j), f = v.load(a + n + j), g = v.load(a + 2 * n + j), o = v.load(a + 3 * n + j)
            let tc = v.load(tanhC + j)
            var dh = v.load(gradH + j)
            if let dhParts { for q in 0..<parts { dh += v.load(dhParts + q * partStride + j) } }
            let dc = v.load(dcNext + j) + dh * o * (1 - tc * tc)
            let di = dc * g * i * (1 - i), df = dc * v.load(cPrev + j) * f * (1 - f)
            let dg = dc * i * (1 - g * g), dO = dh * tc * o * (1 - o)
            v.store(di, d + j); v.store(df, d + s + j); v.store(dg, d + 2 * s + j); v.store(dO, d + 3 * s + j)
            v.store(di, e + j); v.store(df, e + n + j); v.store(dg, e + 2 * n + j); v.store(dO, e + 3 * n + j)
            v.store(dc * f, dcNext + j)
        }
        sweep(n, step)
    }
}

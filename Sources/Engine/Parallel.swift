import CBLAS
import Dispatch
import Foundation
import Synchronization

/// Who runs a large GEMM on several threads (`Parallel.gemmThreading`).
public enum GEMMThreading: String, CaseIterable, Sendable {
    /// `Kernels.gemm` cuts C into blocks of rows or columns whose size depends on the shape alone
    /// (`Kernels.splitLayout`) and runs one single-threaded OpenBLAS call per block on our worker pool;
    /// OpenBLAS's own threads are never used. The results do not depend on the thread count. The
    /// default: alternating step by step (`adai-bench bench --compare-gemm-threading`, when C was cut
    /// into one block per thread), training steps were 4–5% shorter for ResNet18, 1–3% for the LSTM
    /// and ResNet34, 0.7–0.8% for GoogLeNet, VGG16 and DenseNet121.
    case split
    /// One OpenBLAS call on OpenBLAS's own threads (its workers spin for the next call between
    /// GEMMs, so our loops park their helpers first). OpenBLAS splits the work by its thread count,
    /// so results may then differ in the last bits from one thread count to another.
    case openBLAS = "openblas"
}

/// The engine's threads: one setting drives both our own parallel loops and the GEMMs.
///
/// Every parallel loop and every GEMM starts on the training thread and ends before the next one
/// starts (a split GEMM is a loop whose parts are single-threaded BLAS calls; a per-thread section
/// runs single-threaded BLAS calls inside its parts), so `threadCount` threads are busy at any time
/// and nothing is oversubscribed.
public enum Parallel {
    nonisolated(unsafe) public private(set) static var threadCount: Int = ProcessInfo.processInfo.activeProcessorCount

    /// See `GEMMThreading`.
    nonisolated(unsafe) public private(set) static var gemmThreading: GEMMThreading = .split

    /// Set while a per-thread section runs (each thread issuing its own single-threaded GEMMs: the
    /// per-image convolutions, the LSTM recurrence); `Kernels.gemm` does not split GEMMs then.
    /// Only the training thread sets it.
    nonisolated(unsafe) static var inPerThreadSection = false

    /// Sets the number of threads for element-wise, batch-norm, pooling and im2col loops
    /// and for the GEMMs. `nil` means all cores.
    public static func setThreadCount(_ n: Int?) {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        threadCount = max(1, n ?? cores)
        openblas_set_num_threads(Int32(blasThreadCount))
    }

    /// Chooses who threads large GEMMs (see `GEMMThreading`). Call it between steps, never while
    /// a GEMM runs.
    public static func setGEMMThreading(_ threading: GEMMThreading) {
        gemmThreading = threading
        updateBenchmarkBaseline()
        openblas_set_num_threads(Int32(blasThreadCount))
        if threading == .split { BLASThreads.stopSpinning() }  // its idle workers would compete with ours
    }

    /// The thread count OpenBLAS runs with outside per-thread sections.
    static var blasThreadCount: Int { gemmThreading == .split ? 1 : threadCount }

    /// OpenBLAS starts with its own thread count (all cores, or OPENBLAS_NUM_THREADS); the first GEMM
    /// sets it to ours if `setThreadCount` has not been called yet.
    static let blasConfigured: Bool = {
        openblas_set_num_threads(Int32(blasThreadCount))
        return true
    }()

    /// Runs a per-thread section: OpenBLAS single-threaded and no splitting of GEMMs inside.
    static func perThreadSection<R>(_ body: () -> R) -> R {
        let threaded = blasThreadCount > 1  // under `.split` OpenBLAS is single-threaded already
        if threaded { openblas_set_num_threads(1) }
        inPerThreadSection = true
        defer {
            inPerThreadSection = false
            if threaded { openblas_set_num_threads(Int32(blasThreadCount)) }
        }
        return body()
    }

    /// Runs `body` over contiguous chunks of 0..<count on up to `threadCount` threads.
    /// Work below `grain` elements runs on the calling thread.
    @inline(__always)
    public static func forChunks(_ count: Int, grain: Int = 16_384, _ body: (Range<Int>) -> Void) {
        if count <= 0 { return }
        let chunks = min(threadCount, max(1, count / max(grain, 1)))
        if chunks <= 1 {
            body(0..<count)
            return
        }
        let per = (count + chunks - 1) / chunks
        // On the worker pool: cheaper per loop than concurrentPerform (`engine-bench --parallel-overhead`);
        // ResNet18 training steps 2–6% shorter in three alternating A/B runs on a quiet host.
        run(parts: chunks) { c in
            let start = c * per
            let end = min(count, start + per)
            if start < end { body(start..<end) }
        }
    }

    /// Runs `body(0)`, …, `body(count − 1)` on up to `threadCount` threads, each thread taking the next
    /// unclaimed index until none is left (so a late helper does not hold the loop up): indices are
    /// claimed in increasing order, and an index is claimed only by a thread that runs it at once.
    ///
    /// This is the building block of the engine's thread-count-invariant reductions: the caller cuts
    /// the work into blocks whose boundaries depend only on the problem's shape, `body` computes one
    /// block's part on whichever thread runs it, and the parts are combined in block order. Because
    /// blocks start in increasing order and every claimed block is running, a block may wait for an
    /// earlier block to finish something (see `Winograd.backward`) without risk of deadlock.
    ///
    /// `body(block, part)`: `part` is in 0 ..< `blockParts(count)` and no two blocks run at the same time
    /// with the same part (for per-thread scratch memory); which blocks share a part is not fixed.
    public static func forEachBlock(_ count: Int, _ body: (_ block: Int, _ part: Int) -> Void) {
        if count <= 0 { return }
        let parts = blockParts(count)
        if parts <= 1 {
            for b in 0..<count { body(b, 0) }
            return
        }
        if #available(macOS 15.0, *) {
            let next = BlockCounter()
            run(parts: parts) { p in
                while true {
                    let b = next.claim()
                    if b >= count { return }
                    body(b, p)
                }
            }
        } else {  // without atomics (macOS before 15): one after the other
            for b in 0..<count { body(b, 0) }
        }
    }

    /// The number of parts `forEachBlock(count)` runs its blocks on.
    public static func blockParts(_ count: Int) -> Int { max(1, min(threadCount, count)) }

    /// Runs `body(0)`, …, `body(parts − 1)` on the worker pool: part 0 on the calling thread, the others
    /// on helper threads (or on the calling thread once its part is done, if no helper has started them);
    /// one after the other on the calling thread when called from inside another `run`.
    public static func run(parts: Int, _ body: (Int) -> Void) {
        if #available(macOS 15.0, *) {
            WorkerPool.shared.run(parts: parts, body)
        } else {
            DispatchQueue.concurrentPerform(iterations: parts, execute: body)
        }
    }

    /// Sends the idle helper threads to sleep at once instead of letting them spin for the next loop
    /// (before a multi-threaded BLAS call, whose own threads need the cores).
    @inline(__always)
    public static func yieldCores() {
        if #available(macOS 15.0, *) { WorkerPool.shared.park() }
    }

    /// Runs `body(i)` for every i in 0..<count, spread over the threads.
    /// `cost` is an estimate of the elements touched per item, used to skip threading for tiny work.
    @inline(__always)
    public static func forEach(_ count: Int, cost: Int = 1, _ body: (Int) -> Void) {
        let grain = max(1, 16_384 / max(cost, 1))
        forChunks(count, grain: grain) { range in
            for i in range { body(i) }
        }
    }
}

/// The next unclaimed block of `Parallel.forEachBlock`.
@available(macOS 15.0, *)
final class BlockCounter: Sendable {
    private let next = Atomic<Int>(0)
    @inline(__always)
    func claim() -> Int { next.wrappingAdd(1, ordering: .relaxed).oldValue }
}

/// Block `b` of a sequence of blocks that each wait, before a step, until the block before them
/// has done that step (`Winograd.backward`: every transform position's weight gradient receives
/// the image chunks in chunk order). `done(b, step)` marks block b's step as finished.
@available(macOS 15.0, *)
final class OrderedSteps: @unchecked Sendable {
    /// Per step: how many blocks have done it (blocks do each step in block order).
    private let progress: UnsafeMutablePointer<Atomic<Int>>
    private let steps: Int

    init(steps: Int) {
        self.steps = steps
        progress = .allocate(capacity: max(steps, 1))
        for s in 0..<steps { (progress + s).initialize(to: Atomic<Int>(0)) }
    }

    deinit {
        progress.deinitialize(count: steps)
        progress.deallocate()
    }

    /// Waits until blocks 0 ..< b have all done `step`.
    @inline(__always)
    func waitForTurn(block b: Int, step: Int) {
        var spins = 0
        while progress[step].load(ordering: .acquiring) < b {
            spins += 1
            if spins == 2_000 {  // the block before is late (its thread descheduled): let it run
                sched_yield()
                spins = 0
            }
        }
    }

    /// Runs `body(step)` for every step in 0 ..< steps as block `b`, each once blocks 0 ..< b have
    /// done it: first the steps whose turn has come, in increasing order; it waits only when none has.
    func inTurn(block b: Int, steps: Int, _ body: (Int) -> Void) {
        if b == 0 {
            for s in 0..<steps {
                body(s)
                done(block: b, step: s)
            }
            return
        }
        withUnsafeTemporaryAllocation(of: Int.self, capacity: steps) { pending in
            for s in 0..<steps { pending[s] = s }
            var left = steps, spins = 0
            while left > 0 {
                var kept = 0, ran = false
                for i in 0..<left {
                    let s = pending[i]
                    if progress[s].load(ordering: .acquiring) >= b {
                        body(s)
                        done(block: b, step: s)
                        ran = true
                    } else {
                        pending[kept] = s
                        kept += 1
                    }
                }
                left = kept
                if !ran {
                    spins += 1
                    if spins == 2_000 {  // the block before is late (its thread descheduled): let it run
                        sched_yield()
                        spins = 0
                    }
                }
            }
        }
    }

    /// Block `b` has done `step` (call it after `waitForTurn(block: b, step:)`).
    @inline(__always)
    func done(block b: Int, step: Int) {
        progress[step].store(b + 1, ordering: .releasing)
    }
}

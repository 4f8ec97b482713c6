import Dispatch
import Foundation
import Synchronization

/// Runs the parts of a parallel loop on dedicated threads: part 0 on the calling thread, the others
/// taken one at a time by helper threads that are woken for the loop, and by the calling thread once
/// its part is done (so a helper whose core is taken does not hold the loop up).
///
/// Why not `DispatchQueue.concurrentPerform`: its worker is sometimes slow to wake, so the calling
/// thread takes the next iteration itself and both halves of a two-way split run one after the other
/// (in a ResNet18 training step 13 of 245 per-thread convolution calls ran that way; DenseNet121: 72 of
/// 1,129), and waking it costs more than a short loop. Here a helper is woken for every loop and takes
/// its part within microseconds; the caller takes a part only if no helper has started it by the time
/// its own is done. `engine-bench --parallel-overhead` times both on element-wise loops.
///
/// Helpers spin for 20 µs after their last part (back-to-back loops skip the wake-up), then sleep on
/// a semaphore. `park()` sends spinning helpers to sleep at once:
/// `Kernels.gemm` calls it before a multi-threaded OpenBLAS call, whose own threads need the cores.
/// A loop started while the pool is busy (from inside a part, or from another thread) runs its parts
/// one after the other on its own thread.
@available(macOS 15.0, *)
final class WorkerPool: @unchecked Sendable {
    static let shared = WorkerPool()

    private final class Helper: @unchecked Sendable {
        /// The number of the loop this helper should run a part of next (it has run all before).
        let wanted = Atomic<Int>(0)
        /// `awake` or `asleep` (waiting on `semaphore`).
        let state = Atomic<Int>(Helper.awake)
        let semaphore = DispatchSemaphore(value: 0)
        static let awake = 0, asleep = 1
    }

    /// Bumped by `park()`: a spinning helper that sees it change goes to sleep at once.
    private let parkRequests = Atomic<Int>(0)
    /// Set while a loop runs; `helpers`, `loop` and `job` belong to the thread that set it.
    private let busy = Atomic<Bool>(false)
    private var helpers: [Helper] = []
    private var loop = 0
    nonisolated(unsafe) private var job: ((Int) -> Void)?
    /// The running loop's number, its part count and its next unclaimed part, packed as
    /// (loop << 32) | (parts << 16) | next. Parts 1 … are claimed from it one at a time.
    private let claims = Atomic<Int>(0)
    /// Parts of the running loop that helpers have finished.
    private let completed = Atomic<Int>(0)

    /// How long a helper spins for the next part before it sleeps.
    static let spinNanoseconds: UInt64 = 20_000

    /// Runs `body(0)`, …, `body(parts − 1)`, in parallel when the pool is free.
    func run(parts: Int, _ body: (Int) -> Void) {
        if parts <= 1 || parts >= 1 << 16 || !busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged {
            for p in 0..<parts { body(p) }
            return
        }
        defer { busy.store(false, ordering: .releasing) }
        while helpers.count < parts - 1 { helpers.append(start(index: helpers.count)) }
        withoutActuallyEscaping(body) { body in
            job = body
            loop = (loop + 1) & 0xFFFF_FFFF
            completed.store(0, ordering: .relaxed)
            claims.store(loop << 32 | parts << 16 | 1, ordering: .releasing)
            for helper in helpers[0..<(parts - 1)] {
                helper.wanted.store(loop, ordering: .sequentiallyConsistent)
                if helper.state.exchange(Helper.awake, ordering: .sequentiallyConsistent) == Helper.asleep {
                    helper.semaphore.signal()
                }
            }
            // Part 0, then any part no helper has taken yet (a helper whose core is busy elsewhere
            // should not hold the loop up), then wait for the parts the helpers took.
            body(0)
            var mine = 1
            while let p = claim(loop) {
                body(p)
                mine += 1
            }
            var spins = 0
            while completed.load(ordering: .acquiring) < parts - mine {
                spins += 1
                if spins == 2_000 {  // a helper was descheduled: let it have this core
                    sched_yield()
                    spins = 0
                }
            }
            job = nil
        }
    }

    /// The next unclaimed part of loop `number`, or nil when that loop has none left (or has ended).
    @inline(__always)
    private func claim(_ number: Int) -> Int? {
        var state = claims.load(ordering: .acquiring)
        while true {
            let next = state & 0xFFFF, parts = (state >> 16) & 0xFFFF
            if state >> 32 != number || next >= parts { return nil }
            let (exchanged, original) = claims.compareExchange(expected: state, desired: state + 1,
                                                               ordering: .acquiringAndReleasing)
            if exchanged { return next }
            state = original
        }
    }

    /// Sends spinning helpers to sleep now: called before a multi-threaded OpenBLAS call, whose
    /// worker threads need the cores that spinning helpers would hold.
    func park() {
        parkRequests.add(1, ordering: .relaxed)
    }

    private func start(index: Int) -> Helper {
        let helper = Helper()
        let thread = Thread { [unowned self] in
            var done = 0
            while true {
                done = self.waitForLoop(helper, after: done)
                while let p = self.claim(done) {
                    self.job!(p)
                    self.completed.add(1, ordering: .releasing)
                }
            }
        }
        thread.stackSize = 8 << 20
        thread.name = "adai-bench worker \(index + 1)"
        thread.start()
        return helper
    }

    /// Spins, then sleeps, until the helper is wanted for a loop after `done`; returns that loop's number.
    private func waitForLoop(_ helper: Helper, after done: Int) -> Int {
        let start = DispatchTime.now().uptimeNanoseconds, parks = parkRequests.load(ordering: .relaxed)
        var spins = 0
        while true {
            let wanted = helper.wanted.load(ordering: .acquiring)
            if wanted != done { return wanted }
            spins += 1
            if spins & 63 != 0 { continue }
            if parkRequests.load(ordering: .relaxed) == parks && DispatchTime.now().uptimeNanoseconds - start < Self.spinNanoseconds {
                continue
            }
            // Sleep. Announce it first, then look again: either this look sees the new loop, or the
            // caller's exchange (after its store of `wanted`) sees `asleep` and signals.
            helper.state.store(Helper.asleep, ordering: .sequentiallyConsistent)
            if helper.wanted.load(ordering: .sequentiallyConsistent) != done {
                if helper.state.exchange(Helper.awake, ordering: .sequentiallyConsistent) == Helper.awake {
                    helper.semaphore.wait()  // the caller saw `asleep` and signalled: take that signal
                }
            } else {
                helper.semaphore.wait()  // the caller sets `awake` before it signals
            }
        }
    }
}

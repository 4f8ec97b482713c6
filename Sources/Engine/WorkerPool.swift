import Dispatch
import Foundation
import Synchronization

/// Runs the parts of a parallel loop on dedicated threads: part 0 on the calling thread, part p on
/// helper thread p − 1, each part on its own thread, every time.
///
/// Why not `DispatchQueue.concurrentPerform`: when its worker is slow to wake, the calling thread
/// takes the next iteration itself, so both halves of a two-way split run one after the other (in a
/// ResNet18 training step 13 of 245 per-thread convolution calls ran that way; DenseNet121: 72 of
/// 1,129), and waking its worker costs more than a short loop: `engine-bench --parallel-overhead`
/// measures both ways on the same loops.
///
/// Helpers spin for a short while after their last part (the next parallel loop usually follows
/// within microseconds), then sleep on a semaphore. `park()` sends spinning helpers to sleep at once:
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
    private let remaining = Atomic<Int>(0)
    private var loop = 0
    nonisolated(unsafe) private var job: ((Int) -> Void)?

    /// How long a helper spins for the next part before it sleeps.
    static let spinNanoseconds: UInt64 = 100_000

    /// Runs `body(0)`, …, `body(parts − 1)`, in parallel when the pool is free.
    func run(parts: Int, _ body: (Int) -> Void) {
        if parts <= 1 || !busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged {
            for p in 0..<parts { body(p) }
            return
        }
        defer { busy.store(false, ordering: .releasing) }
        while helpers.count < parts - 1 { helpers.append(start(index: helpers.count)) }
        withoutActuallyEscaping(body) { body in
            job = body
            loop += 1
            remaining.store(parts - 1, ordering: .relaxed)
            for helper in helpers[0..<(parts - 1)] {
                helper.wanted.store(loop, ordering: .sequentiallyConsistent)
                if helper.state.exchange(Helper.awake, ordering: .sequentiallyConsistent) == Helper.asleep {
                    helper.semaphore.signal()
                }
            }
            body(0)
            var spins = 0
            while remaining.load(ordering: .acquiring) > 0 {
                spins += 1
                if spins == 2_000 {  // a helper was descheduled: let it have this core
                    sched_yield()
                    spins = 0
                }
            }
            job = nil
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
                self.job!(index + 1)
                self.remaining.subtract(1, ordering: .releasing)
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

import Foundation

/// OpenBLAS's (pthreads build) worker threads do not go to sleep when a threaded GEMM ends: they
/// spin, calling sched_yield, for about 2^28 cycles (a tenth of a second) waiting for the next job.
/// A training step issues a threaded GEMM every few milliseconds, so they spin all the time, and on
/// a 2-core machine a spinning worker competes with our own threads whenever those run work of their
/// own: measured on the LSTM recurrence (two threads, single-threaded GEMMs), a layer's forward took
/// 29–31 ms with the worker spinning and 15–19 ms without it.
///
/// `stopSpinning()` ends OpenBLAS's worker threads (its own shutdown routine, the one it runs
/// before a fork); the next threaded GEMM starts them again (about 0.1 ms in all). It must only be
/// called while no OpenBLAS call is running, which holds here: GEMMs start and end on the training
/// thread (see `Parallel`). Where the routine does not exist (another BLAS build) it does nothing.
/// With the default `GEMMThreading.split` OpenBLAS runs single-threaded and its workers never get a
/// job; `Parallel.setGEMMThreading(.split)` stops them in case an earlier setting started them.
public enum BLASThreads {
    private static let shutdown: (@convention(c) () -> Int32)? = {
        guard let symbol = loadedSymbol("blas_thread_shutdown_") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) () -> Int32).self)
    }()

    /// Stops OpenBLAS's idle worker threads before our own threads take the cores.
    public static func stopSpinning() {
        _ = shutdown?()
    }
}

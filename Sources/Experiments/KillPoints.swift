import Foundation

/// Named moments of training and of a sweep worker at which the tests kill the process, to show that
/// no moment leaves a run that cannot be finished. `ADAI_BENCH_KILL_AT=<point>[:<n>]` makes the process
/// SIGKILL itself the n-th time (default: the first) it reaches `<point>`; it is read from the environment
/// once and has no other effect. Only the tests set it (docs/RESULTS.md, "Interrupted runs").
public enum KillPoint: String, CaseIterable {
    /// After a training step (before any file of it is written).
    case step
    /// After an epoch's row is in metrics.csv, before its checkpoint.
    case metricsWritten = "metrics-written"
    /// Between a checkpoint's model file and its optimizer file.
    case checkpointModelWritten = "checkpoint-model-written"
    /// After a checkpoint's trainer.json, before run.json says how far the run is (the last epoch's is the stuck-run window).
    case checkpointWritten = "checkpoint-written"
    /// After run.json, before curves.csv is rebuilt.
    case recordWritten = "record-written"
    /// A non-finite loss was seen, before run.json says `diverged`.
    case divergenceSeen = "divergence-seen"
    /// A sweep worker holds the run's lock, before it appends its attempt.
    case lockTaken = "lock-taken"
    /// The trainer returned, before the worker closes its attempt and releases the lock.
    case trained
}

enum KillPoints {
    private static let target: (point: String, occurrence: Int)? = {
        guard let value = ProcessInfo.processInfo.environment["ADAI_BENCH_KILL_AT"], !value.isEmpty else { return nil }
        let parts = value.split(separator: ":", maxSplits: 1).map(String.init)
        return (parts[0], parts.count > 1 ? Int(parts[1]) ?? 1 : 1)
    }()
    nonisolated(unsafe) private static var seen = 0

    /// Kills the process here when `ADAI_BENCH_KILL_AT` names this point and occurrence.
    static func reached(_ point: KillPoint) {
        guard let target, target.point == point.rawValue else { return }
        seen += 1
        if seen == target.occurrence {
            fflush(stdout)
            kill(getpid(), SIGKILL)
            pause()
        }
    }
}

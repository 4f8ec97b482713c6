import Engine
import Foundation
import RunFormat

/// How `sweep --index` left a run.
public enum SweepRunOutcome: Equatable {
    case completed, diverged, interrupted
    case failed(String)
    /// It was finished before this worker came (`completed` or `diverged`).
    case alreadyDone(RunStatus)
    /// Another worker holds its lock.
    case heldElsewhere(String)

    public var summary: String {
        switch self {
        case .completed: return "completed"
        case .diverged: return "diverged"
        case .interrupted: return "interrupted (checkpoint written; the next sweep resumes it)"
        case .failed(let message): return "failed: \(message)"
        case .alreadyDone(let status): return "already \(status.rawValue), skipped"
        case .heldElsewhere(let holder): return "running elsewhere (\(holder)), skipped"
        }
    }
}

public enum SweepWorker {
    /// Trains one run of a sweep under its lock: skips it when it is finished or held by another worker,
    /// resumes it from its checkpoint when it has one (and finishes it when the checkpoint has every epoch),
    /// and records an error as status `failed` (with the message in run.json) instead of throwing, so that
    /// the sweep goes on. Throws only when the lock itself cannot be taken (an unwritable results directory).
    public static func train(_ spec: RunSpec, options: TrainOptions) throws -> SweepRunOutcome {
        let run = spec.runDirectory(results: options.results)
        guard let lock = try RunLock.acquire(run) else {
            return .heldElsewhere(RunLock.holder(run) ?? "another process")
        }
        defer { lock.release() }
        KillPoints.reached(.lockTaken)
        // Re-read under the lock: another worker may have finished it since the caller looked.
        if let record = try? run.readRecord(), record.status.isFinished {
            // A worker killed after the run finished but before it closed its attempt: close it now.
            AttemptLog.closeOpenAttempt(run, status: record.status, endedAt: record.endedAt)
            return .alreadyDone(record.status)
        }
        var attempt = try AttemptLog.begin(run, warn: options.warn)
        let outcome: SweepRunOutcome
        do {
            let runner = ExperimentRunner(config: spec.experiment, options: options)
            let data = try runner.loadDataUnderLock()
            let trainer = try RunTrainer(run: spec, data: data, options: options, experimentDirectory: runner.experimentDirectory,
                                         attempts: attempt.environments)
            switch try trainer.train() {
            case .completed: outcome = .completed
            case .diverged: outcome = .diverged
            case .interrupted: outcome = .interrupted
            case .running, .failed: outcome = .failed("the trainer stopped without a final status")
            }
        } catch {
            let message = "\(error)"
            try? recordFailure(spec, message: message, results: options.results)
            outcome = .failed(message)
        }
        KillPoints.reached(.trained)
        switch outcome {
        case .failed: attempt.end(.failed)
        case .completed: attempt.end(.completed)
        case .diverged: attempt.end(.diverged)
        default: attempt.end(.interrupted)
        }
        return outcome
    }

    /// Closes the open last attempt of each finished run of `grid` (its process was killed after the run
    /// finished, before it closed the attempt), so that attempts.json says how the run ended. Runs whose
    /// lock is held are left to their holder.
    public static func closeAttemptsOfFinishedRuns(_ grid: SweepGrid, results: String) {
        for spec in grid.runs {
            let run = spec.runDirectory(results: results)
            guard let record = try? run.readRecord(), record.status.isFinished,
                  let last = try? run.readAttempts().last, last.status == nil,
                  let lock = try? RunLock.acquire(run) else { continue }
            AttemptLog.closeOpenAttempt(run, status: record.status, endedAt: record.endedAt)
            lock.release()
        }
    }

    /// Writes status `failed` with `message` into the run's run.json, keeping the epochs of its checkpoint
    /// (a finished run is left as it is: that move is not legal).
    static func recordFailure(_ spec: RunSpec, message: String, results: String) throws {
        let run = spec.runDirectory(results: results)
        try FileManager.default.createDirectory(atPath: run.path, withIntermediateDirectories: true)
        let state = (try? run.readTrainerState()) ?? TrainerState.initial(startedAt: timestamp())
        let metrics = MetricsTable(columns: MetricsTable.columns(spec.experiment), rows: state.rows)
        let earlier = ((try? run.readRecord())?.provenance?.attempts) ?? []
        try RunRecordFile(run: spec, directory: run, attempts: earlier).write(status: .failed, state: state, metrics: metrics, error: message)
    }

    /// Records a worker process that ended abnormally (a crash, a kill) as `failed`, unless the run is
    /// finished, already recorded, or held by another process; closes its open attempt either way.
    static func recordAbnormalEnd(_ spec: RunSpec, results: String, message: String) {
        let run = spec.runDirectory(results: results)
        guard let lock = try? RunLock.acquire(run) else { return }
        defer { lock.release() }
        let record = try? run.readRecord()
        if let record, record.status.isFinished {
            AttemptLog.closeOpenAttempt(run, status: record.status, endedAt: record.endedAt)
            return
        }
        if record == nil || record?.status == .running { try? recordFailure(spec, message: message, results: results) }
        AttemptLog.closeOpenAttempt(run, status: .failed)
    }
}

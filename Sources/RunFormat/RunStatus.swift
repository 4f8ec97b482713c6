/// How a run stands, as `run.json` records it.
public enum RunStatus: String, Codable, CaseIterable, Sendable {
    /// A process is training it, or was until it was killed (its lock then is free and the next sweep resumes it).
    case running
    /// Every planned epoch is done.
    case completed
    /// A training loss was not finite; `diverged` in run.json says where.
    case diverged
    /// Stopped by SIGINT/SIGTERM with a checkpoint; `--resume` or the next sweep continues it.
    case interrupted
    /// Stopped by an error or its worker process died; `error` holds the message; the next sweep tries again.
    case failed

    /// Finished for good: never trained again, never rewritten.
    public var isFinished: Bool { self == .completed || self == .diverged }

    /// The legal moves of run.json's status: a run that is not finished may move to any status, a finished
    /// one to none (nil is a run directory without run.json yet). Together with the epoch rule of
    /// `RunRecord.problem`, this makes the stuck state (`running` with nothing left to train, which a run killed
    /// between its last checkpoint and its `completed` once reached, so that every resume trained nothing and
    /// left it `running`) impossible to write.
    public static func canMove(from old: RunStatus?, to new: RunStatus) -> Bool {
        guard let old else { return true }
        return !old.isFinished
    }
}

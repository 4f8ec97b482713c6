/// The trainer's own state in a checkpoint (`checkpoint/trainer.json`): where the run stands and the
/// metrics so far. Model, optimizer and carried tensors sit beside it in safetensors files whose names
/// carry the checkpoint's generation (`RunDirectory.modelFile(generation:)`…), so a crash while writing a
/// new checkpoint leaves the previous one whole: `trainer.json` is replaced last and names the files it goes with.
public struct TrainerState: Codable, Equatable, Sendable {
    public var generation: Int
    /// The 0-based epoch to run next (or to continue, when `stepInEpoch` > 0).
    public var nextEpoch: Int
    /// Steps of `nextEpoch` already taken (non-zero only for a checkpoint written on interruption).
    public var stepInEpoch: Int
    /// Running sums of the unfinished epoch.
    public var lossSum: Double, errorSum: Double, count: Double
    /// Metrics rows of the finished epochs.
    public var rows: [[Double]]
    public var startedAt: String
    /// The AWD-LSTM recipe's state (absent for other tasks, and in checkpoints written before it existed).
    public var recipe: RecipeState?

    public init(generation: Int, nextEpoch: Int, stepInEpoch: Int, lossSum: Double, errorSum: Double, count: Double,
                rows: [[Double]], startedAt: String, recipe: RecipeState? = nil) {
        self.generation = generation; self.nextEpoch = nextEpoch; self.stepInEpoch = stepInEpoch
        self.lossSum = lossSum; self.errorSum = errorSum; self.count = count; self.rows = rows; self.startedAt = startedAt
        self.recipe = recipe
    }

    public static func initial(startedAt: String) -> TrainerState {
        TrainerState(generation: 0, nextEpoch: 0, stepInEpoch: 0, lossSum: 0, errorSum: 0, count: 0, rows: [], startedAt: startedAt)
    }
}

/// What the AWD-LSTM recipe (the AdaMomentum authors' main.py) keeps beyond the model and the optimizer:
/// the switch from SGD to ASGD and what decides it, and the train-loss log window.
public struct RecipeState: Codable, Equatable, Sendable {
    /// The 1-based epoch at whose end SGD switched to ASGD; nil before (and for every other optimizer).
    public var asgdSince: Int?
    /// main.py's `best_val_loss`: the monitored loss (test, batch 1) of each epoch up to the switch.
    public var monitored: [Double]
    /// Cross-entropy summed over the current log window of this epoch.
    public var windowLossSum: Double
    /// The mean cross-entropy of the epoch's last complete log window (nil before the first).
    public var lastWindowLoss: Double?

    public init(asgdSince: Int? = nil, monitored: [Double] = [], windowLossSum: Double = 0, lastWindowLoss: Double? = nil) {
        self.asgdSince = asgdSince; self.monitored = monitored; self.windowLossSum = windowLossSum; self.lastWindowLoss = lastWindowLoss
    }
}

/// `attempts.json`: one entry per time a process took the run and trained it (`train` or a sweep worker):
/// pid, host, where it started from, its machine, how it ended. A killed process's entry has no `endedAt`
/// until a later process closes it. Written under the run's lock (sweeps) so that entries never overlap.
public struct RunAttempt: Codable, Equatable, Sendable {
    public var pid: Int32
    public var host: String
    /// When it started, from where (epoch, step) and on what (threads, CPU, OpenBLAS): the entry that run.json's
    /// `provenance.attempts` repeats.
    public var environment: AttemptEnvironment
    /// Set when the attempt resumed on another CPU or OpenBLAS kernel than the previous one.
    public var note: String?
    public var endedAt: String?
    public var status: RunStatus?

    public init(pid: Int32, host: String, environment: AttemptEnvironment, note: String? = nil) {
        self.pid = pid; self.host = host; self.environment = environment; self.note = note
    }

    public var startedAt: String { environment.startedAt }
    /// The 0-based epoch and step the attempt started from (non-zero when it resumed a checkpoint).
    public var fromEpoch: Int { environment.fromEpoch }
    public var fromStep: Int { environment.fromStep }
}

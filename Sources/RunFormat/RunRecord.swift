import Foundation

/// `run.json`: a run's resolved settings, status, results and provenance (docs/RESULTS.md). Written only
/// through `RunDirectory.write(_:)`, read by every target through `RunDirectory.readRecord()`.
public struct RunRecord: Codable, Equatable, Sendable {
    public struct Result: Codable, Equatable, Sendable {
        public var value: Double
        public var epoch: Int
        public init(value: Double, epoch: Int) { self.value = value; self.epoch = epoch }
    }
    public struct Divergence: Codable, Equatable, Sendable {
        public var epoch: Int
        public var step: Int
        public init(epoch: Int, step: Int) { self.epoch = epoch; self.step = step }
    }

    public var experiment: String?
    public var runId: String?
    public var dataset: String
    public var model: String
    public var optimizer: String
    public var lr: Double
    public var weightDecay: Double
    public var seed: Int
    public var epochsPlanned: Int
    public var epochsCompleted: Int
    public var status: RunStatus
    public var metric: String
    /// The metric after the last finished epoch, and its lowest value over epochs (absent until an epoch finishes).
    public var final: Result?
    public var best: Result?
    public var startedAt: String?
    public var endedAt: String?
    public var diverged: Divergence?
    public var error: String?
    public var provenance: RunProvenance?
    /// The experiment's settings for this run with every default filled in.
    public var config: RunConfig?

    public init(experiment: String?, runId: String?, dataset: String, model: String, optimizer: String, lr: Double,
                weightDecay: Double, seed: Int, epochsPlanned: Int, epochsCompleted: Int, status: RunStatus, metric: String) {
        self.experiment = experiment; self.runId = runId; self.dataset = dataset; self.model = model
        self.optimizer = optimizer; self.lr = lr; self.weightDecay = weightDecay; self.seed = seed
        self.epochsPlanned = epochsPlanned; self.epochsCompleted = epochsCompleted; self.status = status; self.metric = metric
    }

    /// Sets `final` and `best` from the metric's values per epoch (`best` is the lowest finite value).
    public mutating func setResults(values: [Double], epochs: [Int]) {
        guard let last = values.indices.last else { final = nil; best = nil; return }
        final = Result(value: values[last], epoch: epochs[last])
        let finite = values.indices.filter { values[$0].isFinite }
        let b = finite.min { values[$0] < values[$1] } ?? last
        best = Result(value: values[b], epoch: epochs[b])
    }

    /// Why this record must not be written, or nil: `running` and `interrupted` say that epochs are left,
    /// `completed` that none is.
    public var problem: String? {
        switch status {
        case .running, .interrupted:
            if epochsCompleted >= epochsPlanned {
                return "status \(status.rawValue) with all \(epochsPlanned) epochs done (the run is completed)"
            }
        case .completed:
            if epochsCompleted < epochsPlanned {
                return "status completed with \(epochsCompleted) of \(epochsPlanned) epochs done"
            }
        case .diverged, .failed:
            break
        }
        return nil
    }
}

/// Where a run's numbers came from. `attempts` has one entry per time a process trained the run
/// (its threads, CPU and OpenBLAS build and kernel), in order.
public struct RunProvenance: Codable, Equatable, Sendable {
    public var gitCommit: String
    public var os: String?
    public var versions: [String: String]
    public var attempts: [AttemptEnvironment]?
    public init(gitCommit: String, os: String?, versions: [String: String], attempts: [AttemptEnvironment]) {
        self.gitCommit = gitCommit; self.os = os; self.versions = versions; self.attempts = attempts
    }
}

/// The machine an attempt trained on, as far as it decides the numbers. Sums do not depend on the thread
/// count, so a run resumed with other threads is bitwise equal to an uninterrupted one; on another CPU or
/// OpenBLAS kernel (other vector units, other GEMM blocking) that cannot be promised.
public struct AttemptEnvironment: Codable, Equatable, Sendable {
    public var startedAt: String
    /// The 0-based epoch and step the attempt started from (non-zero when it resumed a checkpoint).
    public var fromEpoch: Int
    public var fromStep: Int
    public var threads: Int
    public var cpu: String
    /// OpenBLAS's `openblas_get_config()` (version, build options, kernel) and `openblas_get_corename()`.
    public var openblasConfig: String
    public var openblasCore: String

    public init(startedAt: String, fromEpoch: Int, fromStep: Int, threads: Int, cpu: String, openblasConfig: String, openblasCore: String) {
        self.startedAt = startedAt; self.fromEpoch = fromEpoch; self.fromStep = fromStep; self.threads = threads
        self.cpu = cpu; self.openblasConfig = openblasConfig; self.openblasCore = openblasCore
    }

    /// What differs from `earlier` among the things that decide the bits (CPU, OpenBLAS kernel), e.g.
    /// `CPU "A" → "B"`; empty when nothing does. Threads are left out: results do not depend on them.
    public func bitwiseDifferences(from earlier: AttemptEnvironment) -> [String] {
        var out: [String] = []
        if cpu != earlier.cpu { out.append("CPU \"\(earlier.cpu)\" → \"\(cpu)\"") }
        if openblasCore != earlier.openblasCore { out.append("OpenBLAS kernel \(earlier.openblasCore) → \(openblasCore)") }
        else if openblasConfig != earlier.openblasConfig { out.append("OpenBLAS \"\(earlier.openblasConfig)\" → \"\(openblasConfig)\"") }
        return out
    }
}

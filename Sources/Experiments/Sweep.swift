import Engine
import Foundation
import Optim
import RunFormat

/// A problem that stops a sweep command (bad grid, bad index, no sbatch), with what to do about it.
public struct SweepError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The runs of `adai-bench sweep`: the config's optimizers, each expanded over the `sweep` lists, times the seeds.
public struct SweepGrid {
    public let config: ExperimentConfig
    /// Every run, in a stable order: optimizers in config order, then lr, weight decay, other swept keys
    /// (alphabetically), then seeds. `sweep --index I` runs `runs[I]`.
    public let runs: [RunSpec]
    public let slurm: SlurmSettings

    /// Run `index` of the grid, or an error that says which indices exist.
    public func run(index: Int) throws -> RunSpec {
        guard runs.indices.contains(index) else {
            throw SweepError("--index \(index): the sweep of \(config.name) has \(runs.count) runs, numbered 0 to \(runs.count - 1); `adai-bench sweep --plan` lists them")
        }
        return runs[index]
    }
}

extension ExperimentConfig {
    /// Expands the `sweep` section (docs/CONFIG.md). Without one, the grid is the runs of `train`
    /// (each optimizer entry with each of `training.seeds`).
    public func sweepGrid() throws -> SweepGrid {
        let sweep = self.sweep ?? SweepSpec()
        var problems: [String] = []
        let configured = optimizers.map(\.name)

        // Which optimizer entries take part.
        var selected = optimizers
        if let names = sweep.optimizers {
            for name in names where !configured.contains(name) {
                problems.append("sweep.optimizers: \"\(name)\" has no entry in \"optimizers\"; add {\"name\": \"\(name)\", ...} there or remove it from the sweep (the config has \(configured.joined(separator: ", ")))")
            }
            selected = optimizers.filter { names.contains($0.name) }
        }
        // Lists keyed by an optimizer must name one the config trains.
        for (key, value) in sweep.lists.sorted(by: { $0.key < $1.key }) {
            if optimizerNames.contains(key) {
                if !configured.contains(key) {
                    problems.append("sweep.\(key): the config has no \"\(key)\" entry in \"optimizers\" for these lists to apply to")
                }
            } else if case .byName(let byOptimizer) = value {
                for name in byOptimizer.keys.sorted() where !configured.contains(name) {
                    problems.append("sweep.\(key).\(name): the config has no \"\(name)\" entry in \"optimizers\"; add one or remove this list")
                }
            }
        }
        let seeds = sweep.seeds ?? training.seeds

        var runs: [RunSpec] = []
        for entry in selected {
            // The swept values of each key for this optimizer: its own lists first, then the global ones.
            var axes: [String: [Double]] = [:]
            for (key, value) in sweep.lists where !optimizerNames.contains(key) {
                switch value {
                case .values(let list): axes[key] = list
                case .byName(let lists): if let list = lists[entry.name] { axes[key] = list }
                }
            }
            if case .byName(let overrides)? = sweep.lists[entry.name] {
                for (key, list) in overrides { axes[key] = list }
            }
            let order = ["lr", "weightDecay"].filter { axes[$0] != nil } + axes.keys.filter { $0 != "lr" && $0 != "weightDecay" }.sorted()
            let swept = order.filter { $0 != "lr" && $0 != "weightDecay" }
            var combinations: [[String: Double]] = [[:]]
            for key in order {
                combinations = combinations.flatMap { partial in axes[key]!.map { partial.merging([key: $0]) { $1 } } }
            }
            for combination in combinations {
                var spec = entry
                for (key, value) in combination { spec.options[key] = .number(value) }
                let label = order.map { "\($0)=\(formatValue(combination[$0]!))" }.joined(separator: ", ")
                if let problem = sweepSettingProblem(spec) {
                    problems.append("sweep: \(entry.name) with \(label): \(problem)")
                    continue
                }
                for seed in seeds { runs.append(RunSpec(experiment: self, optimizer: spec, seed: seed, sweptKeys: swept)) }
            }
        }
        if problems.isEmpty {
            var seen: [String: Int] = [:]
            for (i, run) in runs.enumerated() {
                if let first = seen[run.id] {
                    problems.append("sweep: runs \(first) and \(i) both have the id \(run.id) (two \"\(run.optimizer.name)\" entries that differ only in keys the id leaves out); give them different lr or weight decay, or sweep the differing key so that it joins the id")
                } else {
                    seen[run.id] = i
                }
            }
        }
        if runs.isEmpty && problems.isEmpty { problems.append("sweep: the grid is empty; list optimizers that the config trains") }
        guard problems.isEmpty else { throw ConfigError(file: "\(name) sweep", problems: problems) }
        return SweepGrid(config: self, runs: runs, slurm: sweep.slurm ?? SlurmSettings())
    }

}

/// Why an optimizer cannot take these settings (the Optim module's own check), or nil.
private func sweepSettingProblem(_ spec: OptimizerSpec) -> String? {
    do {
        try validateOptimizerOptions(spec.name, spec.options)
        return nil
    } catch {
        return "\(error)"
    }
}

// MARK: - Where each run stands

/// A run's state as `sweep --plan` and the schedulers see it.
public enum SweepRunState: Equatable {
    /// Finished: `completed` or `diverged`.
    case done(RunStatus)
    /// Another process holds the run's lock (its pid, host and start time).
    case running(holder: String)
    /// The last attempt stopped with an error; a new sweep tries it again (from its checkpoint).
    case failed(String)
    /// Not started, interrupted or crashed: `epochs` finished epochs so far.
    case left(epochs: Int)

    public var label: String {
        switch self {
        case .done(let status): return status == .completed ? "done" : "done (\(status.rawValue))"
        case .running: return "running"
        case .failed: return "failed"
        case .left(let epochs): return epochs > 0 ? "left (resumes)" : "left"
        }
    }

    public var isDone: Bool { if case .done = self { return true }; return false }
    public var isRunning: Bool { if case .running = self { return true }; return false }
}

extension SweepGrid {
    /// The state of every run under `results`.
    public func states(results: String) -> [SweepRunState] {
        runs.map { SweepGrid.state(runDirectory: $0.directory(results: results)) }
    }

    static func state(runDirectory dir: String) -> SweepRunState {
        let run = RunDirectory(dir)
        if let holder = RunLock.holder(run) { return .running(holder: holder) }
        guard let record = try? run.readRecord() else { return .left(epochs: 0) }
        if record.status.isFinished { return .done(record.status) }
        if record.status == .failed { return .failed(record.error ?? "no message recorded") }
        return .left(epochs: record.epochsCompleted)
    }
}

extension ExperimentRunner {
    /// Loads (and for synthetic data first writes) the data under the experiment's data lock, so that the
    /// workers that start next find it whole; a missing data set is reported here, before any run starts.
    public func prepareData() throws { _ = try loadDataUnderLock() }

    func loadDataUnderLock() throws -> PreparedData {
        try FileManager.default.createDirectory(atPath: experimentDirectory, withIntermediateDirectories: true)
        return try withFileLock(ExperimentDirectory(experimentDirectory).dataLock) { try loadData() }
    }
}

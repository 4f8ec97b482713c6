import Engine
import Foundation
import NN
import Optim
import RunFormat

/// Writes a run's `run.json` (the `RunRecord` of RunFormat) from the trainer's state.
struct RunRecordFile {
    let run: RunSpec
    let directory: RunDirectory
    let metricName: String
    /// The environment of every attempt so far, this one last (run.json's `provenance.attempts`).
    var attempts: [AttemptEnvironment]

    init(run: RunSpec, directory: RunDirectory, attempts: [AttemptEnvironment]) {
        self.run = run
        self.directory = directory
        self.metricName = run.experiment.isLanguageModel ? "test_ppl" : "test_error"
        self.attempts = attempts
    }

    func record(status: RunStatus, state: TrainerState, metrics: MetricsTable, diverged: RunRecord.Divergence? = nil,
                error: String? = nil) -> RunRecord {
        let c = run.experiment
        var record = RunRecord(experiment: c.name, runId: run.id, dataset: c.dataset.kind.rawValue, model: c.model.name,
                               optimizer: run.optimizer.name, lr: run.optimizer.lr, weightDecay: run.optimizer.weightDecay,
                               seed: run.seed, epochsPlanned: c.training.epochs, epochsCompleted: metrics.rows.count,
                               status: status, metric: metricName)
        record.startedAt = state.startedAt
        if status != .running { record.endedAt = timestamp() }
        record.diverged = diverged
        record.error = error
        if let values = metrics.column(metricName), let epochs = metrics.column("epoch") {
            record.setResults(values: values, epochs: epochs.map { Int($0) })
        }
        record.provenance = Provenance.record(attempts: attempts)
        record.config = resolvedConfig()
        return record
    }

    func write(status: RunStatus, state: TrainerState, metrics: MetricsTable, diverged: RunRecord.Divergence? = nil,
               error: String? = nil) throws {
        try directory.write(record(status: status, state: state, metrics: metrics, diverged: diverged, error: error))
    }

    /// The experiment's settings for this run with every default filled in.
    func resolvedConfig() -> RunConfig { run.experiment.runConfig(optimizer: run.optimizer, seed: run.seed) }
}

/// `curves.csv`: every run of an experiment in long form, rebuilt from the runs' files. Rebuilt under the
/// experiment's curves lock, so that of two workers finishing epochs at once the later one reads (and
/// writes) both epochs, and a worker killed before its rebuild leaves the file to the next rebuild.
enum CurvesFile {
    static func rebuild(experiment: ExperimentDirectory) throws {
        try withFileLock(experiment.curvesLock) {
            var header: [String]?
            var lines: [String] = []
            for run in experiment.runDirectories() {
                guard let record = try? run.readRecord(), FileManager.default.fileExists(atPath: run.metricsCSV) else { continue }
                let metrics = try MetricsTable.read(path: run.metricsCSV)
                // The run's configured lr is `lr`; the lr of each epoch (after the schedule) is `epoch_lr`.
                let metricColumns = metrics.columns.map { $0 == "lr" ? "epoch_lr" : $0 }
                if header == nil { header = ["optimizer", "lr", "weight_decay", "seed"] + metricColumns }
                guard metricColumns == Array(header!.dropFirst(4)) else { continue }
                let prefix = [record.optimizer, MetricsTable.format(record.lr), MetricsTable.format(record.weightDecay), String(record.seed)]
                for row in metrics.rows { lines.append((prefix + row.map(MetricsTable.format)).joined(separator: ",")) }
            }
            guard let header else { return }
            try AtomicFile.write(([header.joined(separator: ",")] + lines).joined(separator: "\n") + "\n", to: experiment.curvesCSV)
        }
    }
}

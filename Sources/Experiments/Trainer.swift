import Datasets
import Engine
import Foundation
import NN
import Optim
import RunFormat

/// How `train` runs (the command-line options that are not config overrides).
public struct TrainOptions {
    public var results = "results"
    /// At most this many training steps per epoch (smoke tests); nil means whole epochs.
    public var maxSteps: Int?
    public var checkpointEvery = 1
    public var resume = false
    /// Live progress bar (a terminal) or one line per epoch.
    public var liveProgress = isatty(STDOUT_FILENO) != 0
    public var log: (String) -> Void = { print($0); fflush(stdout) }
    /// One-line warnings (a resume on another CPU or OpenBLAS kernel); stderr by default.
    public var warn: (String) -> Void = AttemptLog.printWarning
    /// Behave as if SIGINT arrived right after this step (0-based epoch, 1-based step count) — for tests.
    public var interruptAt: (epoch: Int, step: Int)?
    /// steps.csv and batch records (StepRecords.swift).
    public var stepRecords = StepRecordOptions()
    public init() {}
}

/// Set by SIGINT/SIGTERM; the trainer checkpoints at the next step boundary and stops.
nonisolated(unsafe) var stopRequested: Int32 = 0

public enum StopSignals {
    /// Installs handlers so that SIGINT and SIGTERM stop training cleanly at the next step boundary.
    public static func install() {
        signal(SIGINT) { _ in stopRequested = 1 }
        signal(SIGTERM) { _ in stopRequested = 1 }
    }
    public static var requested: Bool { stopRequested != 0 }
}

/// Trains every run of an experiment, one after another.
public final class ExperimentRunner {
    public let config: ExperimentConfig
    public let options: TrainOptions

    public init(config: ExperimentConfig, options: TrainOptions) {
        self.config = config
        self.options = options
    }

    public var experimentDirectory: String { "\(options.results)/\(config.name)" }

    /// Runs every run; returns each run's status. Throws for problems that stop everything (bad data).
    @discardableResult
    public func run() throws -> [(RunSpec, RunStatus)] {
        let data = try loadDataUnderLock()
        var outcomes: [(RunSpec, RunStatus)] = []
        for run in config.runs {
            let directory = run.runDirectory(results: options.results)
            let dir = directory.path
            if let status = directory.status() {
                if status.isFinished {
                    guard options.resume else {
                        throw TrainError("\(dir) already holds a \(status.rawValue) run; pass --resume to skip finished runs and continue unfinished ones, or delete it to train again")
                    }
                    // A process killed after the run finished but before it closed its attempt: close it now.
                    AttemptLog.closeOpenAttempt(directory, status: status, endedAt: (try? directory.readRecord())?.endedAt)
                    options.log("\(run.id): already \(status.rawValue), skipped")
                    outcomes.append((run, status))
                    continue
                }
                guard options.resume else {
                    throw TrainError("\(dir) holds an unfinished run (status \(status.rawValue)); pass --resume to continue it, or delete the directory to start again")
                }
            }
            var attempt = try AttemptLog.begin(directory, warn: options.warn)
            let status: RunStatus
            do {
                let trainer = try RunTrainer(run: run, data: data, options: options, experimentDirectory: experimentDirectory,
                                             attempts: attempt.environments)
                status = try trainer.train()
            } catch {
                attempt.end(.failed)
                throw error
            }
            attempt.end(status)
            outcomes.append((run, status))
            if status == .interrupted { break }
        }
        // A process killed between a run's run.json and its curves.csv rebuild left curves.csv an epoch behind.
        try CurvesFile.rebuild(experiment: ExperimentDirectory(experimentDirectory))
        return outcomes
    }

    /// Loads (or, for synthetic data, first writes) the data set once for all runs. Call it under the
    /// experiment's data lock (`loadDataUnderLock`).
    func loadData() throws -> PreparedData {
        var dir = config.dataset.dir
        if let s = config.dataset.synthetic {
            let experiment = ExperimentDirectory(experimentDirectory)
            dir = experiment.syntheticData
            let folder = config.dataset.kind.folderName
            if !FileManager.default.fileExists(atPath: "\(dir)/\(folder)") {
                // Written into a scratch directory and renamed into place, so that a process killed while writing
                // leaves no half-written data set that the next one would take for whole.
                let scratch = "\(experimentDirectory)/.synthetic-data.tmp"
                try? FileManager.default.removeItem(atPath: scratch)
                if let variant = config.dataset.kind.cifarVariant {
                    try SyntheticData.writeCIFAR(variant: variant, train: s.train, test: s.test, seed: UInt64(s.seed), directory: scratch)
                } else {
                    try SyntheticData.writePTB(trainLines: s.train, testLines: s.test, seed: UInt64(s.seed), directory: scratch)
                }
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
                guard rename("\(scratch)/\(folder)", "\(dir)/\(folder)") == 0 else {
                    throw TrainError("cannot move the synthetic data from \(scratch) into \(dir): \(String(cString: strerror(errno)))")
                }
                try? FileManager.default.removeItem(atPath: scratch)
            }
        }
        do {
            guard !config.dataset.kind.isText else { return .text(try PTBCorpus(directory: dir)) }
            let warn = options.log
            let train = try config.dataset.readCIFAR(.train, directory: dir, warn: { warn("warning: " + $0) })
            let test = try config.dataset.readCIFAR(.test, directory: dir)
            if (config.dataset.mean == nil) != (config.dataset.std == nil) {
                throw TrainError("dataset: give both \"mean\" and \"std\" to override the normalisation, or neither")
            }
            let normalization = try config.dataset.normalization()
            if config.dataset.validation > 0 {
                let (kept, held) = try train.holdingOut(last: config.dataset.validation)
                return .images(train: kept, validation: held, test: test, normalization: normalization)
            }
            return .images(train: train, validation: nil, test: test, normalization: normalization)
        } catch let error as DatasetError {
            throw TrainError("\(error.localizedDescription)")
        }
    }
}

/// Trains one run: the epoch loop, evaluation, metrics, checkpoints, resume and divergence.
final class RunTrainer {
    let run: RunSpec, options: TrainOptions
    let directory: RunDirectory, experimentDirectory: String
    let attempts: [AttemptEnvironment]
    let model: Model, task: TrainingTask
    /// The optimizer of the next step (the task's: the AWD recipe switches SGD to ASGD).
    var optimizer: any Optimizer { task.optimizer }
    let modelDescription: String

    init(run: RunSpec, data: PreparedData, options: TrainOptions, experimentDirectory: String, attempts: [AttemptEnvironment]) throws {
        self.run = run
        self.options = options
        self.experimentDirectory = experimentDirectory
        self.attempts = attempts
        directory = run.runDirectory(results: options.results)
        let c = run.experiment
        let modelConfig: ModelConfiguration
        switch data {
        case .images(let train, _, _, _): modelConfig = c.model.configuration(classes: train.classCount)
        case .text(let corpus): modelConfig = c.model.configuration(vocabulary: corpus.vocabulary.count)
        }
        modelDescription = modelConfig.description
        model = try ModelZoo.make(modelConfig, seed: UInt64(run.seed))
        let parameters = model.module.namedParameters.map { NamedParameter($0.0, $0.1) }
        let optimizer = try makeOptimizer(run.optimizer.name, parameters: parameters, options: run.optimizer.options)
        switch (data, model) {
        case (.images(let train, let validation, let test, let normalization), .imageClassifier(let layer)):
            task = try ImageClassificationTask(model: layer, optimizer: optimizer, train: train, validation: validation, test: test,
                                               normalization: normalization, batchSize: c.training.batchSize,
                                               evalBatchSize: c.training.evalBatchSize, seed: run.seed)
        case (.text(let corpus), .languageModel(let lm)):
            task = try LanguageModelTask(model: lm, optimizer: optimizer, corpus: corpus, batchSize: c.training.batchSize,
                                         evalBatchSize: c.training.evalBatchSize, bptt: c.training.bptt,
                                         clipNorm: c.training.clipNorm, seed: run.seed)
        case (.text(let corpus), .awdLanguageModel(let lm)):
            task = try AWDLanguageModelTask(model: lm, optimizer: optimizer, optimizerName: run.optimizer.name,
                                            optimizerOptions: run.optimizer.options, corpus: corpus, training: c.training, seed: run.seed)
        default:
            throw TrainError("model \(c.model.name) does not fit data set \(c.dataset.kind.rawValue)")
        }
    }

    func train() throws -> RunStatus {
        try FileManager.default.createDirectory(atPath: directory.path, withIntermediateDirectories: true)
        var state = TrainerState.initial(startedAt: timestamp())
        let task = self.task
        if let (restored, carried) = try RunCheckpoint.load(run: directory, model: model.module, modelDescription: modelDescription,
                                                            optimizer: { try task.restore(recipe: $0.recipe); return task.optimizer }) {
            state = restored
            task.carriedState = carried
            if state.nextEpoch < run.experiment.training.epochs {
                options.log("\(run.id): resuming at epoch \(state.nextEpoch + 1), step \(state.stepInEpoch)")
            }
        } else if FileManager.default.fileExists(atPath: directory.runJSON) {
            options.log("\(run.id): no checkpoint yet, starting from the beginning")
        }
        var metrics = MetricsTable(columns: task.columns, rows: state.rows)
        let record = RunRecordFile(run: run, directory: directory, attempts: attempts)
        let experiment = ExperimentDirectory(experimentDirectory)
        let epochs = run.experiment.training.epochs
        // metrics.csv may hold a row the checkpoint does not (killed between the two); the checkpoint's rows are the truth.
        if !state.rows.isEmpty {
            try metrics.write(to: directory.metricsCSV)
        } else if FileManager.default.fileExists(atPath: directory.metricsCSV) {
            try FileManager.default.removeItem(atPath: directory.metricsCSV)
        }
        if state.nextEpoch >= epochs {
            // Killed after the last epoch's checkpoint, before run.json said so: nothing is left to train.
            try record.write(status: .completed, state: state, metrics: metrics)
            try CurvesFile.rebuild(experiment: experiment)
            options.log("\(run.id): all \(epochs) epochs are in the checkpoint; recorded as completed")
            return .completed
        }
        try record.write(status: .running, state: state, metrics: metrics)
        let maxSteps = options.maxSteps ?? Int.max
        let progress = Progress(run: run, epochs: epochs, steps: min(task.stepCount(epoch: state.nextEpoch), maxSteps),
                                live: options.liveProgress, log: options.log)
        let stepRecorder = try StepRecorder(options: options.stepRecords, runDirectory: directory, task: task, isLanguageModel:
            run.experiment.isLanguageModel, stepsBefore: { epoch in (0..<epoch).reduce(0) { $0 + min(task.stepCount(epoch: $1), maxSteps) } },
            resumeAt: (state.nextEpoch, state.stepInEpoch))

        while state.nextEpoch < epochs {
            let epoch = state.nextEpoch
            task.setLearningRates(run.experiment.training.schedule, epoch: epoch)
            let lr = optimizer.groups[0].lr
            let started = DispatchTime.now().uptimeNanoseconds
            task.beginEpoch(epoch, fromStep: state.stepInEpoch)
            let stepsPerEpoch = min(task.stepCount(epoch: epoch), maxSteps)
            progress.steps = stepsPerEpoch
            var step = state.stepInEpoch
            while step < stepsPerEpoch {
                let (loss, errors, count) = task.trainStep(epoch: epoch, step: step)
                KillPoints.reached(.step)
                stepRecorder?.record(epoch: epoch, step: step + 1, lr: lr, loss: loss, errors: errors, count: count)
                if !loss.isFinite {
                    try stepRecorder?.flush()
                    KillPoints.reached(.divergenceSeen)
                    progress.finishLine()
                    options.log("\(run.id): diverged at epoch \(epoch + 1), step \(step + 1) (loss \(loss)); going on with the next run")
                    try record.write(status: .diverged, state: state, metrics: metrics, diverged: RunRecord.Divergence(epoch: epoch + 1, step: step + 1))
                    return .diverged
                }
                state.lossSum += loss * count
                state.errorSum += errors
                state.count += count
                step += 1
                state.stepInEpoch = step
                progress.step(epoch: epoch, step: step, lossSum: state.lossSum, errorSum: state.errorSum, count: state.count,
                              isLanguageModel: run.experiment.isLanguageModel, seconds: elapsed(since: started))
                let interruptHere = options.interruptAt.map { $0.epoch == epoch && $0.step == step } ?? false
                if (StopSignals.requested || interruptHere) && step < stepsPerEpoch {
                    try stepRecorder?.flush()
                    progress.finishLine()
                    state.generation += 1
                    state.recipe = task.recipeState
                    try RunCheckpoint.save(run: directory, state: state, model: model.module, optimizer: optimizer,
                                           carried: task.carriedState)
                    try record.write(status: .interrupted, state: state, metrics: metrics)
                    options.log("\(run.id): interrupted at epoch \(epoch + 1), step \(step); checkpoint written, continue with --resume")
                    return .interrupted
                }
            }
            try stepRecorder?.flush()
            let trainColumns = task.trainColumns(lossSum: state.lossSum, errorSum: state.errorSum, count: state.count)
            let trainSeconds = elapsed(since: started)
            // Training's idle buffers go back to the system before evaluation and evaluation's after it,
            // so that the process holds the larger of the two phases' memory, not their sum.
            BufferPool.shared.trim()
            let evaluation = task.evaluate()
            BufferPool.shared.trim()
            if let note = try task.endEpoch(epoch, evaluation: evaluation) {
                progress.finishLine()
                options.log("\(run.id): \(note)")
            }
            let seconds = elapsed(since: started)
            // Throughput counts training only (this session's steps, when the epoch was resumed mid-way).
            let row = [Double(epoch + 1), lr] + trainColumns + evaluation + [seconds, state.count / max(trainSeconds, 1e-9)]
            metrics.rows.append(row)
            state = TrainerState(generation: state.generation, nextEpoch: epoch + 1, stepInEpoch: 0, lossSum: 0, errorSum: 0,
                                 count: 0, rows: metrics.rows, startedAt: state.startedAt, recipe: task.recipeState)
            try metrics.write(to: directory.metricsCSV)
            KillPoints.reached(.metricsWritten)
            if (epoch + 1) % options.checkpointEvery == 0 || epoch + 1 == epochs || StopSignals.requested {
                state.generation += 1
                try RunCheckpoint.save(run: directory, state: state, model: model.module, optimizer: optimizer,
                                       carried: task.carriedState)
                KillPoints.reached(.checkpointWritten)
            }
            let finished = epoch + 1 == epochs
            try record.write(status: finished ? .completed : .running, state: state, metrics: metrics)
            KillPoints.reached(.recordWritten)
            try CurvesFile.rebuild(experiment: experiment)
            progress.epochDone(row: row, columns: metrics.columns)
            if StopSignals.requested && !finished {
                options.log("\(run.id): interrupted after epoch \(epoch + 1); checkpoint written, continue with --resume")
                try record.write(status: .interrupted, state: state, metrics: metrics)
                return .interrupted
            }
        }
        return .completed
    }

    private func elapsed(since start: UInt64) -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
}

/// Progress on a terminal (a live line with loss, error, speed and ETA) or, when output is not a
/// terminal, one plain line per epoch.
final class Progress {
    let run: RunSpec, epochs: Int, live: Bool, log: (String) -> Void
    var steps: Int
    private var lastDraw: UInt64 = 0
    private var drawn = false

    init(run: RunSpec, epochs: Int, steps: Int, live: Bool, log: @escaping (String) -> Void) {
        self.run = run; self.epochs = epochs; self.steps = steps; self.live = live; self.log = log
    }

    func step(epoch: Int, step: Int, lossSum: Double, errorSum: Double, count: Double, isLanguageModel: Bool, seconds: Double) {
        guard live else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        guard now - lastDraw > 200_000_000 || step == steps else { return }
        lastDraw = now
        let width = 24, filled = steps > 0 ? width * step / steps : width
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let loss = lossSum / max(count, 1)
        let quality = isLanguageModel ? String(format: "ppl %.1f", Foundation.exp(loss)) : String(format: "err %.2f%%", 100 * errorSum / max(count, 1))
        let rate = count / max(seconds, 1e-9)
        let eta = step > 0 ? seconds / Double(step) * Double(steps - step) : 0
        let line = String(format: "\r%@ epoch %d/%d [%@] %d/%d loss %.4f %@ %.0f %@/s ETA %.0fs ", run.id, epoch + 1, epochs, bar,
                          step, steps, loss, quality, rate, isLanguageModel ? "tok" : "img", eta)
        FileHandle.standardOutput.write(Data(line.utf8))
        drawn = true
    }

    func finishLine() {
        if drawn { FileHandle.standardOutput.write(Data("\n".utf8)); drawn = false }
    }

    func epochDone(row: [Double], columns: [String]) {
        finishLine()
        let shown = zip(columns, row).filter { $0.0 != "epoch" }.map { "\($0.0) \(MetricsTable.format(($0.1 * 1e4).rounded() / 1e4))" }
        log("\(run.id) epoch \(Int(row[0]))/\(epochs): " + shown.joined(separator: ", "))
    }
}

import ArgumentParser
import Engine
import Experiments
import Foundation
import RunFormat

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train every (optimizer × seed) run of a JSON experiment config.",
        discussion: """
            Each run writes results/<name>/<optimizer>-lr<lr>-wd<wd>/seed-<s>/ with metrics.csv (one row per epoch), \
            run.json (settings, status, results, provenance) and checkpoint/; results/<name>/curves.csv holds every run \
            in long form. Finished runs are never overwritten: use --resume to skip them and continue unfinished ones. \
            Ctrl-C (SIGINT) or SIGTERM writes a checkpoint at the next step and stops. See docs/CONFIG.md and docs/RESULTS.md.
            """)

    @Option(help: "Path of the experiment config (JSON).")
    var config: String = "configs/quickstart.json"

    @Option(help: "Train only this optimizer of the config (e.g. adai).")
    var optimizer: String?

    @Option(help: "Learning rate for every trained optimizer, replacing the config's.")
    var lr: Double?

    @Option(name: .customLong("weight-decay"), help: "Weight decay for every trained optimizer, replacing the config's.")
    var weightDecay: Double?

    @Option(help: "Train this one seed instead of the config's seeds.")
    var seed: Int?

    @OptionGroup var runOptions: RunOptions

    @Option(help: "Threads for the engine and OpenBLAS (default: all cores).")
    var threads: Int?

    @Flag(name: .customLong("allow-partial-data"), help: "Use the CIFAR files present even if some are missing (a warning names them).")
    var allowPartialData = false

    @Flag(help: "Continue unfinished runs from their last checkpoint and skip finished ones.")
    var resume = false

    @Option(name: .customLong("checkpoint-every"), help: "Write a checkpoint every N epochs (the last epoch's is always written).")
    var checkpointEvery: Int = 1

    @Option(name: .customLong("log-steps"),
            help: "Write steps.csv in each run's directory: every N-th step's epoch, step, lr and its batch's training loss and error.")
    var logSteps: Int?

    @Option(name: .customLong("record-batches"),
            help: ArgumentHelp("Write FILE in each run's directory: per step, the batch's example indices and each example's crop offsets and flip (JSON lines), so another program can replay the same batches.",
                               valueName: "FILE"))
    var recordBatches: String?

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
        if checkpointEvery < 1 { throw ValidationError("--checkpoint-every must be at least 1, got \(checkpointEvery)") }
        do { try StepRecordOptions(logEvery: logSteps, batchesFile: recordBatches).validate() } catch {
            throw ValidationError("\(error)")
        }
    }

    func run() throws {
        Parallel.setThreadCount(threads)
        var overrides = TrainOverrides()
        overrides.optimizer = optimizer
        overrides.lr = lr
        overrides.weightDecay = weightDecay
        overrides.epochs = runOptions.epochs
        overrides.seed = seed
        overrides.dataDir = runOptions.dataDir
        overrides.allowPartialData = allowPartialData
        var options = TrainOptions()
        options.results = runOptions.results
        options.maxSteps = runOptions.maxSteps
        options.resume = resume
        options.checkpointEvery = checkpointEvery
        options.stepRecords = StepRecordOptions(logEvery: logSteps, batchesFile: recordBatches)
        let experiment = try ExperimentConfig.load(path: config).applying(overrides)
        StopSignals.install()
        let outcomes = try ExperimentRunner(config: experiment, options: options).run()
        let counts = Dictionary(grouping: outcomes, by: { $0.1.rawValue }).mapValues(\.count)
        print("\(experiment.name): " + counts.keys.sorted().map { "\(counts[$0]!) \($0)" }.joined(separator: ", ")
              + " — results in \(runOptions.results)/\(experiment.name)")
        if outcomes.contains(where: { $0.1 == .interrupted }) { throw ExitCode(130) }
    }
}

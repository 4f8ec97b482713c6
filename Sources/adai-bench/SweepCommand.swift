import ArgumentParser
import Engine
import Experiments
import Foundation
import RunFormat

struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Run a config's lr × weight-decay × seed grid with local workers or as a Slurm job array.",
        discussion: """
            The grid is the config's `sweep` section (docs/CONFIG.md) expanded per optimizer; every run has the \
            directory `train` gives it (results/<name>/<optimizer>-lr<lr>-wd<wd>/seed-<s>/) and a fixed index. \
            --plan lists the runs (done, running, failed or left) and estimates the CPU-hours from a few timed \
            training steps. The local backend runs the unfinished runs with --workers processes that share the \
            cores; --index I runs run I only (what each Slurm task does). The slurm backend writes an sbatch \
            job-array script (one task per unfinished run) and submits it. Each run holds a lock while it trains, \
            so sweeps started twice, or a local sweep beside a Slurm job, never train a run twice; finished runs \
            are skipped, interrupted or crashed runs resume from their checkpoint, and a run that fails is \
            recorded as `failed` in its run.json while the others go on. Summarise with `adai-bench collect`. \
            The Slurm options replace the config's sweep.slurm settings one by one; without them a task gets \
            sweep.slurm's cores (else 1) and its memory, time, partition and account (else the cluster's defaults).
            """)

    @Option(help: "Path of the experiment config (JSON) with a `sweep` section.")
    var config: String

    @Flag(help: "List the runs with their status and estimate the CPU-hours; trains nothing.")
    var plan = false

    @Option(help: "Local backend: number of worker processes (the cores are split between them).")
    var workers: Int = 1

    @Option(help: "Run only run I of the grid (0-based, as --plan numbers them), resuming its checkpoint.")
    var index: Int?

    @Option(name: .customLong("expect-id"), help: ArgumentHelp("With --index: fail unless run I has this id (the Slurm script passes it).", visibility: .hidden))
    var expectID: String?

    @Option(help: "Where the runs go: local (worker processes here) or slurm (a job array).")
    var backend: Backend = .local

    @OptionGroup var runOptions: RunOptions

    @Option(help: "Threads: with --index, the run's; for the local backend, the total split between the workers (default: all cores).")
    var threads: Int?

    @Option(name: .customLong("calibration-steps"), help: "--plan: training steps timed for the estimate (after one warm-up step).")
    var calibrationSteps: Int = 3

    @Flag(name: .customLong("dry-run"), help: "Slurm: print the sbatch script instead of submitting it.")
    var dryRun = false

    @OptionGroup var slurmOptions: SlurmOptions

    @Option(name: .customLong("max-parallel"), help: "Slurm: at most P tasks at once, the %P of --array (default: sweep.slurm.concurrency, else all).")
    var maxParallel: Int?

    @Option(help: "Slurm: the sbatch command to submit with.")
    var sbatch: String = "sbatch"

    private var results: String { runOptions.results }

    enum Backend: String, ExpressibleByArgument, CaseIterable { case local, slurm }

    func validate() throws {
        if workers < 1 { throw ValidationError("--workers must be at least 1, got \(workers)") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
        if let index, index < 0 { throw ValidationError("--index must be >= 0, got \(index)") }
        if let maxParallel, maxParallel < 1 { throw ValidationError("--max-parallel must be at least 1, got \(maxParallel)") }
        if calibrationSteps < 1 { throw ValidationError("--calibration-steps must be at least 1, got \(calibrationSteps)") }
        if index != nil && (plan || backend == .slurm) { throw ValidationError("--index runs one run here; leave out --plan and --backend slurm") }
        if expectID != nil && index == nil { throw ValidationError("--expect-id goes with --index") }
    }

    func run() throws {
        var overrides = TrainOverrides()
        overrides.epochs = runOptions.epochs
        overrides.dataDir = runOptions.dataDir
        let experiment = try ExperimentConfig.load(path: config).applying(overrides)
        let grid = try experiment.sweepGrid()
        if plan { return try printPlan(grid) }
        if let index { return try runOne(grid, index: index) }
        switch backend {
        case .local: try runLocal(grid)
        case .slurm: try submitSlurm(grid)
        }
    }

    /// The arguments every worker or task repeats: the config, the results and the overrides.
    private var workerArguments: [String] {
        var args = ["sweep", "--config", absolute(config), "--results", absolute(results)]
        if let epochs = runOptions.epochs { args += ["--epochs", String(epochs)] }
        if let maxSteps = runOptions.maxSteps { args += ["--max-steps", String(maxSteps)] }
        if let dataDir = runOptions.dataDir { args += ["--data-dir", absolute(dataDir)] }
        return args
    }

    private func printPlan(_ grid: SweepGrid) throws {
        Parallel.setThreadCount(threads)
        let states = grid.states(results: results)
        print("sweep \(grid.config.name): \(grid.runs.count) runs × \(grid.config.training.epochs) epochs, results in \(results)/\(grid.config.name)")
        let width = String(grid.runs.count - 1).count
        for (i, (run, state)) in zip(grid.runs, states).enumerated() {
            var line = String(repeating: " ", count: width - String(i).count) + "\(i)  " + state.label.padding(toLength: 15, withPad: " ", startingAt: 0) + run.id
            switch state {
            case .running(let holder): line += "  (\(holder))"
            case .failed(let message): line += "  (\(message))"
            case .left(let epochs) where epochs > 0: line += "  (\(epochs)/\(grid.config.training.epochs) epochs)"
            default: break
            }
            print(line)
        }
        let done = states.filter(\.isDone).count, running = states.filter(\.isRunning).count
        let failed = states.filter { if case .failed = $0 { return true }; return false }.count
        print("\(grid.runs.count) runs: \(done) done, \(running) running, \(failed) failed, \(grid.runs.count - done - running - failed) left")

        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("adai-calibration-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let calibration = try grid.calibrate(steps: calibrationSteps, scratch: scratch)
        let estimate = grid.estimate(calibration, states: states, maxSteps: runOptions.maxSteps)
        print(String(format: "calibration: %d steps of %@ at batch %d on %d thread%@: %.3f s per step",
                     calibration.steps, calibration.model, calibration.batchSize, calibration.threads,
                     calibration.threads == 1 ? "" : "s", calibration.secondsPerStep))
        print("per run: \(grid.config.training.epochs) epochs × (\(estimate.stepsPerEpoch) steps + evaluation of \(estimate.evaluationItems)) ≈ "
              + duration(estimate.secondsPerEpoch * Double(grid.config.training.epochs)) + " on this machine")
        let threadsText = "\(estimate.threads) thread\(estimate.threads == 1 ? "" : "s")"
        print(String(format: "estimate: %.1f CPU-hours left (%@ wall on %@), %.1f CPU-hours for the whole grid",
                     estimate.cpuHoursLeft, duration(estimate.secondsLeft), threadsText, estimate.cpuHoursTotal))
    }

    private func runOne(_ grid: SweepGrid, index: Int) throws {
        Parallel.setThreadCount(threads)
        let run = try grid.run(index: index)
        if let expectID, expectID != run.id {
            throw SweepError("--index \(index) is \(run.id) in \(config), but this task was submitted for \(expectID); the config's grid changed since submission, so submit the sweep again")
        }
        var options = TrainOptions()
        options.results = results
        options.maxSteps = runOptions.maxSteps
        options.resume = true
        options.liveProgress = false
        StopSignals.install()
        let outcome = try SweepWorker.train(run, options: options)
        print("#\(index) \(run.id): \(outcome.summary)")
        switch outcome {
        case .failed: throw ExitCode(1)
        case .interrupted: throw ExitCode(130)
        default: break
        }
    }

    private func runLocal(_ grid: SweepGrid) throws {
        let total = threads ?? ProcessInfo.processInfo.activeProcessorCount
        let sweep = LocalSweep(grid: grid, results: results, workers: workers, threadsPerWorker: max(1, total / workers),
                               executable: ChildProcess.currentExecutable(), workerArguments: workerArguments)
        StopSignals.install()
        let states = try sweep.run()
        let done = states.filter(\.isDone).count, running = states.filter(\.isRunning).count
        let failed = states.filter { if case .failed = $0 { return true }; return false }.count
        let left = states.count - done - running - failed
        print("sweep \(grid.config.name): \(done) done, \(running) running elsewhere, \(failed) failed, \(left) left — `adai-bench collect \(results)/\(grid.config.name)` summarises them")
        if StopSignals.requested { throw ExitCode(130) }
        if failed > 0 || left > 0 { throw ExitCode(1) }
    }

    private func submitSlurm(_ grid: SweepGrid) throws {
        var settings = slurmOptions.applied(to: grid.slurm)
        if let maxParallel { settings.concurrency = maxParallel }
        if !dryRun { SweepWorker.closeAttemptsOfFinishedRuns(grid, results: results) }
        let states = grid.states(results: results)
        let indices = states.indices.filter { !states[$0].isDone && !states[$0].isRunning }
        guard !indices.isEmpty else {
            print("sweep \(grid.config.name): nothing to submit — \(states.filter(\.isDone).count) done, \(states.filter(\.isRunning).count) running")
            return
        }
        var slurm = SlurmSweep(grid: grid, settings: settings, executable: ChildProcess.currentExecutable(),
                               configPath: absolute(config), results: absolute(results),
                               workingDirectory: FileManager.default.currentDirectoryPath)
        slurm.workerArguments = Array(workerArguments.dropFirst(5))
        if dryRun {
            print(slurm.script(indices: indices), terminator: "")
            return
        }
        // Synthetic data is written once here, before the tasks start.
        if grid.config.dataset.synthetic != nil {
            var options = TrainOptions()
            options.results = absolute(results)
            let runner = ExperimentRunner(config: grid.config, options: options)
            try FileManager.default.createDirectory(atPath: runner.experimentDirectory, withIntermediateDirectories: true)
            try runner.prepareData()
        }
        let (jobID, script) = try slurm.submit(indices: indices, sbatch: sbatch)
        print("submitted job array \(jobID): \(indices.count) task\(indices.count == 1 ? "" : "s") (\(SlurmSweep.arraySpec(indices))), script \(script), logs in \(absolute(results))/\(grid.config.name)/slurm/")
        print(jobID)
    }
}

func absolute(_ path: String) -> String {
    path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
}

/// `42 s`, `12.5 min`, `3.2 h`.
func duration(_ seconds: Double) -> String {
    if seconds < 90 { return String(format: "%.0f s", seconds) }
    if seconds < 5400 { return String(format: "%.1f min", seconds / 60) }
    return String(format: "%.1f h", seconds / 3600)
}

import ArgumentParser
import Experiments
import RunFormat

/// The options `train` and `sweep` share: where the runs go and what replaces the config's training settings.
/// `--threads` is not among them: train gives it to the one process, sweep splits it between its workers, and
/// each command's help says which. `reproduce` writes to `--results` too, but with a default per scale and no
/// config to override, so it declares its own.
struct RunOptions: ParsableArguments {
    @Option(help: "Directory that holds the experiments' results.")
    var results: String = "results"

    @Option(help: "Number of epochs of each run, replacing the config's.")
    var epochs: Int?

    @Option(name: .customLong("max-steps"), help: "At most N training steps per epoch (smoke tests); each epoch still ends with a full evaluation.")
    var maxSteps: Int?

    @Option(name: .customLong("data-dir"), help: "Data directory, replacing the config's (and its synthetic data).")
    var dataDir: String?

    func validate() throws {
        if let maxSteps, maxSteps < 1 { throw ValidationError("--max-steps must be at least 1, got \(maxSteps)") }
    }
}

/// The job-array settings that `sweep` and `reproduce` pass to Slurm. How they meet the config's `sweep.slurm`
/// differs and each command's discussion says how.
struct SlurmOptions: ParsableArguments {
    @Option(help: "Slurm: partition.")
    var partition: String?

    @Option(help: "Slurm: time limit per task, e.g. 2-00:00:00.")
    var time: String?

    @Option(name: .customLong("cpus-per-task"), help: "Slurm: cores per task.")
    var cpusPerTask: Int?

    @Option(help: "Slurm: memory per task, e.g. 8G.")
    var mem: String?

    @Option(help: "Slurm: account to charge.")
    var account: String?

    /// Whether any of the options was given.
    var isEmpty: Bool { partition == nil && time == nil && cpusPerTask == nil && mem == nil && account == nil }

    /// `settings` with each given option in place of its value.
    func applied(to settings: SlurmSettings) -> SlurmSettings {
        var s = settings
        if let cpusPerTask { s.cpusPerTask = cpusPerTask }
        if let mem { s.mem = mem }
        if let time { s.time = time }
        if let partition { s.partition = partition }
        if let account { s.account = account }
        return s
    }

    func validate() throws {
        if let cpusPerTask, cpusPerTask < 1 { throw ValidationError("--cpus-per-task must be at least 1, got \(cpusPerTask)") }
    }
}

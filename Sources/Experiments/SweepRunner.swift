import Engine
import Foundation

// MARK: - Locks

/// The per-run lock: an exclusive `flock` on `<run>/.lock`, held while the run trains. The kernel drops it
/// when the process ends in any way (SIGKILL, a crash, a lost node whose NFS lease expires), so a crashed
/// worker's run is free again at once. The file holds the holder's pid, host and start time (for `--plan`);
/// it is never deleted, so every process locks the same inode.
final class RunLock {
    let path: String
    private var fd: Int32

    private init(path: String, fd: Int32) { self.path = path; self.fd = fd }
    deinit { release() }

    static func path(runDirectory: String) -> String { "\(runDirectory)/.lock" }

    /// Takes the run's lock, or returns nil when another process holds it. A probe of `--plan` holds the
    /// lock for microseconds, so a busy lock is tried a few times before it counts as held.
    static func acquire(runDirectory: String) throws -> RunLock? {
        try FileManager.default.createDirectory(atPath: runDirectory, withIntermediateDirectories: true)
        let path = path(runDirectory: runDirectory)
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw SweepError("cannot open the run lock \(path): \(String(cString: strerror(errno))); check that the results directory is writable")
        }
        for attempt in 0..<5 {
            if flock(fd, LOCK_EX | LOCK_NB) == 0 {
                let holder = "pid \(getpid()) on \(hostName()) since \(timestamp())\n"
                _ = ftruncate(fd, 0)
                _ = holder.withCString { pwrite(fd, $0, strlen($0), 0) }
                return RunLock(path: path, fd: fd)
            }
            guard errno == EWOULDBLOCK || errno == EINTR else {
                let reason = String(cString: strerror(errno))
                close(fd)
                throw SweepError("cannot lock \(path): \(reason); the results directory must be on a file system with locks (on a cluster, a shared file system such as NFSv4 or Lustre mounted with locking)")
            }
            if attempt < 4 { usleep(100_000) }
        }
        close(fd)
        return nil
    }

    /// Who holds the lock of the run (`pid 12 on node3 since …`), or nil when it is free.
    static func holder(runDirectory: String) -> String? {
        let path = path(runDirectory: runDirectory)
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        if flock(fd, LOCK_SH | LOCK_NB) == 0 {
            flock(fd, LOCK_UN)
            return nil
        }
        let text = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        return text.isEmpty ? "another process" : text
    }

    func release() {
        guard fd >= 0 else { return }
        flock(fd, LOCK_UN)
        close(fd)
        fd = -1
    }
}

/// Runs `body` holding an exclusive lock on `<experiment>/.data.lock`, so that concurrent workers do not
/// generate the synthetic data at the same time (one writes it, the others then read it).
func withExperimentLock<T>(_ experimentDirectory: String, _ body: () throws -> T) throws -> T {
    try FileManager.default.createDirectory(atPath: experimentDirectory, withIntermediateDirectories: true)
    let path = "\(experimentDirectory)/.data.lock"
    let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw SweepError("cannot open \(path): \(String(cString: strerror(errno))); check that the results directory is writable") }
    defer { close(fd) }
    while flock(fd, LOCK_EX) != 0 {
        guard errno == EINTR else { throw SweepError("cannot lock \(path): \(String(cString: strerror(errno)))") }
    }
    defer { flock(fd, LOCK_UN) }
    return try body()
}

func hostName() -> String {
    var buffer = [CChar](repeating: 0, count: 256)
    return gethostname(&buffer, buffer.count) == 0 ? String(cString: buffer) : "unknown-host"
}

// MARK: - Attempts

/// `<run>/attempts.json`: one entry per time a worker took the run's lock and trained it (pid, host,
/// where it started from, how it ended). A killed worker's entry has no `endedAt`. It is written under
/// the run's lock, so two entries never overlap in time.
public struct RunAttempt: Codable, Equatable {
    public var pid: Int32
    public var host: String
    public var startedAt: String
    /// The 0-based epoch and step the attempt started from (non-zero when it resumed a checkpoint).
    public var fromEpoch: Int
    public var fromStep: Int
    public var endedAt: String?
    public var status: String?

    static func path(runDirectory: String) -> String { "\(runDirectory)/attempts.json" }

    public static func read(runDirectory: String) throws -> [RunAttempt] {
        let path = path(runDirectory: runDirectory)
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        do {
            return try JSONDecoder().decode([RunAttempt].self, from: data)
        } catch {
            throw SweepError("\(path) is damaged (\(error)); delete it (it is a log, the run does not need it)")
        }
    }

    static func write(_ attempts: [RunAttempt], runDirectory: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(attempts), to: path(runDirectory: runDirectory))
    }
}

// MARK: - One run

/// How `sweep --index` left a run.
public enum SweepRunOutcome: Equatable {
    case completed, diverged, interrupted
    case failed(String)
    /// It was finished before this worker came (`completed` or `diverged`).
    case alreadyDone(String)
    /// Another worker holds its lock.
    case heldElsewhere(String)

    public var summary: String {
        switch self {
        case .completed: return "completed"
        case .diverged: return "diverged"
        case .interrupted: return "interrupted (checkpoint written; the next sweep resumes it)"
        case .failed(let message): return "failed: \(message)"
        case .alreadyDone(let status): return "already \(status), skipped"
        case .heldElsewhere(let holder): return "running elsewhere (\(holder)), skipped"
        }
    }
}

public enum SweepWorker {
    /// Trains one run of a sweep under its lock: skips it when it is finished or held by another worker,
    /// resumes it from its checkpoint when it has one, and records an error as status `failed` (with the
    /// message in run.json) instead of throwing, so that the sweep goes on. Throws only when the lock
    /// itself cannot be taken (an unwritable results directory).
    public static func train(_ run: RunSpec, options: TrainOptions) throws -> SweepRunOutcome {
        let directory = run.directory(results: options.results)
        guard let lock = try RunLock.acquire(runDirectory: directory) else {
            return .heldElsewhere(RunLock.holder(runDirectory: directory) ?? "another process")
        }
        defer { lock.release() }
        KillPoints.reached(.lockTaken)
        // Re-read under the lock: another worker may have finished it since the caller looked.
        if let status = RunRecordFile.status(runDirectory: directory),
           status == RunStatus.completed.rawValue || status == RunStatus.diverged.rawValue {
            return .alreadyDone(status)
        }
        let checkpoint = (FileManager.default.contents(atPath: "\(RunCheckpoint.directory(directory))/trainer.json"))
            .flatMap { try? JSONDecoder().decode(TrainerState.self, from: $0) }
        var attempts = (try? RunAttempt.read(runDirectory: directory)) ?? []
        attempts.append(RunAttempt(pid: getpid(), host: hostName(), startedAt: timestamp(),
                                   fromEpoch: checkpoint?.nextEpoch ?? 0, fromStep: checkpoint?.stepInEpoch ?? 0))
        try RunAttempt.write(attempts, runDirectory: directory)

        let outcome: SweepRunOutcome
        do {
            let runner = ExperimentRunner(config: run.experiment, options: options)
            let data = try withExperimentLock(runner.experimentDirectory) { try runner.loadData() }
            let trainer = try RunTrainer(run: run, data: data, options: options, experimentDirectory: runner.experimentDirectory)
            switch try trainer.train() {
            case .completed: outcome = .completed
            case .diverged: outcome = .diverged
            case .interrupted: outcome = .interrupted
            case .running, .failed: outcome = .failed("the trainer stopped without a final status")
            }
        } catch {
            let message = "\(error)"
            try? recordFailure(run, directory: directory, message: message)
            outcome = .failed(message)
        }
        KillPoints.reached(.trained)
        let last = attempts.count - 1
        attempts[last].endedAt = timestamp()
        switch outcome {
        case .failed: attempts[last].status = RunStatus.failed.rawValue
        case .completed: attempts[last].status = RunStatus.completed.rawValue
        case .diverged: attempts[last].status = RunStatus.diverged.rawValue
        default: attempts[last].status = RunStatus.interrupted.rawValue
        }
        try? RunAttempt.write(attempts, runDirectory: directory)
        return outcome
    }

    /// Writes status `failed` with `message` into the run's run.json, keeping the epochs of its checkpoint.
    static func recordFailure(_ run: RunSpec, directory: String, message: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let state = (FileManager.default.contents(atPath: "\(RunCheckpoint.directory(directory))/trainer.json"))
            .flatMap { try? JSONDecoder().decode(TrainerState.self, from: $0) } ?? TrainerState.initial()
        let lm = run.experiment.isLanguageModel
        let metrics = MetricsTable(columns: lm ? MetricsTable.languageModelColumns : MetricsTable.classificationColumns, rows: state.rows)
        let record = RunRecordFile(run: run, directory: directory, metricName: lm ? "test_ppl" : "test_error")
        try record.write(status: .failed, state: state, metrics: metrics, error: message)
    }

    /// Records a worker process that ended abnormally (a crash, a kill) as `failed`, unless the run is
    /// finished, already recorded, or held by another process.
    static func recordAbnormalEnd(_ run: RunSpec, results: String, message: String) {
        let directory = run.directory(results: results)
        guard let lock = try? RunLock.acquire(runDirectory: directory) else { return }
        defer { lock.release() }
        let status = RunRecordFile.status(runDirectory: directory)
        guard status == nil || status == RunStatus.running.rawValue else { return }
        try? recordFailure(run, directory: directory, message: message)
        if var attempts = try? RunAttempt.read(runDirectory: directory), let last = attempts.indices.last, attempts[last].endedAt == nil {
            attempts[last].endedAt = timestamp()
            attempts[last].status = RunStatus.failed.rawValue
            try? RunAttempt.write(attempts, runDirectory: directory)
        }
    }
}

// MARK: - Child processes

/// Starting and reaping child processes with posix_spawn (so that they stay in the caller's process
/// group unless asked otherwise: a signal to the group reaches every worker).
public enum ChildProcess {
    /// Starts `path` with `arguments`; `newProcessGroup` makes it the leader of a group of its own.
    public static func spawn(_ path: String, _ arguments: [String], newProcessGroup: Bool = false,
                             outputFile: String? = nil) throws -> pid_t {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        if newProcessGroup {
            posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
            posix_spawnattr_setpgroup(&attributes, 0)
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if let outputFile {
            posix_spawn_file_actions_addopen(&actions, 1, outputFile, O_WRONLY | O_CREAT | O_APPEND, 0o644)
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        }
        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, path, &actions, &attributes, argv, environ)
        guard rc == 0 else { throw SweepError("cannot start \(path): \(String(cString: strerror(rc)))") }
        return pid
    }

    /// How a reaped child ended: its exit code, or the signal that killed it.
    public enum Ending: Equatable, CustomStringConvertible {
        case exited(Int32), signaled(Int32)
        init(waitStatus s: Int32) {
            let signal = s & 0x7f
            self = signal == 0 ? .exited((s >> 8) & 0xff) : .signaled(signal)
        }
        public var description: String {
            switch self {
            case .exited(let code): return "exit status \(code)"
            case .signaled(let signal): return "signal \(signal)"
            }
        }
    }

    /// Waits for `pid` to end.
    public static func wait(_ pid: pid_t) -> Ending {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return Ending(waitStatus: status)
    }

    /// The path of the running executable (what the workers re-invoke).
    public static func currentExecutable() -> String {
        if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return path }
        return Bundle.main.executablePath ?? CommandLine.arguments[0]
    }
}

// MARK: - The local backend

/// Runs the unfinished runs of a grid with `workers` worker processes, each `adai-bench sweep --index I`
/// with `threadsPerWorker` threads. Each run is handed out once per invocation; locks keep two sweeps
/// on the same results apart; SIGINT/SIGTERM stop the workers at their next step (with a checkpoint).
public struct LocalSweep {
    public var grid: SweepGrid
    public var results: String
    public var workers: Int
    public var threadsPerWorker: Int
    /// `adai-bench` and the arguments before `--index` (`sweep --config FILE --results DIR`, overrides).
    public var executable: String
    public var workerArguments: [String]
    public var log: (String) -> Void = { print($0); fflush(stdout) }

    public init(grid: SweepGrid, results: String, workers: Int, threadsPerWorker: Int, executable: String, workerArguments: [String]) {
        self.grid = grid; self.results = results; self.workers = workers; self.threadsPerWorker = threadsPerWorker
        self.executable = executable; self.workerArguments = workerArguments
    }

    /// Runs every unfinished run; returns the state of each run of the grid afterwards.
    public func run() throws -> [SweepRunState] {
        let before = grid.states(results: results)
        var pending = before.indices.filter { !before[$0].isDone && !before[$0].isRunning }
        let done = before.filter(\.isDone).count, elsewhere = before.filter(\.isRunning).count
        log("sweep \(grid.config.name): \(grid.runs.count) runs, \(done) done, \(elsewhere) running elsewhere, \(pending.count) to run with \(workers) worker\(workers == 1 ? "" : "s") × \(threadsPerWorker) thread\(threadsPerWorker == 1 ? "" : "s")")
        guard !pending.isEmpty else { return before }

        // Prepare (and check) the data once, before any worker starts.
        var options = TrainOptions()
        options.results = results
        options.log = log
        try ExperimentRunner(config: grid.config, options: options).prepareData()

        var running: [pid_t: Int] = [:]
        var stopping = false
        var finished = 0
        let total = pending.count
        while !pending.isEmpty || !running.isEmpty {
            if StopSignals.requested && !stopping {
                stopping = true
                pending.removeAll()
                log("sweep: stopping; the workers write a checkpoint at their next step")
                for pid in running.keys { kill(pid, SIGTERM) }
            }
            while running.count < workers, !pending.isEmpty, !stopping {
                let index = pending.removeFirst()
                let pid = try ChildProcess.spawn(executable, workerArguments + ["--index", String(index), "--threads", String(threadsPerWorker)])
                running[pid] = index
            }
            var status: Int32 = 0
            let pid = waitpid(-1, &status, WNOHANG)
            guard pid > 0, let index = running.removeValue(forKey: pid) else {
                usleep(50_000)
                continue
            }
            finished += 1
            let run = grid.runs[index]
            let ending = ChildProcess.Ending(waitStatus: status)
            if ending != .exited(0) && ending != .exited(1) && ending != .exited(130) {
                WorkerEnding.record(run, results: results, ending: ending, pid: pid)
            }
            let state = SweepGrid.state(runDirectory: run.directory(results: results))
            let detail: String
            switch state {
            case .failed(let message): detail = "failed: \(message)"
            case .running(let holder): detail = "running elsewhere (\(holder))"
            case .done(let s): detail = s
            case .left(let epochs): detail = "left after \(epochs) epoch\(epochs == 1 ? "" : "s") (\(ending))"
            }
            log("[\(finished)/\(total)] #\(index) \(run.id): \(detail)")
        }
        return grid.states(results: results)
    }
}

enum WorkerEnding {
    static func record(_ run: RunSpec, results: String, ending: ChildProcess.Ending, pid: pid_t) {
        SweepWorker.recordAbnormalEnd(run, results: results,
                                      message: "the worker process (pid \(pid)) ended with \(ending) before recording a status; its output is above; the next sweep resumes the run from its last checkpoint")
    }
}

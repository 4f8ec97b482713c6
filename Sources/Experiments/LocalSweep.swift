import Foundation
import RunFormat

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
        SweepWorker.closeAttemptsOfFinishedRuns(grid, results: results)
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
            case .done(let s): detail = s.rawValue
            case .left(let epochs): detail = "left after \(epochs) epoch\(epochs == 1 ? "" : "s") (\(ending))"
            }
            log("[\(finished)/\(total)] #\(index) \(run.id): \(detail)")
        }
        // A worker killed between its run.json and its curves.csv rebuild leaves curves.csv an epoch behind.
        try? CurvesFile.rebuild(experiment: ExperimentDirectory("\(results)/\(grid.config.name)"))
        return grid.states(results: results)
    }
}

enum WorkerEnding {
    static func record(_ run: RunSpec, results: String, ending: ChildProcess.Ending, pid: pid_t) {
        SweepWorker.recordAbnormalEnd(run, results: results,
                                      message: "the worker process (pid \(pid)) ended with \(ending) before recording a status; its output is above; the next sweep resumes the run from its last checkpoint")
    }
}

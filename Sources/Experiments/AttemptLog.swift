import Foundation
import RunFormat

/// This process's attempt at a run, in the run's `attempts.json`: appended when it starts (with where it
/// starts from and its threads, CPU and OpenBLAS kernel), closed with its status when it ends. `train` and
/// sweep workers both keep it. A resume on another CPU or OpenBLAS kernel than the previous attempt's is
/// said in one line on stderr and in the attempt's `note`, since bitwise equality with an uninterrupted run
/// cannot be promised there.
public struct AttemptLog {
    let run: RunDirectory
    private(set) var attempts: [RunAttempt]
    /// Every attempt's environment, this one last: run.json's `provenance.attempts`.
    let environments: [AttemptEnvironment]

    static func begin(_ run: RunDirectory, warn: (String) -> Void) throws -> AttemptLog {
        try FileManager.default.createDirectory(atPath: run.path, withIntermediateDirectories: true)
        // A damaged log is started afresh rather than stopping the run (it is a log, the run does not need it).
        var attempts = (try? run.readAttempts()) ?? []
        // The previous process was killed before it could close its attempt (SIGKILL, a lost node): it failed,
        // at a time nobody recorded, so `endedAt` stays empty.
        if let last = attempts.indices.last, attempts[last].status == nil { attempts[last].status = .failed }
        let state = try? run.readTrainerState()
        let environment = Provenance.environment(fromEpoch: state?.nextEpoch ?? 0, fromStep: state?.stepInEpoch ?? 0)
        let earlier = ((try? run.readRecord())?.provenance?.attempts) ?? []
        var attempt = RunAttempt(pid: getpid(), host: hostName(), environment: environment)
        let previous = earlier.last ?? attempts.last?.environment
        if let previous, state != nil {
            let differences = environment.bitwiseDifferences(from: previous)
            if !differences.isEmpty {
                let note = "resumed on another machine than the previous attempt (\(differences.joined(separator: ", "))): the numbers from here on can differ in the last bits from an uninterrupted run's"
                attempt.note = note
                warn("warning: \(run.path): \(note)")
            }
        }
        attempts.append(attempt)
        try run.write(attempts)
        return AttemptLog(run: run, attempts: attempts, environments: earlier + [environment])
    }

    /// Closes this attempt with `status`.
    mutating func end(_ status: RunStatus) {
        attempts[attempts.count - 1].endedAt = timestamp()
        attempts[attempts.count - 1].status = status
        try? run.write(attempts)
    }

    /// Closes the last attempt of `run` when it is still open (its process was killed) with `status`:
    /// the run's final status when a later process finds it finished, `failed` otherwise.
    static func closeOpenAttempt(_ run: RunDirectory, status: RunStatus, endedAt: String? = nil) {
        guard var attempts = try? run.readAttempts(), let last = attempts.indices.last, attempts[last].status == nil else { return }
        attempts[last].endedAt = endedAt ?? timestamp()
        attempts[last].status = status
        try? run.write(attempts)
    }

    public static func printWarning(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}

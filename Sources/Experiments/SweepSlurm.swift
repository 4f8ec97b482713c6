import Engine
import Foundation
import RunFormat

/// The Slurm backend: one job array whose task `I` runs `adai-bench sweep --index I`, for the unfinished runs.
public struct SlurmSweep {
    public var grid: SweepGrid
    public var settings: SlurmSettings
    /// Absolute paths: the adai-bench binary, the config, the results directory and the working directory.
    public var executable: String, configPath: String, results: String, workingDirectory: String
    /// Overrides passed on to every task (`--epochs 3`, `--max-steps 2`).
    public var workerArguments: [String] = []

    public init(grid: SweepGrid, settings: SlurmSettings, executable: String, configPath: String, results: String,
                workingDirectory: String) {
        self.grid = grid; self.settings = settings; self.executable = executable; self.configPath = configPath
        self.results = results; self.workingDirectory = workingDirectory
    }

    /// `0-3,5,7-9`: the indices as ranges.
    public static func arraySpec(_ indices: [Int]) -> String {
        var parts: [String] = []
        var i = 0
        let sorted = indices.sorted()
        while i < sorted.count {
            var j = i
            while j + 1 < sorted.count && sorted[j + 1] == sorted[j] + 1 { j += 1 }
            parts.append(i == j ? "\(sorted[i])" : "\(sorted[i])-\(sorted[j])")
            i = j + 1
        }
        return parts.joined(separator: ",")
    }

    /// The sbatch script for the runs `indices` of the grid.
    public func script(indices: [Int]) -> String {
        let cpus = settings.cpusPerTask ?? 1
        let cap = settings.concurrency ?? indices.count
        let logDirectory = "\(results)/\(grid.config.name)/slurm"
        var lines = [
            "#!/bin/bash",
            "# adai-bench sweep of \(grid.config.name): \(indices.count) of its \(grid.runs.count) runs, one array task each.",
            "# Task I runs `adai-bench sweep --index I`; a task whose run is finished or locked by another task exits at once,",
            "# and a requeued or preempted task resumes its run from the last checkpoint (SIGTERM writes one mid-epoch).",
            "#SBATCH --job-name=adai-\(grid.config.name)",
            "#SBATCH --array=\(SlurmSweep.arraySpec(indices))%\(cap)",
            "#SBATCH --ntasks=1",
            "#SBATCH --cpus-per-task=\(cpus)",
        ]
        if let mem = settings.mem { lines.append("#SBATCH --mem=\(mem)") }
        if let time = settings.time { lines.append("#SBATCH --time=\(time)") }
        if let partition = settings.partition { lines.append("#SBATCH --partition=\(partition)") }
        if let account = settings.account { lines.append("#SBATCH --account=\(account)") }
        lines += [
            "#SBATCH --chdir=\(workingDirectory)",
            "#SBATCH --output=\(logDirectory)/%A_%a.out",
            "#SBATCH --requeue",
            "#SBATCH --signal=B:TERM@120",
        ]
        lines += settings.options.map { "#SBATCH \($0)" }
        lines += ["", "# The run id each task expects, so that a config edited after submission is noticed rather than run.",
                  "declare -A RUN_ID"]
        lines += indices.map { "RUN_ID[\($0)]='\(grid.runs[$0].id)'" }
        let command = [executable, "sweep", "--config", configPath, "--results", results] + workerArguments
        lines += ["", "exec " + command.map(shellQuote).joined(separator: " ")
                  + " --index \"$SLURM_ARRAY_TASK_ID\" --expect-id \"${RUN_ID[$SLURM_ARRAY_TASK_ID]}\" --threads \"${SLURM_CPUS_PER_TASK:-\(cpus)}\"", ""]
        return lines.joined(separator: "\n")
    }

    /// Writes the script under `results/<name>/slurm/` and submits it with `sbatch --parsable`; returns (job id, script path).
    public func submit(indices: [Int], sbatch: String = "sbatch") throws -> (jobID: String, script: String) {
        let directory = "\(results)/\(grid.config.name)/slurm"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        formatter.timeZone = TimeZone(identifier: "UTC")
        let path = "\(directory)/sweep-\(formatter.string(from: Date())).sbatch"
        try AtomicFile.write(script(indices: indices), to: path)
        guard let sbatchPath = findExecutable(sbatch) else {
            throw SweepError("\(sbatch) not found on PATH; run this on a Slurm login node, or pass --dry-run to print the script (written to \(path))")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: sbatchPath)
        process.arguments = ["--parsable", path]
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let out = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let err = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw SweepError("sbatch rejected \(path) (exit status \(process.terminationStatus)): \(err.trimmingCharacters(in: .whitespacesAndNewlines)); check --partition, --time and --mem against `sinfo`")
        }
        // --parsable prints `jobid` or `jobid;cluster`.
        let jobID = out.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ";").first.map(String.init) ?? ""
        guard !jobID.isEmpty, jobID.allSatisfy(\.isNumber) else {
            throw SweepError("sbatch accepted \(path) but printed no job id (stdout: \(out.trimmingCharacters(in: .whitespacesAndNewlines)))")
        }
        return (jobID, path)
    }
}

func shellQuote(_ s: String) -> String {
    if !s.isEmpty && s.allSatisfy({ $0.isLetter || $0.isNumber || "/._-=:,+@".contains($0) }) { return s }
    return "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
}

/// `name` itself when it contains a slash, else the first executable `name` on PATH.
func findExecutable(_ name: String) -> String? {
    if name.contains("/") { return FileManager.default.isExecutableFile(atPath: name) ? name : nil }
    for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
        let path = "\(directory)/\(name)"
        if FileManager.default.isExecutableFile(atPath: path) { return path }
    }
    return nil
}

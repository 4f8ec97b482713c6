import Engine
import Foundation
import RunFormat

/// Where a run's numbers came from: the source commit, the machine, the threads and the versions.
public enum Provenance {
    public static let version = "0.1.0"

    /// The git commit of the source tree this binary was built from, stamped at build time by the
    /// BuildStamp plugin: "<sha>-dirty" when tracked files under Sources/, Plugins/ or Package.swift had
    /// uncommitted changes, "unknown" when the sources were not a git checkout. It does not look at the checkout at run time, which may have
    /// moved on since the build.
    public static func gitCommit() -> String { buildCommit }

    public static func cpuModel() -> String {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return "unknown" }
        for line in text.split(separator: "\n") where line.hasPrefix("model name") {
            return line.split(separator: ":", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) } ?? "unknown"
        }
        return "unknown"
    }

    /// The provenance of run.json: the build and the environment of each attempt so far.
    public static func record(attempts: [AttemptEnvironment]) -> RunProvenance {
        RunProvenance(gitCommit: gitCommit(), os: ProcessInfo.processInfo.operatingSystemVersionString,
                      versions: ["adai-bench": version, "openblas": BLASInfo.config, "swift": swiftVersion()], attempts: attempts)
    }

    /// This process's thread count, CPU and OpenBLAS kernel, for an attempt starting at (epoch, step).
    public static func environment(fromEpoch: Int, fromStep: Int) -> AttemptEnvironment {
        AttemptEnvironment(startedAt: timestamp(), fromEpoch: fromEpoch, fromStep: fromStep, threads: Parallel.threadCount,
                           cpu: cpuModel(), openblasConfig: BLASInfo.config, openblasCore: BLASInfo.coreName)
    }

    public static func swiftVersion() -> String {
        #if compiler(>=6.3)
        return "6.3 or later"
        #elseif compiler(>=6.2)
        return "6.2"
        #elseif compiler(>=6.1)
        return "6.1"
        #else
        return "6.0"
        #endif
    }
}

/// ISO 8601 time in UTC.
func timestamp(_ date: Date = Date()) -> String {
    let f = ISO8601DateFormatter()
    f.formatOptions = [.withInternetDateTime]
    return f.string(from: date)
}

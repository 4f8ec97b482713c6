import CBLAS
import Foundation

/// Where a run's numbers came from: the source commit, the machine, the threads and the versions.
public enum Provenance {
    public static let version = "0.1.0"

    /// The git commit of the source tree this binary was built from (read at run time from the
    /// checkout the sources live in), with "-dirty" when it has uncommitted changes; "unknown" otherwise.
    public static func gitCommit() -> String {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
        guard let head = run("/usr/bin/env", ["git", "-C", root, "rev-parse", "HEAD"]), !head.isEmpty else { return "unknown" }
        let dirty = run("/usr/bin/env", ["git", "-C", root, "status", "--porcelain", "--untracked-files=no"]) ?? ""
        return dirty.isEmpty ? head : head + "-dirty"
    }

    public static func cpuModel() -> String {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return "unknown" }
        for line in text.split(separator: "\n") where line.hasPrefix("model name") {
            return line.split(separator: ":", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) } ?? "unknown"
        }
        return "unknown"
    }

    public static func openBLASVersion() -> String {
        guard let config = openblas_get_config() else { return "unknown" }
        return String(cString: config)
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

    public static func json(threads: Int) -> [String: Any] {
        [
            "gitCommit": gitCommit(), "cpu": cpuModel(), "threads": threads,
            "os": ProcessInfo.processInfo.operatingSystemVersionString,
            "versions": ["adai-bench": version, "openblas": openBLASVersion(), "swift": swiftVersion()],
        ]
    }

    private static func run(_ executable: String, _ arguments: [String]) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// ISO 8601 time in UTC.
func timestamp(_ date: Date = Date()) -> String {
    let f = ISO8601DateFormatter()
    f.formatOptions = [.withInternetDateTime]
    return f.string(from: date)
}

import Foundation

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


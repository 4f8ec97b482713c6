import Engine
import Foundation
import RunFormat

/// The per-run lock: an exclusive `flock` on the run's `.lock` (`RunDirectory.lockFile`), held while the run
/// trains. The kernel drops it when the process ends in any way (SIGKILL, a crash, a lost node whose NFS
/// lease expires), so a crashed worker's run is free again at once. The file holds the holder's pid, host
/// and start time (for `--plan`); it is never deleted, so every process locks the same inode. A process
/// killed between taking the lock and writing its name leaves an empty or stale text, which only `--plan`
/// reads while the lock is held; the lock itself is the flock, never the text.
final class RunLock {
    let path: String
    private var fd: Int32

    private init(path: String, fd: Int32) { self.path = path; self.fd = fd }
    deinit { release() }

    /// Takes the run's lock, or returns nil when another process holds it. A probe of `--plan` holds the
    /// lock for microseconds, so a busy lock is tried a few times before it counts as held.
    static func acquire(_ run: RunDirectory) throws -> RunLock? {
        try FileManager.default.createDirectory(atPath: run.path, withIntermediateDirectories: true)
        let path = run.lockFile
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
    static func holder(_ run: RunDirectory) -> String? {
        let fd = open(run.lockFile, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        if flock(fd, LOCK_SH | LOCK_NB) == 0 {
            flock(fd, LOCK_UN)
            return nil
        }
        let text = (try? String(contentsOfFile: run.lockFile, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        return text.isEmpty ? "another process" : text
    }

    func release() {
        guard fd >= 0 else { return }
        flock(fd, LOCK_UN)
        close(fd)
        fd = -1
    }
}

/// Runs `body` holding an exclusive flock on `path` (created when missing, never deleted): the experiment's
/// data lock (one worker generates the synthetic data, the others wait and read it) and curves lock.
func withFileLock<T>(_ path: String, _ body: () throws -> T) throws -> T {
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

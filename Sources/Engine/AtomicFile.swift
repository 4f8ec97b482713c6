import Foundation

/// Writes files so that a crash never leaves a half-written one: the bytes go to a temporary
/// file in the same directory, which is then renamed over the destination. Every atomic write in the
/// package goes through here, so the temporary file's name and the rename's checks are decided once.
public enum AtomicFile {
    public struct WriteError: Error, CustomStringConvertible {
        /// The step that failed: the destination's directory is missing, the temporary file could not be
        /// created, or the rename over the destination failed.
        public enum Step: Sendable { case directory, create, rename }
        public let path: String
        public let step: Step
        /// The system's words for the failure (`strerror`), for callers that phrase the error their own way.
        public let systemReason: String
        public let description: String
    }

    /// Writes `path` by letting `produce` write the temporary file whose path it is given (for writers
    /// such as libpng and cairo that open a file by name), then renames that file over `path`. When
    /// `produce` throws, the temporary file is removed and the error passed on unchanged.
    public static func write(to path: String, producing produce: (_ temporary: String) throws -> Void) throws {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            // What open(2) would say of a file inside it: something else is there, or nothing is.
            let code = FileManager.default.fileExists(atPath: directory) ? ENOTDIR : ENOENT
            throw WriteError(path: path, step: .directory, systemReason: String(cString: strerror(code)),
                             description: "cannot write \(path): the directory \(directory) does not exist")
        }
        let temporary = directory + "/." + url.lastPathComponent + ".tmp-\(getpid())"
        do {
            try produce(temporary)
        } catch {
            unlink(temporary)
            throw error
        }
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw WriteError(path: path, step: .rename, systemReason: reason,
                             description: "cannot write \(path): renaming the temporary file failed (\(reason))")
        }
    }

    public static func write(_ data: Data, to path: String) throws {
        try write(to: path) { temporary in
            guard FileManager.default.createFile(atPath: temporary, contents: data) else {
                let reason = String(cString: strerror(errno))
                throw WriteError(path: path, step: .create, systemReason: reason,
                                 description: "cannot write \(path): creating \(temporary) failed (\(reason)); check permissions and free space")
            }
        }
    }

    public static func write(_ text: String, to path: String) throws { try write(Data(text.utf8), to: path) }
}

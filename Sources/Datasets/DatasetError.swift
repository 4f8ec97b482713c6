import Engine
import Foundation

/// Everything that can be wrong with a data set on disk or with a request for one.
/// Each message says what is wrong, where (file, record, line) and what to do.
public enum DatasetError: Error, Equatable {
    /// The data directory does not exist.
    case directoryMissing(dataset: String, path: String, expectedFiles: [String])
    /// Some of the files a data set needs are absent.
    case filesMissing(dataset: String, directory: String, missing: [String], expectedFiles: [String])
    /// A binary file's size is not a whole number of records.
    case badFileSize(path: String, size: Int, recordSize: Int)
    /// A record holds a label outside the classes of the data set.
    case labelOutOfRange(path: String, record: Int, kind: String, label: Int, classCount: Int)
    /// A file exists but could not be read.
    case unreadable(path: String, reason: String)
    /// A word of the validation or test text is not in the training vocabulary.
    case unknownWord(path: String, line: Int, word: String)
    /// A file that must hold data is empty.
    case empty(path: String, what: String)
    /// A parameter (batch size, normalisation, ...) has an unusable value.
    case invalidArgument(String)
    /// A file could not be written.
    case unwritable(path: String, reason: String)
}

extension DatasetError: CustomStringConvertible, LocalizedError {
    public var description: String {
        switch self {
        case let .directoryMissing(dataset, path, expected):
            return "\(dataset): data directory \(path) does not exist; it should hold \(expected.joined(separator: ", ")). "
                + "Download the data with `scripts/download-data.sh \(DatasetError.downloadName(dataset))` "
                + "or point --data-dir (\"dataset.dir\" in the config) at the directory that holds these files."
        case let .filesMissing(dataset, directory, missing, expected):
            return "\(dataset): missing \(missing.joined(separator: ", ")) in \(directory); expected files: "
                + "\(expected.joined(separator: ", ")). Download the data with "
                + "`scripts/download-data.sh \(DatasetError.downloadName(dataset))`, or pass --allow-partial-data "
                + "(\"allowPartial\": true in the config) to use only the files present."
        case let .badFileSize(path, size, recordSize):
            return "\(path): size \(size) bytes is not a multiple of the \(recordSize)-byte record size "
                + "(\(size / recordSize) whole records and \(size % recordSize) bytes left over); the file is truncated "
                + "or of another format. Download it again with scripts/download-data.sh."
        case let .labelOutOfRange(path, record, kind, label, classCount):
            return "\(path): record \(record) has \(kind) label \(label), outside 0..<\(classCount); the file is corrupt "
                + "or belongs to another data set (CIFAR-10 and CIFAR-100 records differ). Download it again with "
                + "scripts/download-data.sh."
        case let .unreadable(path, reason):
            return "\(path): cannot read the file (\(reason)). Check its permissions, or download it again with "
                + "scripts/download-data.sh."
        case let .unknownWord(path, line, word):
            return "\(path):\(line): word \"\(word)\" is not in the vocabulary built from ptb.train.txt; "
                + "the validation and test files must use only training words (the official PTB files do, "
                + "unknown words are written <unk>). Use the official files from scripts/download-data.sh ptb."
        case let .empty(path, what):
            return "\(path): the file holds no \(what); download it again with scripts/download-data.sh."
        case let .invalidArgument(message):
            return message
        case let .unwritable(path, reason):
            return "\(path): cannot write the file (\(reason)); check that the directory exists and is writable."
        }
    }

    public var errorDescription: String? { description }

    static func downloadName(_ dataset: String) -> String {
        switch dataset {
        case "CIFAR-10": return "cifar10"
        case "CIFAR-100": return "cifar100"
        case "PTB": return "ptb"
        default: return "all"
        }
    }
}

/// Small file-system helpers shared by the readers and writers.
enum DataFiles {
    static func isDirectory(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
    }

    static func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

    /// The size of a regular file in bytes.
    static func size(of path: String) throws -> Int {
        if isDirectory(path) { throw DatasetError.unreadable(path: path, reason: "it is a directory, not a file") }
        do {
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            guard let size = attributes[.size] as? NSNumber else {
                throw DatasetError.unreadable(path: path, reason: "its size is unknown")
            }
            return size.intValue
        } catch let error as DatasetError {
            throw error
        } catch {
            throw DatasetError.unreadable(path: path, reason: error.localizedDescription)
        }
    }

    /// The first `count` bytes of a file (all of it when `count` is nil).
    static func read(_ path: String, count: Int? = nil) throws -> Data {
        if isDirectory(path) { throw DatasetError.unreadable(path: path, reason: "it is a directory, not a file") }
        do {
            let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
            defer { try? handle.close() }
            let data: Data?
            if let count { data = try handle.read(upToCount: count) } else { data = try handle.readToEnd() }
            return data ?? Data()
        } catch {
            throw DatasetError.unreadable(path: path, reason: error.localizedDescription)
        }
    }

    /// Writes `data` to `path` atomically (through Engine's AtomicFile), in the data sets' wording when it fails.
    static func writeAtomically(_ data: Data, to path: String) throws {
        do {
            try AtomicFile.write(data, to: path)
        } catch let error as AtomicFile.WriteError {
            throw DatasetError.unwritable(path: path, reason: error.systemReason)
        }
    }

    static func join(_ directory: String, _ name: String) -> String {
        URL(fileURLWithPath: directory).appendingPathComponent(name).path
    }
}

/// Prints a warning on standard error.
public func printWarning(_ message: String) {
    FileHandle.standardError.write(Data("warning: \(message)\n".utf8))
}

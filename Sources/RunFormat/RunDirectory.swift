import Engine
import Foundation

/// A problem with a file of a run directory: what, where and what to do.
public struct RunFileError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// One run's directory, `results/<experiment>/<setting>/seed-<n>/`, and every file in it. This is the one
/// place that names them; every reader and writer (train, sweep, collect, compare, the analyses) goes through it.
///
///     metrics.csv                     one row per finished epoch
///     run.json                        `RunRecord`: settings, status, results, provenance
///     attempts.json                   `[RunAttempt]`: every process that trained the run
///     .lock                           a sweep worker's flock while it trains the run (holder's pid, host, time)
///     checkpoint/trainer.json         `TrainerState`, written last; names its generation g
///     checkpoint/model-g<g>.safetensors, optimizer-g<g>.safetensors, carried-g<g>.safetensors
///
/// The legal moves of run.json's status are `RunStatus.canMove(from:to:)` and `RunRecord.problem`;
/// `write(_:)` refuses any other.
public struct RunDirectory: Equatable, Sendable {
    public let path: String
    public init(_ path: String) { self.path = path }

    /// The names of run.json and of the checkpoint folder inside a run directory.
    public static let runJSONName = "run.json", checkpointName = "checkpoint"

    public var runJSON: String { "\(path)/\(RunDirectory.runJSONName)" }
    public var metricsCSV: String { "\(path)/metrics.csv" }
    public var attemptsJSON: String { "\(path)/attempts.json" }
    /// `train --log-steps N`: every N-th step's batch loss and error.
    public var stepsCSV: String { "\(path)/steps.csv" }
    /// `train --record-batches FILE`: every step's examples and augmentation, under the name the user gave.
    public func batchRecords(_ name: String) -> String { "\(path)/\(name)" }
    public var lockFile: String { "\(path)/.lock" }
    public var checkpoint: String { "\(path)/\(RunDirectory.checkpointName)" }
    public var trainerJSON: String { "\(checkpoint)/trainer.json" }
    public func modelFile(generation g: Int) -> String { "\(checkpoint)/model-g\(g).safetensors" }
    public func optimizerFile(generation g: Int) -> String { "\(checkpoint)/optimizer-g\(g).safetensors" }
    public func carriedFile(generation g: Int) -> String { "\(checkpoint)/carried-g\(g).safetensors" }
    /// The checkpoint files of generations other than `g` (left by a crash mid-checkpoint or superseded).
    public func staleCheckpointFiles(keeping g: Int) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: checkpoint)) ?? [])
            .filter { $0.hasSuffix(".safetensors") && !$0.hasSuffix("-g\(g).safetensors") }.sorted()
            .map { "\(checkpoint)/\($0)" }
    }

    static func encoder() -> JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return e
    }

    /// The decoder of run.json and its companions (non-finite numbers are written as "inf", "-inf", "nan").
    public static func decoder() -> JSONDecoder {
        let d = JSONDecoder()
        d.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return d
    }

    private func read<T: Decodable>(_ type: T.Type, at file: String, what: String) throws -> T? {
        guard let data = FileManager.default.contents(atPath: file) else { return nil }
        do {
            return try RunDirectory.decoder().decode(T.self, from: data)
        } catch {
            throw RunFileError("\(file) is damaged (\(RunDirectory.describe(error))); \(what)")
        }
    }

    /// A decoding error in one line: the field and what was wrong.
    public static func describe(_ error: Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, let context):
            return "field '\((context.codingPath + [key]).map(\.stringValue).joined(separator: "."))' is missing"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            return "field '\(context.codingPath.map(\.stringValue).joined(separator: "."))' has the wrong type (\(context.debugDescription))"
        case DecodingError.dataCorrupted(let context):
            let field = context.codingPath.map(\.stringValue).joined(separator: ".")
            return field.isEmpty ? "not valid JSON" : "field '\(field)': \(context.debugDescription)"
        default:
            return "\(error)"
        }
    }

    // MARK: run.json

    /// run.json, or nil when the run has none yet.
    public func readRecord() throws -> RunRecord? {
        try read(RunRecord.self, at: runJSON, what: "it is not a run.json written by `adai-bench train` (docs/RESULTS.md), or it was cut short: "
                 + "the next `train --resume` or sweep of the run rewrites it, or delete the run directory to start the run again")
    }

    /// The status in run.json; nil when there is none or it cannot be read.
    public func status() -> RunStatus? { (try? readRecord())?.status }

    /// Writes run.json atomically, when the move from the status on disk is legal and the record is consistent.
    public func write(_ record: RunRecord) throws {
        if let problem = record.problem {
            throw RunFileError("refusing to write \(runJSON): \(problem); this is a bug of adai-bench, please report it")
        }
        let old = status()
        guard RunStatus.canMove(from: old, to: record.status) else {
            throw RunFileError("refusing to write \(runJSON) as \(record.status.rawValue): it is already \(old!.rawValue), and a finished run is never rewritten; delete the run directory to train it again")
        }
        try AtomicFile.write(try RunDirectory.encoder().encode(record), to: runJSON)
    }

    // MARK: checkpoint/trainer.json

    /// The checkpoint's trainer state, or nil when the run has no checkpoint.
    public func readTrainerState() throws -> TrainerState? {
        try read(TrainerState.self, at: trainerJSON, what: "delete \(path) to start this run again")
    }

    /// Replaces trainer.json atomically: the checkpoint of `state.generation` becomes the current one.
    public func write(_ state: TrainerState) throws {
        try AtomicFile.write(try RunDirectory.encoder().encode(state), to: trainerJSON)
    }

    // MARK: attempts.json

    public func readAttempts() throws -> [RunAttempt] {
        try read([RunAttempt].self, at: attemptsJSON, what: "delete it (it is a log; the run does not need it)") ?? []
    }

    public func write(_ attempts: [RunAttempt]) throws {
        try AtomicFile.write(try RunDirectory.encoder().encode(attempts), to: attemptsJSON)
    }
}

/// An experiment's directory, `results/<experiment>/`: its runs and the files they share.
public struct ExperimentDirectory: Equatable, Sendable {
    public let path: String
    public init(_ path: String) { self.path = path }

    /// Every run in long form, rebuilt after each epoch of any run.
    public var curvesCSV: String { "\(path)/curves.csv" }
    /// `adai-bench collect`'s summary, one row per setting.
    public var summaryCSV: String { "\(path)/summary.csv" }
    /// Generated data of a config with `dataset.synthetic`.
    public var syntheticData: String { "\(path)/synthetic-data" }
    /// Held while the synthetic data is generated, and while curves.csv is rebuilt.
    public var dataLock: String { "\(path)/.data.lock" }
    public var curvesLock: String { "\(path)/.curves.lock" }
    /// `sweep --backend slurm`: the sbatch scripts and the tasks' logs.
    public var slurm: String { "\(path)/slurm" }

    /// `<setting>/seed-<n>` run directories that hold a run.json, sorted by id.
    public func runDirectories() -> [RunDirectory] {
        let fm = FileManager.default
        var out: [RunDirectory] = []
        for setting in ((try? fm.contentsOfDirectory(atPath: path)) ?? []).sorted() {
            for seed in ((try? fm.contentsOfDirectory(atPath: "\(path)/\(setting)")) ?? []).sorted() where seed.hasPrefix("seed-") {
                let run = RunDirectory("\(path)/\(setting)/\(seed)")
                if fm.fileExists(atPath: run.runJSON) { out.append(run) }
            }
        }
        return out
    }
}

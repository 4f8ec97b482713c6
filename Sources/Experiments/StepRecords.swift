import Datasets
import Engine
import Foundation
import RunFormat

// Per-step records of a training run, besides the per-epoch metrics.csv:
//
//   steps.csv (`train --log-steps N`): every N-th step of the run, the step's epoch, its position in
//   the epoch, its position in the run, the learning rate, and the training loss and error of that
//   one batch (training-mode outputs before the step's update). Columns
//   `epoch,step,global_step,lr,train_loss,train_error` (error in percent) for image classification,
//   `epoch,step,global_step,lr,train_loss,train_ppl` for the language model; epoch and step count from 1.
//
//   batch records (`train --record-batches FILE`, image classification only): one JSON object per line
//   and step, {"epoch", "step", "indices", "offset_y", "offset_x", "flip"}: the records of the training
//   set in the batch (0-based, data_batch_1 first), and for each the top-left corner of its 32×32 crop in
//   the image zero-padded to 40×40 (0…8, torchvision's RandomCrop(32, padding=4) `i`, `j`) and whether it
//   was then flipped horizontally. That is everything needed to rebuild the batch's pixels, so another
//   program can replay exactly the same batches.
//
// Both files live in the run's directory (FILE is a name relative to it). Lines are kept in memory and
// appended at the end of each epoch and when a run stops early; on --resume, lines at or after the
// checkpoint's position are dropped first (the file is rewritten atomically), so the resumed run's
// records continue without duplicates or gaps.

/// What `train` records per step; both off by default.
public struct StepRecordOptions: Equatable, Sendable {
    /// Write a row of steps.csv every this many steps of the run (1: every step); nil: no steps.csv.
    public var logEvery: Int?
    /// Name of the batch-record file inside each run's directory; nil: none.
    public var batchesFile: String?

    public init(logEvery: Int? = nil, batchesFile: String? = nil) {
        self.logEvery = logEvery
        self.batchesFile = batchesFile
    }

    /// Rejects a step interval below 1 and a batch-record name that is not a plain relative path.
    public func validate() throws {
        if let logEvery, logEvery < 1 { throw TrainError("--log-steps must be at least 1, got \(logEvery)") }
        if let name = batchesFile {
            guard !name.isEmpty, !name.hasPrefix("/"), !name.split(separator: "/").contains("..") else {
                throw TrainError("--record-batches takes a file name inside each run's directory (e.g. batches.jsonl), got \"\(name)\"")
            }
        }
    }
}

/// The batch record of one training step (one line of the batch-record file).
public struct BatchRecord: Codable, Equatable, Sendable {
    public var epoch: Int
    public var step: Int
    public var indices: [Int]
    public var offsetY: [Int]
    public var offsetX: [Int]
    public var flip: [Bool]

    enum CodingKeys: String, CodingKey {
        case epoch, step, indices, flip
        case offsetY = "offset_y", offsetX = "offset_x"
    }

    /// The crop and flip of example `i` of the batch.
    public func augmentation(_ i: Int) -> CropAndFlip { CropAndFlip(offsetY: offsetY[i], offsetX: offsetX[i], flip: flip[i]) }

    /// Reads a batch-record file (one JSON object per line).
    public static func read(path: String) throws -> [BatchRecord] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return try text.split(separator: "\n").enumerated().map { number, line in
            do { return try JSONDecoder().decode(BatchRecord.self, from: Data(line.utf8)) } catch {
                throw TrainError("\(path), line \(number + 1): not a batch record (\(error))")
            }
        }
    }
}

/// Writes steps.csv and the batch records of one run.
final class StepRecorder {
    private let logEvery: Int?
    private let stepsPath: String?, batchesPath: String?
    /// The steps of the epochs before a given one (an AWD-LSTM epoch's count is drawn per epoch).
    private let stepsBefore: (Int) -> Int
    private var stepsBeforeCache: (epoch: Int, steps: Int)?
    private let isLanguageModel: Bool
    private let images: ImageClassificationTask?
    private var pendingSteps: [String] = [], pendingBatches: [String] = []
    private var epochOrder: (epoch: Int, order: [Int])?

    /// nil when nothing is to be recorded. `resumeAt` is the checkpoint's (0-based epoch, steps done in it).
    init?(options: StepRecordOptions, runDirectory: RunDirectory, task: TrainingTask, isLanguageModel: Bool, stepsBefore: @escaping (Int) -> Int,
          resumeAt: (epoch: Int, step: Int)) throws {
        guard options.logEvery != nil || options.batchesFile != nil else { return nil }
        try options.validate()
        logEvery = options.logEvery
        self.stepsBefore = stepsBefore
        self.isLanguageModel = isLanguageModel
        images = task as? ImageClassificationTask
        if options.batchesFile != nil && images == nil {
            throw TrainError("--record-batches applies to image classification runs; a language model's batches are the fixed "
                             + "consecutive BPTT windows of the corpus, with nothing drawn at random")
        }
        stepsPath = options.logEvery.map { _ in runDirectory.stepsCSV }
        batchesPath = options.batchesFile.map { runDirectory.batchRecords($0) }
        let fresh = resumeAt.epoch == 0 && resumeAt.step == 0
        if let stepsPath {
            let header = "epoch,step,global_step,lr,train_loss," + (isLanguageModel ? "train_ppl" : "train_error")
            try StepRecorder.truncate(stepsPath, fresh: fresh, header: header, before: resumeAt) { line in
                let fields = line.split(separator: ",")
                return fields.count >= 2 ? (Int(fields[0]).map { $0 - 1 }, Int(fields[1])) : (nil, nil)
            }
        }
        if let batchesPath {
            try StepRecorder.truncate(batchesPath, fresh: fresh, header: nil, before: resumeAt) { line in
                guard let record = try? JSONDecoder().decode(BatchRecord.self, from: Data(line.utf8)) else { return (nil, nil) }
                return (record.epoch - 1, record.step)
            }
        }
    }

    /// Records step `step` (1-based) of `epoch` (0-based), whose batch gave `loss` and `errors` over `count` examples.
    func record(epoch: Int, step: Int, lr: Double, loss: Double, errors: Double, count: Double) {
        if stepsBeforeCache?.epoch != epoch { stepsBeforeCache = (epoch, stepsBefore(epoch)) }
        let globalStep = stepsBeforeCache!.steps + step
        if let logEvery, globalStep % logEvery == 0 {
            let last = isLanguageModel ? Foundation.exp(loss) : 100 * errors / max(count, 1)
            pendingSteps.append("\(epoch + 1),\(step),\(globalStep),\(MetricsTable.format(lr)),\(MetricsTable.format(loss)),"
                                + MetricsTable.format(last))
        }
        if batchesPath != nil, let images {
            if epochOrder?.epoch != epoch { epochOrder = (epoch, images.batches.order(epoch: epoch)) }
            let indices = images.batches.indices(index: step - 1, order: epochOrder!.order)
            let crops = images.batches.augmentations(epoch: epoch, batch: step - 1, count: indices.count)
            let record = BatchRecord(epoch: epoch + 1, step: step, indices: indices, offsetY: crops.map(\.offsetY),
                                     offsetX: crops.map(\.offsetX), flip: crops.map(\.flip))
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            pendingBatches.append(String(decoding: try! encoder.encode(record), as: UTF8.self))
        }
    }

    /// Appends the lines recorded since the last flush to their files.
    func flush() throws {
        if let stepsPath, !pendingSteps.isEmpty { try StepRecorder.append(pendingSteps, to: stepsPath) }
        if let batchesPath, !pendingBatches.isEmpty { try StepRecorder.append(pendingBatches, to: batchesPath) }
        pendingSteps = []
        pendingBatches = []
    }

    private static func append(_ lines: [String], to path: String) throws {
        guard let handle = FileHandle(forWritingAtPath: path) else {
            throw TrainError("cannot open \(path) to append step records; check that the run directory is writable")
        }
        defer { try? handle.close() }
        do {
            try handle.seekToEnd()
            try handle.write(contentsOf: Data((lines.joined(separator: "\n") + "\n").utf8))
        } catch {
            throw TrainError("cannot append step records to \(path): \(error.localizedDescription)")
        }
    }

    /// Starts `path` afresh (with `header`), or on resume keeps only its lines before `position`.
    private static func truncate(_ path: String, fresh: Bool, header: String?, before position: (epoch: Int, step: Int),
                                 key: (Substring) -> (Int?, Int?)) throws {
        var lines: [String] = header.map { [$0] } ?? []
        if !fresh, let text = try? String(contentsOfFile: path, encoding: .utf8) {
            for line in text.split(separator: "\n") where String(line) != header {
                guard case let (epoch?, step?) = key(line) else { continue }
                if (epoch, step) <= (position.epoch, position.step) { lines.append(String(line)) }
            }
        }
        try AtomicFile.write(lines.isEmpty ? "" : lines.joined(separator: "\n") + "\n", to: path)
    }
}

import Datasets
import Engine
import Experiments
import Foundation
import TestSupport
import XCTest

/// `train --log-steps N` (steps.csv) and `--record-batches FILE` (per-step example indices and
/// augmentations). Cost: three and a half runs of resnet-tiny (6 steps per epoch on 384 synthetic
/// images, 1–2 epochs): 32 s in a debug build on this shared, loaded 2-core host (TrainerTests'
/// resume test alone took 38 s in the same session).
final class StepRecordTests: XCTestCase {
    private var directory: String!
    private let run = "tiny/sgdm-lr0.05-wd0.0005/seed-1"

    override func setUpWithError() throws { directory = try makeTemporaryDirectory("steps") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: directory) }

    private func options(_ records: StepRecordOptions, results: String? = nil, resume: Bool = false) -> TrainOptions {
        var o = TrainOptions()
        o.results = results ?? directory
        o.resume = resume
        o.liveProgress = false
        o.log = { _ in }
        o.stepRecords = records
        return o
    }

    private func csvRows(_ path: String) throws -> [[String]] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map { $0.split(separator: ",").map(String.init) }
    }

    func testStepsCSVKeepsEveryNthStep() throws {
        let config = try parseConfig(tinyConfigJSON(epochs: 1))  // 384 images, batch 64: 6 steps per epoch
        try ExperimentRunner(config: config, options: options(StepRecordOptions(logEvery: 4))).run()
        let rows = try csvRows("\(directory!)/\(run)/steps.csv")
        XCTAssertEqual(rows.first, ["epoch", "step", "global_step", "lr", "train_loss", "train_error"])
        XCTAssertEqual(rows.dropFirst().map { Array($0.prefix(4)) }, [["1", "4", "4", "0.05"]])
    }

    /// One run records every step; a second is interrupted mid-epoch and resumed: its records equal the first's.
    func testStepRecordsAddUpReplayTheBatchesAndSurviveAResume() throws {
        let config = try parseConfig(tinyConfigJSON(epochs: 2))
        let records = StepRecordOptions(logEvery: 1, batchesFile: "batches.jsonl")
        let reference = try makeTemporaryDirectory("steps-reference")
        defer { try? FileManager.default.removeItem(atPath: reference) }
        try ExperimentRunner(config: config, options: options(records, results: reference)).run()

        // The batch losses and errors, weighted by batch size, are the epoch's train columns.
        let steps = try csvRows("\(reference)/\(run)/steps.csv")
        XCTAssertEqual(steps.count, 13)
        let metrics = try MetricsTable.read(path: "\(reference)/\(run)/metrics.csv")
        for epoch in 1...2 {
            let rows = steps.dropFirst().filter { $0[0] == "\(epoch)" }
            XCTAssertEqual(rows.map { $0[1] }, ["1", "2", "3", "4", "5", "6"])
            let loss = rows.reduce(0.0) { $0 + Double($1[4])! * 64 } / 384
            let error = rows.reduce(0.0) { $0 + Double($1[5])! * 64 } / 384
            XCTAssertEqual(loss, metrics.column("train_loss")![epoch - 1], accuracy: 1e-6)
            XCTAssertEqual(error, metrics.column("train_error")![epoch - 1], accuracy: 1e-6)
        }

        // The trainer's batches (CIFARBatches with the run's seed) against the batches rebuilt from the
        // records alone: raw bytes of the recorded examples, cropped and flipped as recorded, normalised.
        let batchRecords = try BatchRecord.read(path: "\(reference)/\(run)/batches.jsonl")
        XCTAssertEqual(batchRecords.map { [$0.epoch, $0.step] }, (1...2).flatMap { e in (1...6).map { [e, $0] } })
        let train = try CIFARDataset(variant: .cifar10, split: .train, directory: "\(reference)/tiny/synthetic-data")
        let batches = try CIFARBatches(dataset: train, batchSize: 64, training: true, seed: 1)
        let table = CIFARNormalization.cifar10.lookupTable()
        for record in batchRecords {
            XCTAssertEqual(Set(batchRecords.filter { $0.epoch == record.epoch }.flatMap(\.indices)).count, 384, "each epoch covers every image once")
            let expected = batches.batch(epoch: record.epoch - 1, index: record.step - 1, order: batches.order(epoch: record.epoch - 1))
            XCTAssertEqual(record.indices, expected.indices)
            var rebuilt = [Float]()
            var cropped = [UInt8](repeating: 0, count: CIFARImage.pixelCount)
            for (i, index) in record.indices.enumerated() {
                train.records.pixels.withUnsafeBufferPointer { pixels in
                    cropped.withUnsafeMutableBufferPointer { out in
                        record.augmentation(i).apply(pixels.baseAddress! + index * CIFARImage.pixelCount, into: out.baseAddress!)
                    }
                }
                for (p, byte) in cropped.enumerated() { rebuilt.append(table[(p / CIFARImage.planeSize) * 256 + Int(byte)]) }
            }
            XCTAssertEqual(rebuilt, expected.images.array, "epoch \(record.epoch) step \(record.step): replayed pixels differ")
        }
        XCTAssertTrue(batchRecords.contains { $0.flip.contains(true) } && batchRecords.contains { $0.offsetY.contains { $0 != 4 } })

        // Interrupted at step 2 of epoch 2, then resumed.
        var interrupted = options(records)
        interrupted.interruptAt = (epoch: 1, step: 2)
        XCTAssertEqual(try ExperimentRunner(config: config, options: interrupted).run().map(\.1), [.interrupted])
        // A line past the checkpoint (as a crash after writing it would leave) is dropped on resume.
        let handle = FileHandle(forWritingAtPath: "\(directory!)/\(run)/steps.csv")!
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("2,3,9,0.05,1,50\n".utf8))
        try handle.close()
        XCTAssertEqual(try ExperimentRunner(config: config, options: options(records, resume: true)).run().map(\.1), [.completed])
        XCTAssertEqual(try BatchRecord.read(path: "\(directory!)/\(run)/batches.jsonl"), batchRecords)
        let resumedSteps = try csvRows("\(directory!)/\(run)/steps.csv")
        XCTAssertEqual(resumedSteps.map { Array($0.prefix(4)) }, steps.map { Array($0.prefix(4)) })
    }

    func testBadStepRecordOptionsAreErrorsWithMessages() throws {
        XCTAssertThrowsError(try StepRecordOptions(logEvery: 0).validate()) { error in
            XCTAssertEqual("\(error)", "--log-steps must be at least 1, got 0")
        }
        for name in ["/tmp/batches.jsonl", "../batches.jsonl", ""] {
            XCTAssertThrowsError(try StepRecordOptions(batchesFile: name).validate()) { error in
                XCTAssertEqual("\(error)", "--record-batches takes a file name inside each run's directory (e.g. batches.jsonl), got \"\(name)\"")
            }
        }
        let json = tinyConfigJSON().replacingOccurrences(of: #""name": "cifar10", "synthetic": {"train": 384, "test": 128, "seed": 3}"#,
                                                         with: #""name": "ptb", "synthetic": {"train": 60, "test": 20, "seed": 3}"#)
            .replacingOccurrences(of: "resnet-tiny", with: "lstm-tiny").replacingOccurrences(of: #""batchSize": 64, "evalBatchSize": 128"#, with: #""batchSize": 4, "evalBatchSize": 4, "bptt": 5"#)
        let config = try parseConfig(json)
        XCTAssertThrowsError(try ExperimentRunner(config: config, options: options(StepRecordOptions(batchesFile: "b.jsonl"))).run()) { error in
            XCTAssertEqual("\(error)", "--record-batches applies to image classification runs; a language model's batches are the fixed "
                           + "consecutive BPTT windows of the corpus, with nothing drawn at random")
        }
    }
}

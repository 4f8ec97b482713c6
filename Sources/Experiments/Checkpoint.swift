import Engine
import Foundation
import NN
import Optim

/// The trainer's own state in a checkpoint (`trainer.json`): where the run stands and the
/// metrics so far. Model, optimizer and carried tensors sit beside it in safetensors files
/// whose names carry the checkpoint's generation, so a crash while writing a new checkpoint
/// leaves the previous one whole: `trainer.json` is replaced last and names the files it goes with.
struct TrainerState: Codable, Equatable {
    var generation: Int
    /// The 0-based epoch to run next (or to continue, when `stepInEpoch` > 0).
    var nextEpoch: Int
    /// Steps of `nextEpoch` already taken (non-zero only for a checkpoint written on interruption).
    var stepInEpoch: Int
    /// Running sums of the unfinished epoch.
    var lossSum: Double, errorSum: Double, count: Double
    /// Metrics rows of the finished epochs.
    var rows: [[Double]]
    var startedAt: String

    static func initial() -> TrainerState {
        TrainerState(generation: 0, nextEpoch: 0, stepInEpoch: 0, lossSum: 0, errorSum: 0, count: 0, rows: [],
                     startedAt: timestamp())
    }
}

enum RunCheckpoint {
    static func directory(_ run: String) -> String { run + "/checkpoint" }

    /// Writes generation `state.generation` and then removes the files of older generations.
    static func save(runDirectory: String, state: TrainerState, model: Module, optimizer: any Optimizer,
                     carried: [String: Tensor]) throws {
        let dir = directory(runDirectory)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let g = state.generation
        try model.saveState(to: URL(fileURLWithPath: "\(dir)/model-g\(g).safetensors"))
        KillPoints.reached(.checkpointModelWritten)
        let (metadata, tensors) = optimizer.saveState().flattened()
        let optimizerArchive = SafetensorsArchive(
            tensors: tensors.keys.sorted().map { (name: $0, value: StoredTensor.float32(tensors[$0]!)) }, metadata: metadata)
        try optimizerArchive.write(to: URL(fileURLWithPath: "\(dir)/optimizer-g\(g).safetensors"))
        let carriedArchive = SafetensorsArchive(
            tensors: carried.keys.sorted().map { (name: $0, value: StoredTensor.float32(carried[$0]!.copy())) })
        try carriedArchive.write(to: URL(fileURLWithPath: "\(dir)/carried-g\(g).safetensors"))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(state), to: "\(dir)/trainer.json")
        for name in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        where name.hasSuffix(".safetensors") && !name.hasSuffix("-g\(g).safetensors") {
            try? FileManager.default.removeItem(atPath: "\(dir)/\(name)")
        }
    }

    /// Restores the model, the optimizer and the carried tensors; nil when there is no checkpoint.
    static func load(runDirectory: String, model: Module, modelDescription: String,
                     optimizer: any Optimizer) throws -> (TrainerState, [String: Tensor])? {
        let dir = directory(runDirectory)
        guard let data = FileManager.default.contents(atPath: "\(dir)/trainer.json") else { return nil }
        let state: TrainerState
        do {
            state = try JSONDecoder().decode(TrainerState.self, from: data)
        } catch {
            throw TrainError("\(dir)/trainer.json is damaged (\(error)); delete \(runDirectory) to start this run again")
        }
        let g = state.generation
        do {
            try model.loadState(contentsOf: URL(fileURLWithPath: "\(dir)/model-g\(g).safetensors"), modelDescription: modelDescription)
            let archive = try SafetensorsArchive.read(contentsOf: URL(fileURLWithPath: "\(dir)/optimizer-g\(g).safetensors"))
            var tensors: [String: Tensor] = [:]
            for name in archive.names { tensors[name] = try archive.floatTensor(name, source: "optimizer-g\(g).safetensors") }
            try optimizer.loadState(try OptimizerState(metadata: archive.metadata, tensors: tensors))
            let carriedArchive = try SafetensorsArchive.read(contentsOf: URL(fileURLWithPath: "\(dir)/carried-g\(g).safetensors"))
            var carried: [String: Tensor] = [:]
            for name in carriedArchive.names { carried[name] = try carriedArchive.floatTensor(name, source: "carried-g\(g).safetensors") }
            return (state, carried)
        } catch {
            throw TrainError("cannot resume from \(dir): \(error); delete \(runDirectory) to start this run again")
        }
    }
}

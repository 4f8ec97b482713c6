import Engine
import Foundation
import NN
import Optim
import RunFormat

/// A run's checkpoint: `checkpoint/trainer.json` (`TrainerState`) and the model, optimizer and carried
/// tensors of its generation (file names from `RunDirectory`).
enum RunCheckpoint {
    /// Writes generation `state.generation` and then removes the files of older generations. trainer.json
    /// is replaced last: until then the previous generation is the checkpoint, whole.
    static func save(run: RunDirectory, state: TrainerState, model: Module, optimizer: any Optimizer,
                     carried: [String: Tensor]) throws {
        try FileManager.default.createDirectory(atPath: run.checkpoint, withIntermediateDirectories: true)
        let g = state.generation
        try model.saveState(to: URL(fileURLWithPath: run.modelFile(generation: g)))
        KillPoints.reached(.checkpointModelWritten)
        let (metadata, tensors) = optimizer.saveState().flattened()
        let optimizerArchive = SafetensorsArchive(
            tensors: tensors.keys.sorted().map { (name: $0, value: StoredTensor.float32(tensors[$0]!)) }, metadata: metadata)
        try optimizerArchive.write(to: URL(fileURLWithPath: run.optimizerFile(generation: g)))
        let carriedArchive = SafetensorsArchive(
            tensors: carried.keys.sorted().map { (name: $0, value: StoredTensor.float32(carried[$0]!.copy())) })
        try carriedArchive.write(to: URL(fileURLWithPath: run.carriedFile(generation: g)))
        try run.write(state)
        for file in run.staleCheckpointFiles(keeping: g) { try? FileManager.default.removeItem(atPath: file) }
    }

    /// Restores the model, the optimizer and the carried tensors; nil when there is no checkpoint.
    /// `optimizer` gives the optimizer to load into from the checkpoint's trainer state (the AWD recipe
    /// may have switched to ASGD).
    static func load(run: RunDirectory, model: Module, modelDescription: String,
                     optimizer optimizerFor: (TrainerState) throws -> any Optimizer) throws -> (TrainerState, [String: Tensor])? {
        let state: TrainerState
        do {
            guard let s = try run.readTrainerState() else { return nil }
            state = s
        } catch let error as RunFileError {
            throw TrainError(error.description)
        }
        let g = state.generation
        do {
            try model.loadState(contentsOf: URL(fileURLWithPath: run.modelFile(generation: g)), modelDescription: modelDescription)
            let archive = try SafetensorsArchive.read(contentsOf: URL(fileURLWithPath: run.optimizerFile(generation: g)))
            var tensors: [String: Tensor] = [:]
            for name in archive.names { tensors[name] = try archive.floatTensor(name, source: "optimizer-g\(g).safetensors") }
            try optimizerFor(state).loadState(try OptimizerState(metadata: archive.metadata, tensors: tensors))
            let carriedArchive = try SafetensorsArchive.read(contentsOf: URL(fileURLWithPath: run.carriedFile(generation: g)))
            var carried: [String: Tensor] = [:]
            for name in carriedArchive.names { carried[name] = try carriedArchive.floatTensor(name, source: "carried-g\(g).safetensors") }
            return (state, carried)
        } catch {
            throw TrainError("cannot resume from \(run.checkpoint): \(error); delete \(run.path) to start this run again")
        }
    }
}

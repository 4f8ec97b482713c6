import Engine
import Foundation

// A module's state as a safetensors archive whose names, shapes and dtypes equal the reference
// PyTorch model's `state_dict` (so `model.load_state_dict(load_file(path), strict=True)` works),
// and the strict reverse: loading a file into a module.

extension Module {
    /// The state (parameters, buffers, counters) in `state_dict` order. Float tensors are copies,
    /// so the archive does not change when training continues.
    public func stateArchive(metadata: [String: String] = [:]) -> SafetensorsArchive {
        let tensors: [(name: String, value: StoredTensor)] = namedState().map { name, value in
            switch value {
            case .parameter(let v): return (name, .float32(v.value.copy()))
            case .buffer(let t): return (name, .float32(t.copy()))
            case .counter(let c): return (name, .int64(shape: [], values: [c.value]))
            }
        }
        return SafetensorsArchive(tensors: tensors, metadata: metadata)
    }

    /// Writes the state to a safetensors file (atomically).
    public func saveState(to url: URL, metadata: [String: String] = [:]) throws {
        try stateArchive(metadata: metadata).write(to: url)
    }

    /// Loads every state entry from `archive`, strictly: each expected name must be present with
    /// the expected shape and dtype, and the archive must hold nothing else. Everything is
    /// checked before anything is copied, so on error the module is unchanged.
    /// `source` (a file name) and `modelDescription` (e.g. "resnet18 with 10 classes") go into messages.
    public func loadState(from archive: SafetensorsArchive, source: String, modelDescription: String) throws {
        let expected = namedState()
        var problems: [String] = []
        for (name, value) in expected {
            let dtype = value.dtypeName
            guard let stored = archive[name] else {
                problems.append("missing tensor `\(name)` (expected shape \(value.shape), \(dtype))")
                continue
            }
            if stored.shape != value.shape {
                problems.append("tensor `\(name)` has shape \(stored.shape) but \(modelDescription) expects \(value.shape)")
            } else if stored.dtype.rawValue != dtype {
                problems.append("tensor `\(name)` is \(stored.dtype.rawValue) but \(modelDescription) expects \(dtype)")
            }
        }
        let expectedNames = Set(expected.map(\.0))
        for name in archive.names where !expectedNames.contains(name) {
            problems.append("unexpected tensor `\(name)` (shape \(archive[name]!.shape)), which \(modelDescription) does not have")
        }
        guard problems.isEmpty else {
            let shown = problems.prefix(4).joined(separator: "; ")
            let more = problems.count > 4 ? "; and \(problems.count - 4) more problems" : ""
            throw SafetensorsError("\(source) does not match \(modelDescription): \(shown)\(more). Check --model and --classes (or the vocabulary) against the ones the checkpoint was written with.")
        }
        for (name, value) in expected {
            switch (value, archive[name]!) {
            case (.parameter(let v), .float32(let t)): v.value.assign(t)
            case (.buffer(let b), .float32(let t)): b.assign(t)
            case (.counter(let c), .int64(_, let values)): c.value = values[0]
            default: break  // dtypes were checked above
            }
        }
    }

    /// Reads a safetensors file and loads it strictly (see `loadState(from:source:modelDescription:)`).
    public func loadState(contentsOf url: URL, modelDescription: String) throws {
        try loadState(from: try SafetensorsArchive.read(contentsOf: url), source: url.path, modelDescription: modelDescription)
    }
}

extension StateValue {
    /// The dtype a PyTorch state_dict stores this entry in.
    var dtypeName: String {
        if case .counter = self { return "I64" }
        return "F32"
    }
}

import Engine

/// The state of one parameter: its step count, its buffers, named as in the reference code's
/// `optimizer.state[p]` (`exp_avg`, `exp_avg_sq`, `momentum_buffer`, `beta1_prod`, ...), and its
/// scalars (ASGD's `eta` and `mu`; empty for every other optimizer).
public struct ParameterState {
    public var step: Int
    public var buffers: [String: Tensor]
    public var scalars: [String: Double]
    public init(step: Int, buffers: [String: Tensor], scalars: [String: Double] = [:]) {
        self.step = step
        self.buffers = buffers
        self.scalars = scalars
    }
}

/// Everything an optimizer needs to continue exactly where it stopped.
///
/// `flattened()` turns it into string metadata and named tensors, the shape of a safetensors
/// file, so checkpoints can store it beside the model:
///   metadata  `optimizer` = name, `groups` = count, `group.<g>.lr`, `state.<parameter>.step`,
///             `state.<parameter>.scalar.<name>` (per-parameter scalars; absent in states written
///             before they existed, which therefore load unchanged)
///   tensors   `state.<parameter>.<buffer>`
/// Numbers are written as Swift prints them, which reads back to the same bits.
public struct OptimizerState {
    public var optimizer: String
    /// The current lr of each group.
    public var learningRates: [Double]
    /// By parameter name; parameters that never had a gradient are absent.
    public var parameters: [String: ParameterState]

    public init(optimizer: String, learningRates: [Double], parameters: [String: ParameterState]) {
        self.optimizer = optimizer
        self.learningRates = learningRates
        self.parameters = parameters
    }

    public func flattened() -> (metadata: [String: String], tensors: [String: Tensor]) {
        var metadata = ["optimizer": optimizer, "groups": String(learningRates.count)]
        for (g, lr) in learningRates.enumerated() { metadata["group.\(g).lr"] = "\(lr)" }
        var tensors: [String: Tensor] = [:]
        for (name, state) in parameters {
            metadata["state.\(name).step"] = String(state.step)
            for (scalar, value) in state.scalars { metadata["state.\(name).scalar.\(scalar)"] = "\(value)" }
            for (buffer, tensor) in state.buffers { tensors["state.\(name).\(buffer)"] = tensor }
        }
        return (metadata, tensors)
    }

    public init(metadata: [String: String], tensors: [String: Tensor]) throws {
        guard let optimizer = metadata["optimizer"] else { throw OptimError("optimizer state: no 'optimizer' entry") }
        guard let groupText = metadata["groups"], let groupCount = Int(groupText), groupCount >= 0 else {
            throw OptimError("optimizer state: no valid 'groups' entry")
        }
        var lrs: [Double] = []
        for g in 0..<groupCount {
            guard let text = metadata["group.\(g).lr"], let lr = Double(text) else {
                throw OptimError("optimizer state: no valid 'group.\(g).lr' entry")
            }
            lrs.append(lr)
        }
        var parameters: [String: ParameterState] = [:]
        for (key, value) in metadata where key.hasPrefix("state.") && key.hasSuffix(".step") {
            let name = String(key.dropFirst("state.".count).dropLast(".step".count))
            guard let step = Int(value) else { throw OptimError("optimizer state: '\(key)' is not a whole number: \(value)") }
            parameters[name] = ParameterState(step: step, buffers: [:])
        }
        for (key, value) in metadata where key.hasPrefix("state.") {
            guard let marker = key.range(of: ".scalar.", options: .backwards) else { continue }
            let name = String(key[key.index(key.startIndex, offsetBy: 6)..<marker.lowerBound])
            guard parameters[name] != nil else { throw OptimError("optimizer state: '\(key)' has no 'state.\(name).step'") }
            guard let number = Double(value) else { throw OptimError("optimizer state: '\(key)' is not a number: \(value)") }
            parameters[name]!.scalars[String(key[marker.upperBound...])] = number
        }
        for (key, tensor) in tensors {
            guard key.hasPrefix("state."), let dot = key.lastIndex(of: "."), dot > key.index(key.startIndex, offsetBy: 5) else {
                throw OptimError("optimizer state: unexpected tensor '\(key)'")
            }
            let name = String(key[key.index(key.startIndex, offsetBy: 6)..<dot])
            guard parameters[name] != nil else { throw OptimError("optimizer state: tensor '\(key)' has no 'state.\(name).step'") }
            parameters[name]!.buffers[String(key[key.index(after: dot)...])] = tensor
        }
        self.init(optimizer: optimizer, learningRates: lrs, parameters: parameters)
    }
}

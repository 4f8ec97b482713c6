import Engine

// Modules, their named state, and the context a forward pass runs in.
//
// A module lists its members (parameters, buffers and child modules) under the attribute names
// the reference PyTorch definition uses. Walking that tree gives the PyTorch `state_dict` keys
// (`layer1.0.conv1.weight`, `bn1.running_mean`, ...), in PyTorch's order: a module's own
// parameters, then its own buffers, then its children's state, recursively.

/// The integer batch counter of a batch-norm layer (`num_batches_tracked`, int64 in PyTorch).
public final class BatchCounter {
    public var value: Int64
    public init(_ value: Int64 = 0) { self.value = value }
}

/// One member of a module.
public enum ModuleMember {
    /// A trainable tensor (gradients flow into it).
    case parameter(Variable)
    /// A float tensor that is state but not trained, e.g. a batch-norm running mean.
    case buffer(Tensor)
    /// An int64 scalar buffer (`num_batches_tracked`).
    case counter(BatchCounter)
    /// A child module.
    case module(Module)
}

/// One entry of a module's state, under its full dotted name.
public enum StateValue {
    case parameter(Variable)
    case buffer(Tensor)
    case counter(BatchCounter)

    /// The shape the entry has in a PyTorch state_dict (a counter is a 0-dimensional tensor).
    public var shape: [Int] {
        switch self {
        case .parameter(let v): return v.shape
        case .buffer(let t): return t.shape
        case .counter: return []
        }
    }
}

/// Something with named parameters, buffers and child modules.
public protocol Module: AnyObject {
    /// The members under their PyTorch attribute names, in the reference's registration order.
    var members: [(String, ModuleMember)] { get }

    /// Draws this module's parameters (and its children's) with PyTorch's default initialisation
    /// for its layer type. Each tensor is drawn from `generator.fork(full name)`, so a tensor's
    /// initial value depends only on the seed and its name.
    func resetParameters(generator: RandomGenerator, path: String)
}

extension Module {
    /// Default for composite modules: reset every child.
    public func resetParameters(generator: RandomGenerator, path: String) {
        for (name, member) in members {
            if case .module(let child) = member {
                child.resetParameters(generator: generator, path: joinPath(path, name))
            }
        }
    }

    /// Every state entry under its full name, in PyTorch `state_dict` order. Tied parameters
    /// appear under each name (as in PyTorch's state_dict).
    public func namedState(prefix: String = "") -> [(String, StateValue)] {
        var own: [(String, StateValue)] = []
        var buffers: [(String, StateValue)] = []
        var children: [(String, StateValue)] = []
        for (name, member) in members {
            let full = joinPath(prefix, name)
            switch member {
            case .parameter(let v): own.append((full, .parameter(v)))
            case .buffer(let t): buffers.append((full, .buffer(t)))
            case .counter(let c): buffers.append((full, .counter(c)))
            case .module(let m): children += m.namedState(prefix: full)
            }
        }
        return own + buffers + children
    }

    /// The trainable parameters under their full names; a parameter shared by two modules (weight
    /// tying) is listed once, under its first name, as PyTorch's `named_parameters()` does.
    public var namedParameters: [(String, Variable)] {
        var seen = Set<ObjectIdentifier>()
        var result: [(String, Variable)] = []
        for (name, value) in namedState() {
            if case .parameter(let v) = value, seen.insert(ObjectIdentifier(v)).inserted { result.append((name, v)) }
        }
        return result
    }

    /// The buffers (float tensors and counters) under their full names.
    public var namedBuffers: [(String, StateValue)] {
        namedState().filter { if case .parameter = $0.1 { return false } else { return true } }
    }

    /// The number of trainable scalars (each shared tensor counted once).
    public var parameterCount: Int { namedParameters.reduce(0) { $0 + $1.1.count } }

    /// Clears the gradients of every parameter.
    public func zeroGradients() { for (_, p) in namedParameters { p.zeroGrad() } }

    /// Every module in the tree (this one first) with its full dotted path.
    public func namedModules(prefix: String = "") -> [(String, Module)] {
        var result: [(String, Module)] = [(prefix, self)]
        for (name, member) in members {
            if case .module(let child) = member { result += child.namedModules(prefix: joinPath(prefix, name)) }
        }
        return result
    }
}

/// "a.b" + "c" → "a.b.c"; "" + "c" → "c".
func joinPath(_ prefix: String, _ name: String) -> String { prefix.isEmpty ? name : prefix + "." + name }

/// A module whose forward pass maps one tensor to one tensor.
public protocol Layer: Module {
    func forward(_ x: Variable, _ context: inout ForwardContext) -> Variable
}

/// How a forward pass runs: training or evaluation, the stream dropout masks come from, and an
/// optional recorder for `model summary`.
public struct ForwardContext {
    /// Training mode: batch-norm uses and updates batch statistics, dropout is active.
    public var training: Bool
    /// Source of the dropout masks.
    public var generator: RandomGenerator
    /// When set, every leaf layer adds a row (output shape, parameters, FLOPs) to it.
    public var recorder: SummaryRecorder?

    public init(training: Bool, generator: RandomGenerator = RandomGenerator(seed: 0), recorder: SummaryRecorder? = nil) {
        self.training = training
        self.generator = generator
        self.recorder = recorder
    }

    /// Adds a summary row for `layer` if a recorder is attached.
    func record(_ layer: Module, kind: String, output: [Int], parameters: Int, flops: Double) {
        recorder?.add(layer: layer, kind: kind, output: output, parameters: parameters, flops: flops)
    }

    /// Adds a summary row for a functional op (one that is no module in the reference, e.g.
    /// `F.avg_pool2d`), named after the module that calls it.
    func record(function name: String, in module: Module, kind: String, output: [Int]) {
        recorder?.add(layer: module, suffix: name, kind: kind, output: output, parameters: 0, flops: 0)
    }
}

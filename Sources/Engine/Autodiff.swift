/// A node of the computation: a value and, once `Tape.backward` has run, its gradient.
///
/// Parameters are variables created with `requiresGrad: true`; inputs are created with
/// `requiresGrad: false`. The result of an op requires a gradient when a tape is recording
/// and at least one of its inputs does.
public final class Variable {
    public var value: Tensor
    /// Gradient of the loss with respect to `value` (nil until something flows into it).
    public var grad: Tensor?
    public let requiresGrad: Bool

    public init(_ value: Tensor, requiresGrad: Bool = false) {
        self.value = value
        self.requiresGrad = requiresGrad
    }

    public var shape: [Int] { value.shape }
    public var count: Int { value.count }

    /// Adds `g` into this variable's gradient. When `owned` is true and there is no gradient
    /// yet, `g` becomes the gradient without a copy (the caller must not use `g` again).
    public func accumulateGrad(_ g: Tensor, owned: Bool) {
        precondition(g.count == value.count, "gradient of \(g.shape) for a variable of \(value.shape)")
        if let existing = grad {
            Kernels.addInPlace(existing.data, g.data, count: g.count)
        } else {
            grad = owned ? g.reshaped(value.shape) : g.copy().reshaped(value.shape)
        }
    }

    /// The gradient buffer, allocated as zeros when absent, for kernels that accumulate into it.
    public func gradBuffer() -> Tensor {
        if let g = grad { return g }
        let g = Tensor(zeros: value.shape)
        grad = g
        return g
    }

    public func zeroGrad() { grad = nil }
}

/// Records the backward functions of the ops run while it is active, and replays them in
/// reverse order. With no active tape (evaluation) ops record nothing and keep no activations.
public final class Tape {
    /// The tape ops record on. `nil` means gradient mode is off.
    nonisolated(unsafe) public private(set) static var active: Tape?

    private var entries: [() -> Void] = []

    public init() {}

    public var recordedCount: Int { entries.count }

    /// Runs `body` with this tape recording.
    public func record<R>(_ body: () throws -> R) rethrows -> R {
        let previous = Tape.active
        Tape.active = self
        defer { Tape.active = previous }
        return try body()
    }

    /// Runs `body` with gradient mode off: no tape, no retained activations.
    public static func withoutGradients<R>(_ body: () throws -> R) rethrows -> R {
        let previous = active
        active = nil
        defer { active = previous }
        return try body()
    }

    /// Back-propagates from `output` (seeded with `seed`, or ones) through every recorded op,
    /// then forgets them, releasing the saved activations.
    public func backward(from output: Variable, seed: Tensor? = nil) {
        output.accumulateGrad(seed ?? Tensor(shape: output.shape, repeating: 1), owned: seed == nil)
        // Pop as we go, so each op's saved activations are released as soon as it has run.
        while let entry = entries.popLast() { entry() }
    }

    /// Forgets the recorded ops without running them.
    public func reset() { entries.removeAll(keepingCapacity: true) }

    /// Wraps an op's result. If a tape is recording and some input needs a gradient, the
    /// result needs one too and `backward` is recorded; it receives the output's gradient.
    /// `category` times the backward under that op category (nil: the op times its own backward).
    public static func result(
        _ value: Tensor, inputs: [Variable], category: OpCategory? = .other,
        backward: @escaping (_ gradOutput: Tensor) -> Void
    ) -> Variable {
        guard let tape = active, inputs.contains(where: { $0.requiresGrad }) else {
            return Variable(value)
        }
        let out = Variable(value, requiresGrad: true)
        // The entry owns `out` (and, through `backward`, the saved activations) until it has run.
        tape.entries.append {
            if let g = out.grad {
                out.grad = nil  // like PyTorch, gradients of intermediate results are not retained
                if let category { Profiler.measure(category) { backward(g) } } else { backward(g) }
            }
        }
        return out
    }
}

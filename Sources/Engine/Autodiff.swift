/// A node of the computation: a value and, once `Tape.backward` has run, its gradient.
///
/// Parameters are variables created with `requiresGrad: true`; inputs are created with
/// `requiresGrad: false`. The result of an op requires a gradient when a tape is recording
/// and at least one of its inputs does.
public final class Variable {
    public var value: Tensor
    /// Gradient of the loss with respect to `value` (nil until something flows into it).
    public var grad: Tensor? {
        get { gradientBox.grad }
        set { gradientBox.grad = newValue }
    }
    public let requiresGrad: Bool
    /// Holds `grad` apart from `value`, so that the tape (and ops, through `GradientSink`) can
    /// route gradients here without keeping the value alive.
    let gradientBox = GradientBox()

    public init(_ value: Tensor, requiresGrad: Bool = false) {
        self.value = value
        self.requiresGrad = requiresGrad
    }

    public var shape: [Int] { value.shape }
    public var count: Int { value.count }

    /// Adds `g` into this variable's gradient. When `owned` is true and there is no gradient
    /// yet, `g` becomes the gradient without a copy (the caller must not use `g` again).
    public func accumulateGrad(_ g: Tensor, owned: Bool) {
        gradientBox.accumulate(g, owned: owned, shape: value.shape)
    }

    /// The gradient buffer, allocated as zeros when absent, for kernels that accumulate into it.
    public func gradBuffer() -> Tensor {
        if let g = grad { return g }
        let g = Tensor(uninitializedShape: value.shape)
        Kernels.zero(g.data, count: g.count)  // on all threads: the language model's embedding gradient is 20 MB
        grad = g
        return g
    }

    public func zeroGrad() { grad = nil }
}

/// The gradient slot of a `Variable`.
final class GradientBox {
    var grad: Tensor?

    func accumulate(_ g: Tensor, owned: Bool, shape: [Int]) {
        precondition(g.count == shape.reduce(1, *), "gradient of \(g.shape) for a variable of \(shape)")
        if let existing = grad {
            Kernels.addInPlace(existing.data, g.data, count: g.count)
        } else {
            grad = owned ? g.reshaped(shape) : g.copy().reshaped(shape)
        }
    }
}

/// Where a backward function sends the gradient of an input whose value it does not need: unlike
/// capturing the `Variable`, capturing its sink does not keep the input's value alive until backward.
public struct GradientSink {
    private let box: GradientBox
    private let shape: [Int]
    public let requiresGrad: Bool

    public init(_ variable: Variable) {
        box = variable.gradientBox
        shape = variable.shape
        requiresGrad = variable.requiresGrad
    }

    /// As `Variable.accumulateGrad`.
    public func accumulate(_ g: Tensor, owned: Bool) { box.accumulate(g, owned: owned, shape: shape) }
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
        // The entry owns the saved activations (through `backward`) until it has run, and `out`'s
        // gradient slot, but not `out` itself: the value stays alive only while the caller or a
        // later op's backward needs it.
        let box = out.gradientBox
        tape.entries.append {
            if let g = box.grad {
                box.grad = nil  // like PyTorch, gradients of intermediate results are not retained
                if let category { Profiler.measure(category) { backward(g) } } else { backward(g) }
            }
        }
        return out
    }
}

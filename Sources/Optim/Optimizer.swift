import Engine
import Foundation

/// A parameter to optimize: its name (the model's `state_dict` key) and the variable that holds
/// its value and, after a backward pass, its gradient.
public struct NamedParameter {
    public let name: String
    public let variable: Variable
    public init(_ name: String, _ variable: Variable) {
        self.name = name
        self.variable = variable
    }
}

/// A parameter group as requested: its parameters and its complete settings (`lr`, `betas`, ...).
/// Callers that want optimizer-wide settings with per-group overrides merge the two dictionaries.
public struct ParameterGroupSpec {
    public var parameters: [NamedParameter]
    public var options: OptimizerOptions
    public init(parameters: [NamedParameter], options: OptimizerOptions) {
        self.parameters = parameters
        self.options = options
    }
}

/// A parameter group of a live optimizer. `lr` is what the next `step()` uses; schedules set it.
public final class ParameterGroup {
    public let parameters: [NamedParameter]
    /// The lr the group was configured with (PyTorch's `initial_lr`; AdaBound's `base_lr`).
    public let initialLr: Double
    public var lr: Double

    init(parameters: [NamedParameter], lr: Double) {
        self.parameters = parameters
        self.initialLr = lr
        self.lr = lr
    }
}

/// An optimizer: updates its parameters in place from their gradients.
///
/// A parameter whose `grad` is nil is skipped, as PyTorch skips `p.grad is None`: its state and
/// step count do not change. Gradients are read, never modified.
public protocol Optimizer: AnyObject {
    /// The registry name, e.g. "adam" or "adaiw".
    var name: String { get }
    var groups: [ParameterGroup] { get }
    /// One update of every parameter that has a gradient.
    func step()
    /// A deep copy of the whole state: every group's lr, every parameter's step count and buffers.
    func saveState() -> OptimizerState
    /// Replaces the state with `state` (validated first; on error nothing changes).
    func loadState(_ state: OptimizerState) throws
    /// The live state of the parameter called `parameter`, each buffer looked up by name exactly as the
    /// update reads it (`p.buffer(name)`); nil before its first gradient. Unlike `saveState()`, this goes
    /// through the update's own lookup, so a test of loading can tell where each buffer landed.
    func liveState(of parameter: String) -> ParameterState?
}

extension Optimizer {
    /// Sets each group's lr to what `schedule` gives for `epoch` (0-based) from the group's initial lr.
    public func setLearningRates(_ schedule: LRSchedule, epoch: Int) {
        for group in groups { group.lr = schedule.learningRate(epoch: epoch, initialLr: group.initialLr) }
    }

    /// Total number of elements over all parameters.
    public var parameterCount: Int { groups.reduce(0) { $0 + $1.parameters.reduce(0) { $0 + $1.variable.count } } }
}

/// The optimizers by registry name, in the order of `registeredOptimizers` (the paper's, then additions).
public let optimizerNames: [String] = registeredOptimizers.flatMap { $0.variants.map(\.name) }

/// The registration of the optimizer called `name`, or an error naming the closest known name.
func registration(_ name: String) throws -> OptimizerRegistration {
    if let found = registeredOptimizers.first(where: { $0.variants.contains { $0.name == name } }) { return found }
    let guess = ClosestName.of(name, in: optimizerNames).map { "; did you mean '\($0)'?" } ?? ""
    throw OptimError("unknown optimizer '\(name)'\(guess) (known optimizers: \(optimizerNames.joined(separator: ", ")))")
}

/// Builds the optimizer called `name` over `groups`, each with its own settings.
public func makeOptimizer(_ name: String, groups: [ParameterGroupSpec]) throws -> any Optimizer {
    try registration(name).make(name, groups)
}

/// Builds the optimizer called `name` over one group holding every parameter.
public func makeOptimizer(_ name: String, parameters: [NamedParameter], options: OptimizerOptions = [:]) throws
    -> any Optimizer
{
    try makeOptimizer(name, groups: [ParameterGroupSpec(parameters: parameters, options: options)])
}

/// Checks the settings of one parameter group of the optimizer called `name` by the same rules the
/// optimizer applies when it is built (one reader, `readGroupOptions`), without building it.
/// Throws the message `makeOptimizer` would throw, e.g. `adam: lr must be > 0, got 0.0`.
public func validateOptimizerOptions(_ name: String, _ options: OptimizerOptions) throws {
    try registration(name).validate(name, options)
}

/// The lr the optimizer called `name` uses when none is given; nil when `lr` is required.
public func defaultLearningRate(_ name: String) throws -> Double? {
    try registration(name).defaultLr(name)
}

/// The keys the optimizer called `name` accepts, in the order its file reads them (`lr` first).
public func optimizerKeys(_ name: String) throws -> [String] {
    let r = try registration(name)
    var reader = OptionReader(owner: name, options: [:])
    r.read(name, &reader)
    return reader.validKeys
}

/// What an optimizer file registers about itself: the registry names it answers to (with the
/// settings `optim-bench` times each with), its factory, its default lr and the reader of its
/// settings (the accepted keys, their defaults and their rules). Everything else — `optimizerNames`,
/// `makeOptimizer`, `--help` lists, config and sweep validation, the bench table — is derived from
/// the list `registeredOptimizers` of these values, which the build collects from every
/// `static let registration` in this module (Registry.swift).
public struct OptimizerRegistration {
    /// One registry name of the algorithm (e.g. "adam", "amsgrad", "adamw" for one file).
    public struct Variant: Sendable {
        public let name: String
        /// The settings `optim-bench` times this variant with (typical CIFAR settings).
        public let benchOptions: OptimizerOptions
        /// Float32 bytes one step reads and writes per parameter element (for the bench's GB/s).
        public let benchBytesPerElement: Int
        public init(_ name: String, benchOptions: OptimizerOptions = [:], benchBytesPerElement: Int) {
            self.name = name
            self.benchOptions = benchOptions
            self.benchBytesPerElement = benchBytesPerElement
        }
    }

    /// Where the file's names come in every list (`optimizerNames`, `--help`, the bench table): the
    /// paper's optimizers take 1–9 in the order of its tables, later additions 100 and up; equal
    /// positions are ordered by the first name.
    public let position: Int
    public let variants: [Variant]
    let defaultLr: (_ name: String) -> Double?
    /// Reads `lr` and every setting of one group (problems are collected in the reader).
    let read: (_ name: String, _ reader: inout OptionReader) -> Void
    let make: (_ name: String, _ groups: [ParameterGroupSpec]) throws -> any Optimizer

    /// `settings` is the file's reader of everything but `lr` (see `OptionReader`); `type` is the optimizer's
    /// class, which the shared core builds (`OptimizerCore.init`) with this default lr and this reader, so an
    /// optimizer file writes no initialiser.
    init<Settings, O: OptimizerCore<Settings>>(position: Int, _ variants: [Variant], defaultLr: @escaping (_ name: String) -> Double?,
                                               settings: @escaping (_ name: String, _ reader: inout OptionReader) -> Settings,
                                               type: O.Type)
    {
        self.position = position
        self.variants = variants
        self.defaultLr = defaultLr
        self.read = { name, reader in
            _ = readLearningRate(&reader, default: defaultLr(name))
            _ = settings(name, &reader)
        }
        self.make = { name, groups in
            try O(name: name, groups: groups, defaultLr: defaultLr(name)) { settings(name, &$0) }
        }
    }

    func validate(_ name: String, _ options: OptimizerOptions) throws {
        var reader = OptionReader(owner: name, options: options)
        read(name, &reader)
        try reader.finish()
    }
}

/// The rule for `lr`, the same for every optimizer, its config entry and its sweep values: a finite number > 0.
func readLearningRate(_ reader: inout OptionReader, default value: Double?) -> Double {
    reader.number("lr", default: value, .positive)
}

/// The shared machinery of every optimizer: groups with parsed settings, lazily created
/// per-parameter state, and saving and loading that state. An algorithm subclasses it, registers
/// itself (`static let registration`, collected by the build: Registry.swift), names its buffers in `bufferLayout`
/// and writes its update in `update`, reading the buffers by name (`p.buffer("exp_avg")`), or, for
/// a rule that needs every parameter at once, in `step` (docs/adding-an-optimizer.md).
class OptimizerCore<Settings>: Optimizer {
    public let name: String
    public let groups: [ParameterGroup]
    /// The settings of each group, parallel to `groups`.
    let settings: [Settings]
    /// `slots[g][i]` is the state of parameter i of group g; nil until its first gradient.
    private var slots: [[Slot?]]

    /// The state of one parameter: its step count and its buffers, named as in `bufferLayout`.
    final class Slot {
        var step = 0
        let names: [String]
        var buffers: [Tensor]
        /// Per-parameter scalars, named as in `scalarLayout` (ASGD's `eta`, `mu`).
        let scalarNames: [String]
        var scalars: [Double]
        init(names: [String], buffers: [Tensor], scalarNames: [String] = [], scalars: [Double] = []) {
            self.names = names
            self.buffers = buffers
            self.scalarNames = scalarNames
            self.scalars = scalars
        }

        /// The scalar called `name` in `scalarLayout`.
        func scalar(_ name: String) -> Double {
            guard let index = scalarNames.firstIndex(of: name) else {
                preconditionFailure("no scalar '\(name)' in this optimizer's scalarLayout \(scalarNames)")
            }
            return scalars[index]
        }

        func setScalar(_ name: String, _ value: Double) {
            guard let index = scalarNames.firstIndex(of: name) else {
                preconditionFailure("no scalar '\(name)' in this optimizer's scalarLayout \(scalarNames)")
            }
            scalars[index] = value
        }

        /// The buffer called `name`: the one lookup that updates and `liveState` share.
        func buffer(named name: String) -> Tensor {
            guard let index = names.firstIndex(of: name) else {
                preconditionFailure("no buffer '\(name)' in this optimizer's bufferLayout \(names)")
            }
            return buffers[index]
        }
    }

    /// A parameter taking part in the current step.
    struct Active {
        let group: Int
        let value: Tensor
        let gradient: Tensor
        let slot: Slot

        /// The elements of the buffer called `name` in `bufferLayout` (the reference code's state
        /// key, which is also its name in checkpoints), e.g. `let m = p.buffer("exp_avg")`.
        func buffer(_ name: String) -> UnsafeMutablePointer<Float> { slot.buffer(named: name).data }
    }

    /// Parses and validates each group's settings: `lr` by `readLearningRate`, the rest by `parse` (the
    /// file's `settings`, the same reader `validateOptimizerOptions` runs). `defaultLr` nil means `lr` is required.
    /// Every optimizer is built through this one initialiser, by its registration (`OptimizerRegistration.make`).
    required init(name: String, groups specs: [ParameterGroupSpec], defaultLr: Double?,
         parse: (inout OptionReader) -> Settings) throws
    {
        var seen = Set<String>()
        for spec in specs {
            for p in spec.parameters where !seen.insert(p.name).inserted {
                throw OptimError("\(name): parameter '\(p.name)' is listed more than once")
            }
        }
        var groups: [ParameterGroup] = []
        var settings: [Settings] = []
        for (g, spec) in specs.enumerated() {
            var reader = OptionReader(owner: specs.count > 1 ? "\(name) (group \(g))" : name, options: spec.options)
            let lr = readLearningRate(&reader, default: defaultLr)
            settings.append(parse(&reader))
            try reader.finish()
            groups.append(ParameterGroup(parameters: spec.parameters, lr: lr))
        }
        self.name = name
        self.groups = groups
        self.settings = settings
        self.slots = specs.map { [Slot?](repeating: nil, count: $0.parameters.count) }
    }

    /// The buffers each parameter of a group with these settings keeps, by their names in the
    /// reference code's state, with the value they start from.
    func bufferLayout(_ settings: Settings) -> [(name: String, initial: Float)] { [] }

    /// The per-parameter scalars of a group (PyTorch state entries that are numbers, not tensors of the
    /// parameter's shape, e.g. ASGD's `eta`), with their value when the parameter first gets a
    /// gradient; `lr` is the group's lr at that moment.
    func scalarLayout(_ settings: Settings, lr: Double) -> [(name: String, initial: Double)] { [] }

    /// Updates one parameter (its slot's step has already been incremented).
    func update(_ p: Active, lr: Double, settings: Settings) {
        fatalError("\(type(of: self)) must override update or step")
    }

    public func step() {
        for p in activeParameters() {
            p.slot.step += 1
            update(p, lr: groups[p.group].lr, settings: settings[p.group])
        }
    }

    /// Every parameter that has a gradient, in group order, creating the state of those seen for the first time.
    func activeParameters() -> [Active] {
        var active: [Active] = []
        for (g, group) in groups.enumerated() {
            for (i, parameter) in group.parameters.enumerated() {
                guard let gradient = parameter.variable.grad else { continue }
                let value = parameter.variable.value
                precondition(gradient.count == value.count,
                             "\(name): gradient of \(gradient.shape) for parameter '\(parameter.name)' of \(value.shape)")
                let slot: Slot
                if let existing = slots[g][i] {
                    slot = existing
                } else {
                    let layout = bufferLayout(settings[g]), scalars = scalarLayout(settings[g], lr: group.lr)
                    slot = Slot(names: layout.map(\.name), buffers: layout.map { Tensor(shape: value.shape, repeating: $0.initial) },
                                scalarNames: scalars.map(\.name), scalars: scalars.map(\.initial))
                    slots[g][i] = slot
                }
                active.append(Active(group: g, value: value, gradient: gradient, slot: slot))
            }
        }
        return active
    }

    public func saveState() -> OptimizerState {
        var parameters: [String: ParameterState] = [:]
        for (g, group) in groups.enumerated() {
            let names = bufferLayout(settings[g]).map(\.name)
            for (i, parameter) in group.parameters.enumerated() {
                guard let slot = slots[g][i] else { continue }
                var buffers: [String: Tensor] = [:]
                for (name, buffer) in zip(names, slot.buffers) { buffers[name] = buffer.copy() }
                parameters[parameter.name] = ParameterState(step: slot.step, buffers: buffers,
                                                            scalars: Dictionary(uniqueKeysWithValues: zip(slot.scalarNames, slot.scalars)))
            }
        }
        return OptimizerState(optimizer: name, learningRates: groups.map(\.lr), parameters: parameters)
    }

    public func liveState(of parameter: String) -> ParameterState? {
        for (g, group) in groups.enumerated() {
            guard let i = group.parameters.firstIndex(where: { $0.name == parameter }) else { continue }
            guard let slot = slots[g][i] else { return nil }
            var buffers: [String: Tensor] = [:]
            for name in bufferLayout(settings[g]).map(\.name) { buffers[name] = slot.buffer(named: name).copy() }
            var scalars: [String: Double] = [:]
            for name in slot.scalarNames { scalars[name] = slot.scalar(name) }
            return ParameterState(step: slot.step, buffers: buffers, scalars: scalars)
        }
        return nil
    }

    public func loadState(_ state: OptimizerState) throws {
        guard state.optimizer == name else {
            throw OptimError("cannot load a '\(state.optimizer)' optimizer state into '\(name)'")
        }
        guard state.learningRates.count == groups.count else {
            throw OptimError("\(name): the state has \(state.learningRates.count) parameter groups, the optimizer \(groups.count)")
        }
        let known = Set(groups.flatMap { $0.parameters.map(\.name) })
        if let stranger = state.parameters.keys.sorted().first(where: { !known.contains($0) }) {
            throw OptimError("\(name): the state has parameter '\(stranger)', which this optimizer does not have")
        }
        var newSlots = slots
        for (g, group) in groups.enumerated() {
            let layout = bufferLayout(settings[g]).map(\.name)
            let scalarNames = scalarLayout(settings[g], lr: group.lr).map(\.name)
            for (i, parameter) in group.parameters.enumerated() {
                guard let saved = state.parameters[parameter.name] else {
                    newSlots[g][i] = nil
                    continue
                }
                guard saved.step >= 0 else { throw OptimError("\(name): '\(parameter.name)' has step \(saved.step)") }
                guard Set(saved.buffers.keys) == Set(layout) else {
                    throw OptimError("\(name): '\(parameter.name)' has buffers [\(saved.buffers.keys.sorted().joined(separator: ", "))], expected [\(layout.joined(separator: ", "))]")
                }
                var buffers: [Tensor] = []
                for key in layout {
                    let saved = saved.buffers[key]!
                    guard saved.count == parameter.variable.count else {
                        throw OptimError("\(name): buffer '\(key)' of '\(parameter.name)' has \(saved.count) elements, the parameter \(parameter.variable.count)")
                    }
                    buffers.append(saved.copy().reshaped(parameter.variable.shape))
                }
                guard Set(saved.scalars.keys) == Set(scalarNames) else {
                    throw OptimError("\(name): '\(parameter.name)' has scalars [\(saved.scalars.keys.sorted().joined(separator: ", "))], expected [\(scalarNames.joined(separator: ", "))]")
                }
                let slot = Slot(names: layout, buffers: buffers, scalarNames: scalarNames, scalars: scalarNames.map { saved.scalars[$0]! })
                slot.step = saved.step
                newSlots[g][i] = slot
            }
        }
        slots = newSlots
        for (group, lr) in zip(groups, state.learningRates) { group.lr = lr }
    }
}

/// How weight decay enters an update: θ ← θ·shrink before it (decoupled: 1 − lr·wd, or 1 − wd
/// when fixed) or g ← g + l2·θ (L2). The unused one is exactly neutral: shrink 1, l2 0.
struct WeightDecay {
    let shrink: Float
    let l2: Float

    init(_ weightDecay: Double, decoupled: Bool, lr: Double, fixed: Bool = false) {
        shrink = Float(decoupled ? (fixed ? 1 - weightDecay : 1 - lr * weightDecay) : 1)
        l2 = Float(decoupled ? 0 : weightDecay)
    }
}

/// Runs `body` over chunks of 0..<count on the engine's threads. Element-wise updates are
/// independent, so the result does not depend on how the range is split.
@inline(__always)
func forEachChunk(_ count: Int, _ body: (Range<Int>) -> Void) {
    Parallel.forChunks(count, grain: 1 << 15, body)
}

/// Python's `a ** b` for the bias corrections (`beta ** step`): C's pow, as CPython uses.
@inline(__always)
func power(_ base: Double, _ exponent: Int) -> Double { pow(base, Double(exponent)) }


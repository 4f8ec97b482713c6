import Engine

// The models by name, as the command line and the experiment configs refer to them.
//
// Each model file registers its variants (`static let registration`, as kuangliu's
// `def ResNet18(): return ResNet(BasicBlock, [2, 2, 2, 2])` sits beside `ResNet`); the build collects
// the registrations (the RegistrationCollector plugin) and `ModelZoo` derives every list from them.
// Adding a model or a variant is editing its file only.

/// An unknown model name or an impossible configuration.
public struct ModelError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// What to build.
public struct ModelConfiguration: Equatable {
    public var name: String
    /// Classes of the image classifiers (10 for CIFAR-10, 100 for CIFAR-100).
    public var classes: Int
    /// Words of the language model's vocabulary (10,000 for PTB).
    public var vocabulary: Int
    /// Dropout probability; nil means the model's default (0.4 for GoogLeNet, 0.5 for the LSTM).
    public var dropout: Float?
    /// GoogLeNet: reproduce the reference's eps = channels in the second BN of the "5×5" branch.
    public var googLeNetEpsQuirk: Bool
    /// `lstm`: tie the decoder weight to the embedding (the AWD-LSTMs are always tied, as main.py; this is
    /// not read for them).
    public var tiedWeights: Bool
    /// AWD-LSTM: which weight drop (the authors' behaviour, the default, or a correct one).
    public var weightDrop: AWDLSTMWeightDrop

    public init(name: String, classes: Int = 10, vocabulary: Int = 10_000, dropout: Float? = nil,
                googLeNetEpsQuirk: Bool = true, tiedWeights: Bool = false, weightDrop: AWDLSTMWeightDrop = .authors) {
        self.name = name
        self.classes = classes
        self.vocabulary = vocabulary
        self.dropout = dropout
        self.googLeNetEpsQuirk = googLeNetEpsQuirk
        self.tiedWeights = tiedWeights
        self.weightDrop = weightDrop
    }

    /// "resnet18 with 10 classes", for messages.
    public var description: String {
        ModelZoo.isLanguageModel(name) ? "\(name) with a \(vocabulary)-word vocabulary" : "\(name) with \(classes) classes"
    }
}

/// A built model: an image classifier (x [N, 3, 32, 32] → logits [N, classes]) or the language model.
public enum Model {
    case imageClassifier(Layer)
    case languageModel(LSTMLanguageModel)
    /// The AdaMomentum paper's AWD-LSTM (AWDLSTM.swift).
    case awdLanguageModel(AWDLSTMLanguageModel)

    public var module: Module {
        switch self {
        case .imageClassifier(let layer): return layer
        case .languageModel(let lm): return lm
        case .awdLanguageModel(let lm): return lm
        }
    }

    /// Sets the probability of every dropout in the model.
    public func setDropout(_ p: Float) {
        switch self {
        case .imageClassifier(let layer):
            for (_, m) in layer.namedModules() { (m as? Dropout)?.p = p }
        case .languageModel(let lm):
            lm.dropout = p
        case .awdLanguageModel(let lm):
            lm.setDropout(p)
        }
    }
}

/// What a model is, as the rest of the tool needs to know it: its input, its metric and its config keys.
public enum ModelKind: Equatable, Sendable {
    /// x [N, 3, 32, 32] → logits [N, classes]; CIFAR.
    case imageClassifier
    /// The LSTM language model (tokens → logits over the vocabulary); PTB.
    case languageModel
    /// The AdaMomentum paper's AWD-LSTMs (AWDLSTM.swift): a language model with its own recipe and config keys.
    case awdLanguageModel

    public var isLanguageModel: Bool { self != .imageClassifier }
}

/// What a model file tells the rest of the tool: its variants, each a name and how to build it.
public struct ModelRegistration {
    /// The reference's sizes, or the same structure made smaller (fewer channels or blocks) for tests and
    /// reduced-scale reproductions.
    public enum Size: Equatable, Sendable { case full, reduced }

    public struct Variant {
        /// The name configs and the command line use (lower case).
        public let name: String
        public let size: Size
        /// Builds the structure (parameters zeros, batch-norm weights ones) from a validated configuration.
        let make: (ModelConfiguration) throws -> Model

        public init(_ name: String, _ size: Size = .full, make: @escaping (ModelConfiguration) throws -> Model) {
            self.name = name
            self.size = size
            self.make = make
        }
    }

    /// Where the file's names come in the lists (the paper's models hold 1–9 in the order of its tables;
    /// additions take 100 or more; equal positions are ordered by name).
    public let position: Int
    public let kind: ModelKind
    public let variants: [Variant]

    public init(position: Int, kind: ModelKind, _ variants: [Variant]) {
        self.position = position
        self.kind = kind
        self.variants = variants
    }
}

public enum ModelZoo {
    /// Every model file's registration, in list order (`position`, then first name). Nobody maintains this
    /// list: the RegistrationCollector build plugin writes `discoveredRegistrations` from the sources.
    public static let registrations: [ModelRegistration] = {
        let sorted = discoveredRegistrations.sorted {
            ($0.position, $0.variants[0].name) < ($1.position, $1.variants[0].name)
        }
        var seen = Set<String>()
        for name in sorted.flatMap({ $0.variants.map(\.name) }) {
            precondition(seen.insert(name).inserted, "two model registrations claim the name \"\(name)\"")
        }
        return sorted
    }()

    /// The full-size models (the paper's and any added), in list order.
    public static let names = registrations.flatMap { $0.variants.filter { $0.size == .full }.map(\.name) }
    /// The reduced variants (the "-tiny" test models and the reduced-scale "resnet18-narrow"), in list order.
    public static let reducedNames = registrations.flatMap { $0.variants.filter { $0.size == .reduced }.map(\.name) }
    /// Every name a config may use: the full models, then the reduced ones.
    public static var allNames: [String] { names + reducedNames }

    /// The registration and variant answering to `name`, if any.
    public static func lookup(_ name: String) -> (registration: ModelRegistration, variant: ModelRegistration.Variant)? {
        for registration in registrations {
            if let variant = registration.variants.first(where: { $0.name == name }) { return (registration, variant) }
        }
        return nil
    }

    /// The kind the model named `name` registered, nil for an unknown name.
    public static func kind(of name: String) -> ModelKind? { lookup(name)?.registration.kind }

    public static func isLanguageModel(_ name: String) -> Bool { kind(of: name)?.isLanguageModel ?? false }

    /// The AdaMomentum paper's AWD-LSTMs (1, 2, 3 layers) and their test-sized twin.
    public static func isAWDLSTM(_ name: String) -> Bool { kind(of: name) == .awdLanguageModel }

    /// Builds the model with PyTorch's default initialisation drawn from `seed`
    /// (each tensor from `RandomGenerator(seed:).fork("init").fork(its name)`).
    public static func make(_ configuration: ModelConfiguration, seed: UInt64) throws -> Model {
        let model = try makeUninitialized(configuration)
        model.module.resetParameters(generator: RandomGenerator(seed: seed).fork("init"), path: "")
        return model
    }

    /// Builds the model's structure; parameters are zeros, batch-norm weights ones.
    public static func makeUninitialized(_ c: ModelConfiguration) throws -> Model {
        let found = lookup(c.name)
        if found?.registration.kind.isLanguageModel == true {
            guard c.vocabulary >= 1 else { throw ModelError("the vocabulary must hold at least one word, got \(c.vocabulary)") }
        } else {
            guard c.classes >= 1 else { throw ModelError("--classes must be at least 1, got \(c.classes)") }
        }
        if let p = c.dropout, !(p >= 0 && p < 1) {
            throw ModelError("dropout must be in [0, 1), got \(p)")
        }
        guard let variant = found?.variant else {
            throw ModelError("unknown model \"\(c.name)\"; known models: \(allNames.joined(separator: ", "))")
        }
        return try variant.make(c)
    }

    /// The summary of one forward pass in evaluation mode: a 1×3×32×32 image, or one token
    /// for the language model.
    public static func summary(_ model: Model, configuration: ModelConfiguration) -> ModelSummary {
        let recorder = SummaryRecorder(model: model.module)
        var context = ForwardContext(training: false, recorder: recorder)
        let input: String = Tape.withoutGradients {
            switch model {
            case .imageClassifier(let layer):
                _ = layer.forward(Variable(Tensor(zeros: [1, 3, 32, 32])), &context)
                return "[1, 3, 32, 32]"
            case .languageModel(let lm):
                _ = lm.forward(tokens: [0], steps: 1, batch: 1, state: lm.zeroState(batch: 1), &context)
                return "1 token (1 step × 1 sequence)"
            case .awdLanguageModel(let lm):
                _ = lm.forward(tokens: [0], steps: 1, batch: 1, state: lm.zeroState(batch: 1), &context)
                return "1 token (1 step × 1 sequence)"
            }
        }
        let buffers = model.module.namedBuffers
        let floats = buffers.reduce(0) { if case .buffer(let t) = $1.1 { return $0 + t.count } else { return $0 } }
        return ModelSummary(title: configuration.description, inputDescription: input, rows: recorder.rows,
                            parameterCount: model.module.parameterCount, bufferFloats: floats,
                            counterCount: buffers.count - buffers.filter { if case .buffer = $0.1 { return true } else { return false } }.count)
    }
}

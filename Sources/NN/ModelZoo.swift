import Engine

// The models by name, as the command line and the experiment configs refer to them.
//
// The paper's models: resnet18, resnet34, resnet50, vgg11, vgg13, vgg16, vgg19, densenet121,
// googlenet, lstm. The "-tiny" variants have the same structure (and parameter names) at a few
// channels each; they exist for gradient checks and fast tests. "resnet18-narrow" is ResNet18's
// structure (four stages of two basic blocks) at a quarter of its widths, for reduced-scale
// reproductions (`reproduce --scale small`).

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

public enum ModelZoo {
    public static let names = ["resnet18", "resnet34", "resnet50", "vgg11", "vgg13", "vgg16", "vgg19",
                               "densenet121", "googlenet", "lstm", "awd-lstm-1layer", "awd-lstm-2layer", "awd-lstm-3layer"]
    public static let tinyNames = ["resnet-tiny", "vgg-tiny", "densenet-tiny", "googlenet-tiny", "lstm-tiny", "resnet18-narrow",
                                   "awd-lstm-tiny"]

    public static func isLanguageModel(_ name: String) -> Bool { name == "lstm" || name == "lstm-tiny" || isAWDLSTM(name) }

    /// The AdaMomentum paper's AWD-LSTMs (1, 2, 3 layers) and their test-sized twin.
    public static func isAWDLSTM(_ name: String) -> Bool { name.hasPrefix("awd-lstm-") }

    /// Builds the model with PyTorch's default initialisation drawn from `seed`
    /// (each tensor from `RandomGenerator(seed:).fork("init").fork(its name)`).
    public static func make(_ configuration: ModelConfiguration, seed: UInt64) throws -> Model {
        let model = try makeUninitialized(configuration)
        model.module.resetParameters(generator: RandomGenerator(seed: seed).fork("init"), path: "")
        return model
    }

    /// Builds the model's structure; parameters are zeros, batch-norm weights ones.
    public static func makeUninitialized(_ c: ModelConfiguration) throws -> Model {
        if isLanguageModel(c.name) {
            guard c.vocabulary >= 1 else { throw ModelError("the vocabulary must hold at least one word, got \(c.vocabulary)") }
        } else {
            guard c.classes >= 1 else { throw ModelError("--classes must be at least 1, got \(c.classes)") }
        }
        if let p = c.dropout, !(p >= 0 && p < 1) {
            throw ModelError("dropout must be in [0, 1), got \(p)")
        }
        if isAWDLSTM(c.name), let p = c.dropout {
            throw ModelError("\(c.name) has five dropouts with the authors' values (output 0.4, between layers 0.25, input 0.4, "
                             + "embedding 0.1, weight drop 0.5); one dropout \(p) cannot set them: leave `dropout` out")
        }

        let classes = c.classes
        switch c.name {
        case "resnet18": return .imageClassifier(ResNet(block: .basic, blocks: [2, 2, 2, 2], classes: classes))
        case "resnet34": return .imageClassifier(ResNet(block: .basic, blocks: [3, 4, 6, 3], classes: classes))
        case "resnet50": return .imageClassifier(ResNet(block: .bottleneck, blocks: [3, 4, 6, 3], classes: classes))
        case "vgg11", "vgg13", "vgg16", "vgg19":
            return .imageClassifier(VGG(configuration: VGG.configurations[c.name]!, classes: classes))
        case "densenet121": return .imageClassifier(DenseNet(blocks: [6, 12, 24, 16], growth: 32, classes: classes))
        case "googlenet":
            return .imageClassifier(GoogLeNet(classes: classes, faithfulEpsQuirk: c.googLeNetEpsQuirk, dropout: c.dropout ?? 0.4))
        case "lstm":
            return .languageModel(LSTMLanguageModel(vocabulary: c.vocabulary, dropout: c.dropout ?? 0.5, tied: c.tiedWeights))
        case "resnet-tiny":
            return .imageClassifier(ResNet(block: .basic, blocks: [1, 1, 1, 1], classes: classes, widths: [4, 8, 16, 16]))
        case "resnet18-narrow":
            return .imageClassifier(ResNet(block: .basic, blocks: [2, 2, 2, 2], classes: classes, widths: [16, 32, 64, 128]))
        case "vgg-tiny":
            return .imageClassifier(VGG(configuration: VGG.parse([4, 0, 8, 0, 8, 8, 0, 16, 0, 16, 0]), classes: classes))
        case "densenet-tiny": return .imageClassifier(DenseNet(blocks: [2, 2, 2, 2], growth: 4, classes: classes))
        case "googlenet-tiny":
            return .imageClassifier(GoogLeNet(classes: classes, widthDivisor: 8, faithfulEpsQuirk: c.googLeNetEpsQuirk,
                                              dropout: c.dropout ?? 0.4))
        case "awd-lstm-1layer", "awd-lstm-2layer", "awd-lstm-3layer":
            var settings = AWDLSTMSettings(vocabulary: c.vocabulary)
            settings.layers = Int(String(c.name.dropFirst("awd-lstm-".count).prefix(1)))!
            settings.weightDropVariant = c.weightDrop
            return .awdLanguageModel(try AWDLSTMLanguageModel(settings))
        case "awd-lstm-tiny":
            // The 3-layer structure at embedding 6, hidden 10: the same code path, for tests.
            var settings = AWDLSTMSettings(vocabulary: c.vocabulary)
            settings.embeddingSize = 6
            settings.hiddenSize = 10
            settings.weightDropVariant = c.weightDrop
            return .awdLanguageModel(try AWDLSTMLanguageModel(settings))
        case "lstm-tiny":
            return .languageModel(LSTMLanguageModel(vocabulary: c.vocabulary, embeddingSize: 8, hiddenSize: 8,
                                                    dropout: c.dropout ?? 0.5, tied: c.tiedWeights))
        default:
            throw ModelError("unknown model \"\(c.name)\"; known models: \((names + tinyNames).joined(separator: ", "))")
        }
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

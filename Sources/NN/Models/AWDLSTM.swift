import Engine

// The AWD-LSTM language model of the AdaMomentum paper's PTB experiment, as the authors' code builds
// it (wyzjack/AdaM3 at e715cde47d7f77d0fdb4e083511dec03a6b0ff3c, LSTM_Penn_Treebank/model.py with
// weight_drop.py, locked_dropout.py and embed_regularize.py; Merity et al.'s salesforce/awd-lstm-lm):
//
//   encoder       embedding vocabulary × 400, U(−0.1, 0.1); looked up with padding_idx −1 as embed_regularize.py
//                 does, so the last word (index V − 1) gets no gradient from the input side (only as a decoder row)
//   dropoute      embedding dropout: whole rows of the embedding matrix (words) zeroed with p, the rest × 1/(1−p)
//   dropouti      locked dropout on the embedded input: one [batch, 400] mask shared by every time step
//   rnns.l        one single-layer LSTM per layer: 400 → 1150 → … → 1150 → 400 (the last layer's output is
//                 sized to the embedding because the weights are tied; one layer is 400 → 400), PyTorch's
//                 U(±1/√hidden) init; weight drop p on each hidden-to-hidden matrix (a fresh [4H, H] mask
//                 per forward pass); locked dropout dropouth between layers
//   dropout       locked dropout on the last layer's output
//   decoder       linear → vocabulary, bias 0; its weight is the encoder's when tied (main.py always ties)
//   loss          cross-entropy + α·mean(dropped last output²) (AR) + β·mean((h_t − h_{t−1})²) over the last
//                 layer's output before dropout (TAR); α = 2, β = 1 in main.py
//
// Parameter names are the PyTorch state_dict keys of the authors' model before its first forward pass:
// `encoder.weight`, per layer `rnns.<l>.module.{weight_ih_l0, bias_ih_l0, bias_hh_l0, weight_hh_l0_raw}`
// (with weight drop the WeightDrop wrapper holds the LSTM as `module` and re-registers W_hh as
// `weight_hh_l0_raw`, last), `decoder.weight` (the encoder's tensor when tied), `decoder.bias`. Without
// weight drop (p = 0) the authors build no wrapper, and the names are `rnns.<l>.{weight_ih_l0,
// weight_hh_l0, bias_ih_l0, bias_hh_l0}`. (After a forward pass PyTorch's state_dict also holds the
// dropped matrix as `rnns.<l>.module.weight_hh_l0`; it is recomputed every pass and not state.)
//
// Weight drop, two variants (`AWDLSTMWeightDrop`):
//   authors  as weight_drop.py behaves: the dropped matrix is wrapped in a new `Parameter`, a leaf cut
//            from `weight_hh_l0_raw`, so the raw hidden-to-hidden matrices never receive a gradient (also
//            in evaluation mode, where the "dropped" matrix is the raw one, wrapped the same way). The
//            optimizer skips parameters without a gradient, so they keep their initial values, weight
//            decay included. Here the dropped matrix is a constant of the pass, and the backward pass
//            does not compute its gradient (the authors' PyTorch computes it into the throw-away leaf).
//   correct  W_hh = raw ⊙ mask inside the graph: the raw matrix gets mask ⊙ ∂L/∂W_hh and trains.
//
// Masks: every dropout mask of a training pass comes from the context's generator, drawn in the order the
// authors' forward draws them (embedding, input, then per layer its weight-drop mask and, but for the
// last layer, its between-layer mask, then the output), or is given (`forward(..., masks:)`), which the
// parity tests use to replay PyTorch's masks. A mask holds 0 or 1/(1 − p), as PyTorch's.

/// The two behaviours of weight drop on the hidden-to-hidden matrices.
public enum AWDLSTMWeightDrop: String, CaseIterable, Equatable, Sendable {
    /// The authors' weight_drop.py as it behaves in PyTorch: the raw matrices get no gradient.
    case authors
    /// A weight drop whose gradient reaches the raw matrices.
    case correct
}

/// The sizes and regularisation of an AWD-LSTM; the defaults are the authors' main.py.
public struct AWDLSTMSettings: Equatable, Sendable {
    public var vocabulary: Int
    public var embeddingSize = 400
    public var hiddenSize = 1150
    public var layers = 3
    /// Locked dropout on the last layer's output (`--dropout`).
    public var dropoutOutput: Float = 0.4
    /// Locked dropout between layers (`--dropouth`).
    public var dropoutHidden: Float = 0.25
    /// Locked dropout on the embedded input (`--dropouti`).
    public var dropoutInput: Float = 0.4
    /// Embedding (word) dropout (`--dropoute`).
    public var dropoutEmbedding: Float = 0.1
    /// Weight drop on the hidden-to-hidden matrices (`--wdrop`); 0 builds no wrapper.
    public var weightDrop: Float = 0.5
    public var weightDropVariant: AWDLSTMWeightDrop = .authors
    /// Tie the decoder to the encoder (main.py sets `args.tied = True`).
    public var tied = true
    /// AR and TAR coefficients (`--alpha`, `--beta`).
    public var activationPenalty: Float = 2
    public var temporalPenalty: Float = 1

    public init(vocabulary: Int) { self.vocabulary = vocabulary }

    /// The output size of layer `l`: hidden, but the embedding size for the last layer when tied.
    public func outputSize(layer l: Int) -> Int { l == layers - 1 && tied ? embeddingSize : hiddenSize }
    public func inputSize(layer l: Int) -> Int { l == 0 ? embeddingSize : hiddenSize }

    /// Checks the settings; the message names the setting and the allowed range.
    public func validate() throws {
        guard vocabulary >= 1 else { throw ModelError("the vocabulary must hold at least one word, got \(vocabulary)") }
        guard embeddingSize >= 1, hiddenSize >= 1 else {
            throw ModelError("the AWD-LSTM needs embedding and hidden sizes of at least 1, got \(embeddingSize) and \(hiddenSize)")
        }
        guard layers >= 1 else { throw ModelError("the AWD-LSTM needs at least 1 layer, got \(layers)") }
        for (name, p) in [("dropout", dropoutOutput), ("dropouth", dropoutHidden), ("dropouti", dropoutInput),
                          ("dropoute", dropoutEmbedding), ("wdrop", weightDrop)] where !(p >= 0 && p < 1) {
            throw ModelError("AWD-LSTM \(name) must be in [0, 1), got \(p)")
        }
        for (name, v) in [("alpha (AR)", activationPenalty), ("beta (TAR)", temporalPenalty)] where !(v >= 0 && v.isFinite) {
            throw ModelError("AWD-LSTM \(name) must be a finite number ≥ 0, got \(v)")
        }
    }
}

/// One `nn.LSTM(input, hidden, 1)`, optionally inside the authors' `WeightDrop` wrapper.
public final class AWDLSTMLayer: Module {
    public let inputSize, hiddenSize: Int
    public let weightIH, weightHH, biasIH, biasHH: Variable
    /// True when the authors' code wraps this layer in `WeightDrop` (weight drop > 0): the members move
    /// under `module.` and W_hh is named `weight_hh_l0_raw`, registered last.
    public let wrapped: Bool

    init(inputSize: Int, hiddenSize: Int, wrapped: Bool) {
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        self.wrapped = wrapped
        weightIH = Variable(Tensor(zeros: [4 * hiddenSize, inputSize]), requiresGrad: true)
        weightHH = Variable(Tensor(zeros: [4 * hiddenSize, hiddenSize]), requiresGrad: true)
        biasIH = Variable(Tensor(zeros: [4 * hiddenSize]), requiresGrad: true)
        biasHH = Variable(Tensor(zeros: [4 * hiddenSize]), requiresGrad: true)
    }

    /// The inner `nn.LSTM`'s own members, in its registration order.
    var lstmMembers: [(String, ModuleMember)] {
        wrapped
            ? [("weight_ih_l0", .parameter(weightIH)), ("bias_ih_l0", .parameter(biasIH)), ("bias_hh_l0", .parameter(biasHH)),
               ("weight_hh_l0_raw", .parameter(weightHH))]
            : [("weight_ih_l0", .parameter(weightIH)), ("weight_hh_l0", .parameter(weightHH)), ("bias_ih_l0", .parameter(biasIH)),
               ("bias_hh_l0", .parameter(biasHH))]
    }

    public var members: [(String, ModuleMember)] {
        wrapped ? [("module", .module(AWDLSTMInner(lstmMembers)))] : lstmMembers
    }

    /// PyTorch: every LSTM weight and bias U(−1/√H, 1/√H), each drawn from the fork of its full name.
    public func resetParameters(generator: RandomGenerator, path: String) {
        let bound = Float(1 / Double(hiddenSize).squareRoot())
        let prefix = wrapped ? joinPath(path, "module") : path
        for (name, member) in lstmMembers {
            if case .parameter(let p) = member {
                Initialization.uniform(p.value, bound: bound, generator: generator.fork(joinPath(prefix, name)))
            }
        }
    }
}

/// The `module` child of a wrapped layer (the nn.LSTM inside `WeightDrop`): members only.
final class AWDLSTMInner: Module {
    let members: [(String, ModuleMember)]
    init(_ members: [(String, ModuleMember)]) { self.members = members }
    func resetParameters(generator: RandomGenerator, path: String) {}
}

/// `rnns`: a ModuleList whose children are named 0, 1, ….
final class AWDLSTMLayerList: Module {
    let layers: [AWDLSTMLayer]
    init(_ layers: [AWDLSTMLayer]) { self.layers = layers }
    var members: [(String, ModuleMember)] { layers.enumerated().map { (String($0.offset), .module($0.element)) } }
}

/// The dropout masks of one training pass (nil: that dropout is off). Values are 0 or 1/(1 − p).
public struct AWDLSTMMasks {
    /// [vocabulary]: one factor per word (embedding dropout).
    public var embedding: Tensor?
    /// [batch, embedding]: locked dropout on the input.
    public var input: Tensor?
    /// Per layer, [4H, H]: weight drop of W_hh.
    public var weight: [Tensor?]
    /// Per layer but the last, [batch, H]: locked dropout between layers.
    public var hidden: [Tensor?]
    /// [batch, last layer's output size]: locked dropout on the output.
    public var output: Tensor?

    public init(embedding: Tensor? = nil, input: Tensor? = nil, weight: [Tensor?], hidden: [Tensor?], output: Tensor? = nil) {
        self.embedding = embedding
        self.input = input
        self.weight = weight
        self.hidden = hidden
        self.output = output
    }

    /// No dropout anywhere (evaluation).
    public static func none(layers: Int) -> AWDLSTMMasks {
        AWDLSTMMasks(weight: [Tensor?](repeating: nil, count: layers), hidden: [Tensor?](repeating: nil, count: max(layers - 1, 0)))
    }
}

/// What one forward pass gives: the logits and the carried state, and the last layer's output before
/// and after its dropout (for TAR and AR).
public struct AWDLSTMOutput {
    public let logits: Variable
    public let state: LSTMState
    public let lastOutput: Variable
    public let droppedLastOutput: Variable
}

public final class AWDLSTMLanguageModel: Module {
    /// The settings; sizes are fixed at construction, `setDropout` changes the probabilities.
    public private(set) var settings: AWDLSTMSettings
    public let encoder: Embedding
    public let layers: [AWDLSTMLayer]
    public let decoder: Linear
    private let layerList: AWDLSTMLayerList

    public init(_ settings: AWDLSTMSettings) throws {
        try settings.validate()
        self.settings = settings
        encoder = Embedding(settings.vocabulary, settings.embeddingSize)
        layers = (0..<settings.layers).map {
            AWDLSTMLayer(inputSize: settings.inputSize(layer: $0), hiddenSize: settings.outputSize(layer: $0),
                         wrapped: settings.weightDrop > 0)
        }
        layerList = AWDLSTMLayerList(layers)
        // nn.Linear(nhid, ntoken) in model.py; when tied its weight is replaced by the encoder's [ntoken, ninp].
        decoder = Linear(settings.outputSize(layer: settings.layers - 1), settings.vocabulary)
        if settings.tied { decoder.weight = encoder.weight }
    }

    public var vocabulary: Int { settings.vocabulary }

    /// Sets every dropout probability (output, between layers, input, embedding, weight drop) to `p`.
    /// The parameter names stay those of construction (a wrapper built for weight drop stays, as in the
    /// authors' code when `--wdrop` is changed on resume).
    public func setDropout(_ p: Float) {
        precondition(p >= 0 && p < 1, "dropout must be in [0, 1), got \(p)")
        settings.dropoutOutput = p
        settings.dropoutHidden = p
        settings.dropoutInput = p
        settings.dropoutEmbedding = p
        settings.weightDrop = p
    }

    public var members: [(String, ModuleMember)] {
        [("encoder", .module(encoder)), ("rnns", .module(layerList)), ("decoder", .module(decoder))]
    }

    /// model.py's `init_weights`: encoder U(−0.1, 0.1), decoder bias 0, decoder weight U(−0.1, 0.1) (the
    /// encoder's values when tied); the LSTMs keep PyTorch's default.
    public func resetParameters(generator: RandomGenerator, path: String) {
        Initialization.uniform(encoder.weight.value, bound: 0.1, generator: generator.fork(joinPath(path, "encoder.weight")))
        layerList.resetParameters(generator: generator, path: joinPath(path, "rnns"))
        if let bias = decoder.bias { bias.value.fill(0) }
        if !settings.tied {
            Initialization.uniform(decoder.weight.value, bound: 0.1, generator: generator.fork(joinPath(path, "decoder.weight")))
        }
    }

    /// The zero state for `batch` sequences (each layer's own size).
    public func zeroState(batch: Int) -> LSTMState {
        LSTMState(hidden: layers.map { Tensor(zeros: [batch, $0.hiddenSize]) }, cell: layers.map { Tensor(zeros: [batch, $0.hiddenSize]) })
    }

    /// Draws the masks of one training pass for `batch` sequences, in the authors' order.
    public func drawMasks(batch: Int, generator: inout RandomGenerator) -> AWDLSTMMasks {
        func mask(_ shape: [Int], _ p: Float) -> Tensor? {
            guard p > 0 else { return nil }
            let t = Tensor(uninitializedShape: shape)
            generator.fillBernoulli(t.data, count: t.count, p: Double(1 - p), value: 1 / (1 - p))
            return t
        }
        let s = settings
        var masks = AWDLSTMMasks.none(layers: s.layers)
        masks.embedding = mask([s.vocabulary], s.dropoutEmbedding)
        masks.input = mask([batch, s.embeddingSize], s.dropoutInput)
        for (l, layer) in layers.enumerated() {
            // Only a layer built with the wrapper has weight drop (model.py builds none when --wdrop is 0).
            masks.weight[l] = layer.wrapped ? mask([4 * layer.hiddenSize, layer.hiddenSize], s.weightDrop) : nil
            if l < s.layers - 1 { masks.hidden[l] = mask([batch, layer.hiddenSize], s.dropoutHidden) }
        }
        masks.output = mask([batch, layers[s.layers - 1].hiddenSize], s.dropoutOutput)
        return masks
    }

    /// tokens: T·B word indices, time-major. In training mode the masks are drawn from the context's
    /// generator; in evaluation mode there is no dropout.
    public func forward(tokens: [Int32], steps: Int, batch: Int, state: LSTMState, _ c: inout ForwardContext) -> AWDLSTMOutput {
        let masks = c.training ? drawMasks(batch: batch, generator: &c.generator) : .none(layers: settings.layers)
        return forward(tokens: tokens, steps: steps, batch: batch, state: state, masks: masks, &c)
    }

    /// The forward pass with the given masks (whatever the context's mode).
    public func forward(tokens: [Int32], steps: Int, batch: Int, state: LSTMState, masks: AWDLSTMMasks,
                        _ c: inout ForwardContext) -> AWDLSTMOutput {
        precondition(tokens.count == steps * batch, "\(tokens.count) tokens for \(steps) steps × \(batch) sequences")
        let s = settings
        // Embedding dropout: the embedding of the row-masked matrix (embed_regularize.py).
        // embed_regularize.py calls F.embedding with padding_idx −1 (the embedding has none of its own): the
        // last word of the vocabulary gets its row but sends no gradient back through the input side.
        var encoderWeight = encoder.weight
        if let m = masks.embedding {
            precondition(m.shape == [s.vocabulary], "embedding mask \(m.shape), expected [\(s.vocabulary)]")
            encoderWeight = mulRows(encoder.weight, m)
        }
        var x = embedding(tokens, weight: encoderWeight, paddingIndex: s.vocabulary - 1)
        c.record(encoder, kind: "Embedding \(s.vocabulary)×\(s.embeddingSize), word dropout \(s.dropoutEmbedding)",
                 output: x.shape, parameters: encoder.weight.count, flops: 0)
        x = lockedDropout(x, mask: masks.input, steps: steps, batch: batch)
        var newState = state
        var lastOutput = x
        for (l, layer) in layers.enumerated() {
            let weightHH = droppedHiddenWeight(layer, mask: masks.weight[l])
            let projected = linear(x, weight: layer.weightIH, bias: layer.biasIH)
            let sequence = lstmSequence(projected: projected, weightHH: weightHH, biasHH: layer.biasHH,
                                        h0: state.hidden[l], c0: state.cell[l], steps: steps, batch: batch)
            newState.hidden[l] = sequence.lastHidden
            newState.cell[l] = sequence.lastCell
            x = sequence.hidden
            lastOutput = x
            let weightDrop = layer.wrapped ? ", weight drop \(s.weightDrop) (\(s.weightDropVariant.rawValue))" : ""
            c.record(layer, kind: "LSTM \(layer.inputSize)→\(layer.hiddenSize)\(weightDrop)", output: x.shape,
                     parameters: 4 * layer.hiddenSize * (layer.inputSize + layer.hiddenSize + 2),
                     flops: 2 * Double(steps * batch) * Double(4 * layer.hiddenSize * (layer.inputSize + layer.hiddenSize)))
            if l < s.layers - 1 { x = lockedDropout(x, mask: masks.hidden[l], steps: steps, batch: batch) }
        }
        let dropped = lockedDropout(lastOutput, mask: masks.output, steps: steps, batch: batch)
        let logits = decoder.forward(dropped, &c)
        return AWDLSTMOutput(logits: logits, state: newState, lastOutput: lastOutput, droppedLastOutput: dropped)
    }

    /// W_hh as the layer's LSTM sees it in this pass.
    private func droppedHiddenWeight(_ layer: AWDLSTMLayer, mask: Tensor?) -> Variable {
        guard layer.wrapped else {
            precondition(mask == nil, "a weight-drop mask for a model built without weight drop")
            return layer.weightHH
        }
        if let mask { precondition(mask.shape == layer.weightHH.shape, "weight-drop mask \(mask.shape), expected \(layer.weightHH.shape)") }
        switch settings.weightDropVariant {
        case .authors:
            // A new leaf holding the (dropped) values: no gradient reaches the raw matrix.
            guard let mask else { return Variable(layer.weightHH.value) }
            return Tape.withoutGradients { Variable(mul(layer.weightHH, Variable(mask)).value) }
        case .correct:
            guard let mask else { return layer.weightHH }
            return mul(layer.weightHH, Variable(mask))
        }
    }

    /// locked_dropout.py: x [T·B, D] times one [B, D] mask at every step.
    private func lockedDropout(_ x: Variable, mask: Tensor?, steps: Int, batch: Int) -> Variable {
        guard let mask else { return x }
        let d = x.shape[1]
        precondition(mask.shape == [batch, d], "locked-dropout mask \(mask.shape), expected [\(batch), \(d)]")
        precondition(x.shape[0] == steps * batch, "locked dropout of \(x.shape[0]) rows for \(steps) steps × \(batch) sequences")
        return mulColumns(x, mask)  // x [T, B·D] in memory: the [B·D] mask at every step
    }

    /// main.py's training loss: cross-entropy (mean over the T·B targets) + α·mean(dropped last output²)
    /// + β·mean((h_t − h_{t−1})²) over the last layer's output. Returns the total and the cross-entropy.
    /// With one step the TAR term has no pairs; PyTorch's mean of nothing is NaN, here the term is left
    /// out (main.py's sequence lengths are at least 5).
    public func trainingLoss(_ output: AWDLSTMOutput, targets: [Int32], steps: Int, batch: Int) -> (total: Variable, crossEntropy: Variable) {
        let ce = crossEntropy(output.logits, labels: targets)
        var total = ce
        let s = settings
        if s.activationPenalty != 0 {
            let d = output.droppedLastOutput
            total = add(total, scale(mean(mul(d, d)), s.activationPenalty))
        }
        if s.temporalPenalty != 0 && steps > 1 {
            let h = output.lastOutput
            let rows = (steps - 1) * batch
            let difference = sub(slice(h, axis: 0, start: batch, length: rows), slice(h, axis: 0, start: 0, length: rows))
            total = add(total, scale(mean(mul(difference, difference)), s.temporalPenalty))
        }
        return (total, ce)
    }
}

extension AWDLSTMLanguageModel {
    /// The AdaMomentum paper's AWD-LSTMs of 1, 2 and 3 layers (the authors' main.py otherwise); "awd-lstm-tiny"
    /// is the 3-layer structure at embedding 6, hidden 10: the same code path, for tests.
    static let registration = ModelRegistration(position: 6, kind: .awdLanguageModel, [
        .init("awd-lstm-1layer") { try make($0, layers: 1) },
        .init("awd-lstm-2layer") { try make($0, layers: 2) },
        .init("awd-lstm-3layer") { try make($0, layers: 3) },
        .init("awd-lstm-tiny", .reduced) { try make($0, layers: 3, embeddingSize: 6, hiddenSize: 10) },
    ])

    private static func make(_ c: ModelConfiguration, layers: Int, embeddingSize: Int? = nil, hiddenSize: Int? = nil) throws -> Model {
        if let p = c.dropout {
            throw ModelError("\(c.name) has five dropouts with the authors' values (output 0.4, between layers 0.25, input 0.4, "
                             + "embedding 0.1, weight drop 0.5); one dropout \(p) cannot set them: leave `dropout` out")
        }
        var settings = AWDLSTMSettings(vocabulary: c.vocabulary)
        settings.layers = layers
        if let embeddingSize { settings.embeddingSize = embeddingSize }
        if let hiddenSize { settings.hiddenSize = hiddenSize }
        settings.weightDropVariant = c.weightDrop
        return .awdLanguageModel(try AWDLSTMLanguageModel(settings))
    }
}

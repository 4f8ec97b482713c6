import Engine

// Word-level LSTM language model ("medium" LSTM of Zaremba et al. 2014, the paper's PTB model):
//
//   embedding   vocabulary × 512            (N(0,1) init)
//   dropout p   on the embedding output
//   lstm        2 layers, hidden 512, dropout p between the layers (gate order i, f, g, o)
//   dropout p   on the last layer's output
//   decoder     linear 512 → vocabulary     (optionally tied: decoder.weight is embedding.weight)
//
// The hidden state is carried across BPTT windows by the caller (`forward` returns it).

public final class LSTMLanguageModel: Module {
    public let embedding: Embedding
    public let lstm: LSTM
    public let decoder: Linear
    public let tied: Bool
    /// Dropout probability on the embedding output, between LSTM layers and before the decoder.
    public var dropout: Float {
        didSet { lstm.dropout = dropout }
    }

    public init(vocabulary: Int, embeddingSize: Int = 512, hiddenSize: Int = 512, layers: Int = 2,
                dropout: Float = 0.5, tied: Bool = false) {
        precondition(!tied || embeddingSize == hiddenSize, "weight tying needs embedding size = hidden size")
        embedding = Embedding(vocabulary, embeddingSize)
        lstm = LSTM(inputSize: embeddingSize, hiddenSize: hiddenSize, layers: layers, dropout: dropout)
        decoder = Linear(hiddenSize, vocabulary)
        self.tied = tied
        self.dropout = dropout
        if tied { decoder.weight = embedding.weight }
    }

    public var vocabulary: Int { embedding.vocabulary }

    public var members: [(String, ModuleMember)] {
        [("embedding", .module(embedding)), ("lstm", .module(lstm)), ("decoder", .module(decoder))]
    }

    /// The decoder's own initialisation first, then the embedding's, so that a tied weight ends
    /// up with the embedding's N(0, 1) values, as in PyTorch (where tying happens after construction).
    public func resetParameters(generator: RandomGenerator, path: String) {
        decoder.resetParameters(generator: generator, path: joinPath(path, "decoder"))
        embedding.resetParameters(generator: generator, path: joinPath(path, "embedding"))
        lstm.resetParameters(generator: generator, path: joinPath(path, "lstm"))
    }

    /// The zero state for `batch` sequences.
    public func zeroState(batch: Int) -> LSTMState {
        LSTMState.zeros(layers: lstm.layers, batch: batch, hiddenSize: lstm.hiddenSize)
    }

    /// tokens: T·B word indices, time-major (token t·B + b is step t of sequence b) → logits
    /// [T·B, vocabulary] in the same order, and the state after the last step.
    public func forward(tokens: [Int32], steps: Int, batch: Int, state: LSTMState,
                        _ c: inout ForwardContext) -> (logits: Variable, state: LSTMState) {
        precondition(tokens.count == steps * batch, "\(tokens.count) tokens for \(steps) steps × \(batch) sequences")
        var x = embedding.forward(tokens, &c)
        x = Engine.dropout(x, p: dropout, training: c.training, generator: &c.generator)
        let (output, newState) = lstm.forward(x, steps: steps, batch: batch, state: state, &c)
        let dropped = Engine.dropout(output, p: dropout, training: c.training, generator: &c.generator)
        return (decoder.forward(dropped, &c), newState)
    }
}

extension LSTMLanguageModel {
    /// The paper's PTB model (dropout 0.5 unless the config sets one); "lstm-tiny" has embedding and hidden
    /// size 8 (gradient checks, fast tests).
    static let registration = ModelRegistration(position: 5, kind: .languageModel, [
        .init("lstm") { .languageModel(LSTMLanguageModel(vocabulary: $0.vocabulary, dropout: $0.dropout ?? 0.5, tied: $0.tiedWeights)) },
        .init("lstm-tiny", .reduced) {
            .languageModel(LSTMLanguageModel(vocabulary: $0.vocabulary, embeddingSize: 8, hiddenSize: 8,
                                             dropout: $0.dropout ?? 0.5, tied: $0.tiedWeights))
        },
    ])
}

import Engine

/// The hidden and cell states of every layer of an LSTM, each [batch, hidden]. Carried across
/// BPTT windows as plain tensors (no gradient flows back into the previous window).
public struct LSTMState {
    public var hidden: [Tensor]
    public var cell: [Tensor]

    public init(hidden: [Tensor], cell: [Tensor]) {
        self.hidden = hidden
        self.cell = cell
    }

    /// All zeros, as PyTorch's default initial state.
    public static func zeros(layers: Int, batch: Int, hiddenSize: Int) -> LSTMState {
        LSTMState(hidden: (0..<layers).map { _ in Tensor(zeros: [batch, hiddenSize]) },
                  cell: (0..<layers).map { _ in Tensor(zeros: [batch, hiddenSize]) })
    }
}

/// `nn.LSTM(inputSize, hiddenSize, num_layers, dropout)` on sequence-first input.
///
/// Members per layer k: `weight_ih_lk` [4H, in], `weight_hh_lk` [4H, H], `bias_ih_lk` [4H],
/// `bias_hh_lk` [4H], with the gates stacked in PyTorch's order i, f, g, o:
///   i = σ(W_ii x + b_ii + W_hi h + b_hi)   f = σ(…)   g = tanh(…)   o = σ(…)
///   c' = f ⊙ c + i ⊙ g                     h' = o ⊙ tanh(c')
/// Dropout with probability `dropout` is applied to the output of every layer but the last.
public final class LSTM: Module {
    public let inputSize, hiddenSize, layers: Int
    public var dropout: Float
    public let weightIH, weightHH, biasIH, biasHH: [Variable]

    public init(inputSize: Int, hiddenSize: Int, layers: Int, dropout: Float) {
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        self.layers = layers
        self.dropout = dropout
        let gates = 4 * hiddenSize
        weightIH = (0..<layers).map { Variable(Tensor(zeros: [gates, $0 == 0 ? inputSize : hiddenSize]), requiresGrad: true) }
        weightHH = (0..<layers).map { _ in Variable(Tensor(zeros: [gates, hiddenSize]), requiresGrad: true) }
        biasIH = (0..<layers).map { _ in Variable(Tensor(zeros: [gates]), requiresGrad: true) }
        biasHH = (0..<layers).map { _ in Variable(Tensor(zeros: [gates]), requiresGrad: true) }
    }

    public var members: [(String, ModuleMember)] {
        (0..<layers).flatMap { k -> [(String, ModuleMember)] in
            [("weight_ih_l\(k)", .parameter(weightIH[k])), ("weight_hh_l\(k)", .parameter(weightHH[k])),
             ("bias_ih_l\(k)", .parameter(biasIH[k])), ("bias_hh_l\(k)", .parameter(biasHH[k]))]
        }
    }

    /// PyTorch: every weight and bias U(−1/√H, 1/√H).
    public func resetParameters(generator: RandomGenerator, path: String) {
        let bound = Float(1 / Double(hiddenSize).squareRoot())
        for (name, member) in members {
            if case .parameter(let p) = member {
                Initialization.uniform(p.value, bound: bound, generator: generator.fork(joinPath(path, name)))
            }
        }
    }

    /// x [T·B, inputSize] (time-major: rows t·B ..< (t+1)·B are step t) → ([T·B, H], final state).
    public func forward(_ x: Variable, steps: Int, batch: Int, state: LSTMState,
                        _ context: inout ForwardContext) -> (Variable, LSTMState) {
        precondition(x.shape == [steps * batch, inputSize], "LSTM: input \(x.shape), expected [\(steps * batch), \(inputSize)]")
        var input = x
        var finalState = state
        for k in 0..<layers {
            // The input projection of all steps at once: [T·B, 4H].
            let projected = linear(input, weight: weightIH[k], bias: biasIH[k])
            // The recurrence over all steps as one op (per step one GEMM and one fused gate loop).
            let sequence = lstmSequence(projected: projected, weightHH: weightHH[k], biasHH: biasHH[k],
                                        h0: state.hidden[k], c0: state.cell[k], steps: steps, batch: batch)
            finalState.hidden[k] = sequence.lastHidden
            finalState.cell[k] = sequence.lastCell
            input = sequence.hidden
            if k < layers - 1 {
                input = Engine.dropout(input, p: dropout, training: context.training, generator: &context.generator)
            }
        }
        let inputs = [inputSize] + [Int](repeating: hiddenSize, count: layers - 1)
        let macsPerRow = inputs.reduce(0) { $0 + 4 * hiddenSize * ($1 + hiddenSize) }
        context.record(self, kind: "LSTM \(inputSize)→\(hiddenSize) ×\(layers) layers", output: input.shape,
                       parameters: members.reduce(0) { if case .parameter(let p) = $1.1 { return $0 + p.count } else { return $0 } },
                       flops: 2 * Double(steps * batch) * Double(macsPerRow))
        return (input, finalState)
    }
}

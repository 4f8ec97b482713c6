import Engine

/// `nn.BatchNorm2d(channels, eps)` with momentum 0.1. Members: `weight`, `bias` (parameters),
/// `running_mean`, `running_var` (buffers) and `num_batches_tracked` (int64 counter), all [C]
/// except the counter.
public final class BatchNorm2d: Layer {
    public let weight: Variable
    public let bias: Variable
    public let runningMean: Tensor
    public let runningVar: Tensor
    public let batchesTracked = BatchCounter()
    public let channels: Int
    public let eps: Float
    public let momentum: Float = 0.1

    public init(_ channels: Int, eps: Float = 1e-5) {
        self.channels = channels
        self.eps = eps
        weight = Variable(Tensor(shape: [channels], repeating: 1), requiresGrad: true)
        bias = Variable(Tensor(zeros: [channels]), requiresGrad: true)
        runningMean = Tensor(zeros: [channels])
        runningVar = Tensor(shape: [channels], repeating: 1)
    }

    public var members: [(String, ModuleMember)] {
        [("weight", .parameter(weight)), ("bias", .parameter(bias)), ("running_mean", .buffer(runningMean)),
         ("running_var", .buffer(runningVar)), ("num_batches_tracked", .counter(batchesTracked))]
    }

    /// PyTorch's `reset_parameters`: weight 1, bias 0, running mean 0, running variance 1, counter 0.
    public func resetParameters(generator: RandomGenerator, path: String) {
        weight.value.fill(1)
        bias.value.fill(0)
        runningMean.fill(0)
        runningVar.fill(1)
        batchesTracked.value = 0
    }

    private var statistics: BatchNormStatistics { BatchNormStatistics(runningMean: runningMean, runningVar: runningVar) }

    public func forward(_ x: Variable, _ context: inout ForwardContext) -> Variable {
        let y = batchNorm2d(x, gamma: weight, beta: bias, statistics: statistics,
                            training: context.training, momentum: momentum, eps: eps)
        finish(y, fused: "", &context)
        return y
    }

    /// relu(self(x) + residual) (residual optional) as one fused op: the same values, gradients and
    /// running statistics as the composition, with less memory and time. The summary row of this
    /// layer then says that the ReLU (and the addition) ran with it.
    public func forwardReLU(_ x: Variable, adding residual: Variable? = nil, _ context: inout ForwardContext) -> Variable {
        let y = batchNorm2dReLU(x, gamma: weight, beta: bias, statistics: statistics,
                                training: context.training, momentum: momentum, eps: eps, adding: residual)
        finish(y, fused: residual == nil ? " + ReLU" : " + add + ReLU", &context)
        return y
    }

    private func finish(_ y: Variable, fused: String, _ context: inout ForwardContext) {
        if context.training { batchesTracked.value += 1 }
        let epsNote = eps == 1e-5 ? "" : " eps=\(eps)"
        context.record(self, kind: "BatchNorm2d \(channels)\(epsNote)\(fused)", output: y.shape, parameters: 2 * channels, flops: 0)
    }
}

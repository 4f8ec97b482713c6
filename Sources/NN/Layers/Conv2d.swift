import Engine

/// `nn.Conv2d` with a square kernel, stride and zero padding. Members: `weight` [O, C, k, k]
/// (OIHW, as PyTorch) and, when `bias` is true, `bias` [O].
public final class Conv2d: Layer {
    public let weight: Variable
    public let bias: Variable?
    public let inChannels, outChannels, kernel, stride, padding: Int

    public init(_ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0, bias: Bool = true) {
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        weight = Variable(Tensor(zeros: [outChannels, inChannels, kernel, kernel]), requiresGrad: true)
        self.bias = bias ? Variable(Tensor(zeros: [outChannels]), requiresGrad: true) : nil
    }

    public var members: [(String, ModuleMember)] {
        var m: [(String, ModuleMember)] = [("weight", .parameter(weight))]
        if let bias { m.append(("bias", .parameter(bias))) }
        return m
    }

    public func resetParameters(generator: RandomGenerator, path: String) {
        let fanIn = inChannels * kernel * kernel
        Initialization.uniformFanIn(weight.value, fanIn: fanIn, generator: generator.fork(joinPath(path, "weight")))
        if let bias { Initialization.uniformFanIn(bias.value, fanIn: fanIn, generator: generator.fork(joinPath(path, "bias"))) }
    }

    public func forward(_ x: Variable, _ context: inout ForwardContext) -> Variable {
        let y = conv2d(x, weight: weight, bias: bias, stride: stride, padding: padding)
        // 2 · (output elements) · (multiply-adds per output element)
        let flops = 2 * Double(y.count) * Double(inChannels * kernel * kernel)
        context.record(self, kind: "Conv2d \(inChannels)→\(outChannels) \(kernel)×\(kernel) s\(stride) p\(padding)",
                       output: y.shape, parameters: weight.count + (bias?.count ?? 0), flops: flops)
        return y
    }
}

import Engine

/// `nn.Linear(in, out)`. Members: `weight` [out, in] and `bias` [out].
public final class Linear: Layer {
    /// A `var` so that a language model can tie it to its embedding.
    public internal(set) var weight: Variable
    public let bias: Variable?
    public let inFeatures, outFeatures: Int

    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true) {
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        weight = Variable(Tensor(zeros: [outFeatures, inFeatures]), requiresGrad: true)
        self.bias = bias ? Variable(Tensor(zeros: [outFeatures]), requiresGrad: true) : nil
    }

    public var members: [(String, ModuleMember)] {
        var m: [(String, ModuleMember)] = [("weight", .parameter(weight))]
        if let bias { m.append(("bias", .parameter(bias))) }
        return m
    }

    public func resetParameters(generator: RandomGenerator, path: String) {
        Initialization.uniformFanIn(weight.value, fanIn: inFeatures, generator: generator.fork(joinPath(path, "weight")))
        if let bias { Initialization.uniformFanIn(bias.value, fanIn: inFeatures, generator: generator.fork(joinPath(path, "bias"))) }
    }

    /// x [B, in] → [B, out]
    public func forward(_ x: Variable, _ context: inout ForwardContext) -> Variable {
        let y = linear(x, weight: weight, bias: bias)
        context.record(self, kind: "Linear \(inFeatures)→\(outFeatures)", output: y.shape,
                       parameters: weight.count + (bias?.count ?? 0), flops: 2 * Double(y.count) * Double(inFeatures))
        return y
    }
}

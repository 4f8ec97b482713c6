import Engine

/// `nn.Embedding(vocabulary, dimension)`. Member: `weight` [vocabulary, dimension], N(0, 1) at init.
public final class Embedding: Module {
    public let weight: Variable
    public let vocabulary, dimension: Int

    public init(_ vocabulary: Int, _ dimension: Int) {
        self.vocabulary = vocabulary
        self.dimension = dimension
        weight = Variable(Tensor(zeros: [vocabulary, dimension]), requiresGrad: true)
    }

    public var members: [(String, ModuleMember)] { [("weight", .parameter(weight))] }

    public func resetParameters(generator: RandomGenerator, path: String) {
        Initialization.standardNormal(weight.value, generator: generator.fork(joinPath(path, "weight")))
    }

    /// indices (n) → [n, dimension]
    public func forward(_ indices: [Int32], _ context: inout ForwardContext) -> Variable {
        let y = embedding(indices, weight: weight)
        context.record(self, kind: "Embedding \(vocabulary)×\(dimension)", output: y.shape, parameters: weight.count, flops: 0)
        return y
    }
}

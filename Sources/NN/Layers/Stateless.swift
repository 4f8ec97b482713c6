import Engine

// Layers without state: activations, pooling, dropout, flattening. They have no members but are
// modules so that `Sequential` indices match the reference's (`features.2` is a ReLU in VGG).

public final class ReLU: Layer {
    public init() {}
    public var members: [(String, ModuleMember)] { [] }
    public func forward(_ x: Variable, _ context: inout ForwardContext) -> Variable { relu(x) }
}

/// `nn.MaxPool2d(kernel, stride, padding)`.
public final class MaxPool2d: Layer {
    public let kernel, stride, padding: Int
    public init(kernel: Int, stride: Int, padding: Int = 0) {
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
    }
    public var members: [(String, ModuleMember)] { [] }
    public func forward(_ x: Variable, _ context: inout ForwardContext) -> Variable {
        let y = maxPool2d(x, kernel: kernel, stride: stride, padding: padding)
        context.record(self, kind: "MaxPool2d \(kernel)×\(kernel) s\(stride) p\(padding)", output: y.shape, parameters: 0, flops: 0)
        return y
    }
}

/// `nn.AvgPool2d(kernel, stride)` without padding.
public final class AvgPool2d: Layer {
    public let kernel, stride: Int
    public init(kernel: Int, stride: Int) {
        self.kernel = kernel
        self.stride = stride
    }
    public var members: [(String, ModuleMember)] { [] }
    public func forward(_ x: Variable, _ context: inout ForwardContext) -> Variable {
        let y = avgPool2d(x, kernel: kernel, stride: stride)
        context.record(self, kind: "AvgPool2d \(kernel)×\(kernel) s\(stride)", output: y.shape, parameters: 0, flops: 0)
        return y
    }
}

/// `nn.AdaptiveAvgPool2d(1)`: the mean of each channel's plane.
public final class GlobalAvgPool2d: Layer {
    public init() {}
    public var members: [(String, ModuleMember)] { [] }
    public func forward(_ x: Variable, _ context: inout ForwardContext) -> Variable {
        let y = globalAvgPool2d(x)
        context.record(self, kind: "GlobalAvgPool2d", output: y.shape, parameters: 0, flops: 0)
        return y
    }
}

/// `nn.Dropout(p)`: active only in training mode; masks come from the context's generator.
/// (On [N, C, 1, 1] inputs this equals `nn.Dropout2d`, which drops whole channels.)
public final class Dropout: Layer {
    public var p: Float
    public init(p: Float) { self.p = p }
    public var members: [(String, ModuleMember)] { [] }
    public func forward(_ x: Variable, _ context: inout ForwardContext) -> Variable {
        let y = dropout(x, p: p, training: context.training, generator: &context.generator)
        context.record(self, kind: "Dropout p=\(p)", output: y.shape, parameters: 0, flops: 0)
        return y
    }
}

/// [N, ...] → [N, rest], as `x.view(x.size(0), -1)`.
public final class Flatten: Layer {
    public init() {}
    public var members: [(String, ModuleMember)] { [] }
    public func forward(_ x: Variable, _ context: inout ForwardContext) -> Variable { flatten(x) }
}

/// `nn.Sequential`: children named "0", "1", ... run in order. A `BatchNorm2d` directly followed
/// by a `ReLU` runs as one fused op (`BatchNorm2d.forwardReLU`); the ReLU stays a child, so the
/// indices, and with them the state-dict names, are the reference's.
public final class Sequential: Layer {
    public let layers: [Layer]
    public init(_ layers: [Layer]) { self.layers = layers }
    public var members: [(String, ModuleMember)] { layers.enumerated().map { (String($0.offset), .module($0.element)) } }
    public func forward(_ x: Variable, _ context: inout ForwardContext) -> Variable {
        var out = x
        var i = 0
        while i < layers.count {
            if let bn = layers[i] as? BatchNorm2d, i + 1 < layers.count, layers[i + 1] is ReLU {
                out = bn.forwardReLU(out, &context)
                i += 2
            } else {
                out = layers[i].forward(out, &context)
                i += 1
            }
        }
        return out
    }
}

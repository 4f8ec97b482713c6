import Engine

// DenseNet-BC for CIFAR (Huang et al. 2017, as in kuangliu/pytorch-cifar):
//
//   conv1     3×3, 2·growth channels (no BN after it)
//   dense1    blocks[0] × bottleneck, each adding `growth` channels
//   trans1    BN-ReLU-conv1×1 to ⌊channels·reduction⌋, 2×2 average pool
//   dense2, trans2, dense3, trans3, dense4
//   bn, ReLU, 4×4 average pool, linear → classes
//
// A bottleneck is BN-ReLU-conv1×1 (to 4·growth) then BN-ReLU-conv3×3 (to growth); its output is
// concatenated *before* its input: cat([new, x]). Convolutions have no bias.

public final class DenseBottleneck: Layer {
    let bn1: BatchNorm2d, conv1: Conv2d, bn2: BatchNorm2d, conv2: Conv2d

    public init(_ inPlanes: Int, growth: Int) {
        bn1 = BatchNorm2d(inPlanes)
        conv1 = Conv2d(inPlanes, 4 * growth, kernel: 1, bias: false)
        bn2 = BatchNorm2d(4 * growth)
        conv2 = Conv2d(4 * growth, growth, kernel: 3, padding: 1, bias: false)
    }

    public var members: [(String, ModuleMember)] {
        [("bn1", .module(bn1)), ("conv1", .module(conv1)), ("bn2", .module(bn2)), ("conv2", .module(conv2))]
    }

    public func forward(_ x: Variable, _ c: inout ForwardContext) -> Variable {
        var out = conv1.forward(bn1.forwardReLU(x, &c), &c)
        out = conv2.forward(bn2.forwardReLU(out, &c), &c)
        let joined = concat([out, x], axis: 1)
        c.record(function: "cat", in: self, kind: "cat([new, input])", output: joined.shape)
        return joined
    }
}

public final class DenseTransition: Layer {
    let bn: BatchNorm2d, conv: Conv2d

    public init(_ inPlanes: Int, _ outPlanes: Int) {
        bn = BatchNorm2d(inPlanes)
        conv = Conv2d(inPlanes, outPlanes, kernel: 1, bias: false)
    }

    public var members: [(String, ModuleMember)] { [("bn", .module(bn)), ("conv", .module(conv))] }

    public func forward(_ x: Variable, _ c: inout ForwardContext) -> Variable {
        let out = avgPool2d(conv.forward(bn.forwardReLU(x, &c), &c), kernel: 2)
        c.record(function: "avg_pool2d", in: self, kind: "avg_pool2d 2×2", output: out.shape)
        return out
    }
}

public final class DenseNet: Layer {
    let conv1: Conv2d
    let dense: [Sequential]  // dense1 … dense4
    let transitions: [DenseTransition]  // trans1 … trans3
    let bn: BatchNorm2d
    let linear: Linear

    public init(blocks: [Int], growth: Int, reduction: Double = 0.5, classes: Int) {
        precondition(blocks.count == 4, "DenseNet has four dense blocks")
        var planes = 2 * growth
        conv1 = Conv2d(3, planes, kernel: 3, padding: 1, bias: false)
        var dense: [Sequential] = []
        var transitions: [DenseTransition] = []
        for (index, count) in blocks.enumerated() {
            var layers: [Layer] = []
            for _ in 0..<count {
                layers.append(DenseBottleneck(planes, growth: growth))
                planes += growth
            }
            dense.append(Sequential(layers))
            if index < 3 {
                let outPlanes = Int((Double(planes) * reduction).rounded(.down))
                transitions.append(DenseTransition(planes, outPlanes))
                planes = outPlanes
            }
        }
        self.dense = dense
        self.transitions = transitions
        bn = BatchNorm2d(planes)
        linear = Linear(planes, classes)
    }

    public var members: [(String, ModuleMember)] {
        var m: [(String, ModuleMember)] = [("conv1", .module(conv1))]
        for i in 0..<4 {
            m.append(("dense\(i + 1)", .module(dense[i])))
            if i < 3 { m.append(("trans\(i + 1)", .module(transitions[i]))) }
        }
        return m + [("bn", .module(bn)), ("linear", .module(linear))]
    }

    /// x [N, 3, 32, 32] → logits [N, classes]
    public func forward(_ x: Variable, _ c: inout ForwardContext) -> Variable {
        var out = conv1.forward(x, &c)
        for i in 0..<4 {
            out = dense[i].forward(out, &c)
            if i < 3 { out = transitions[i].forward(out, &c) }
        }
        out = avgPool2d(bn.forwardReLU(out, &c), kernel: 4)
        c.record(function: "avg_pool2d", in: self, kind: "avg_pool2d 4×4", output: out.shape)
        return linear.forward(flatten(out), &c)
    }
}

extension DenseNet {
    /// kuangliu's `DenseNet121()` (growth 32); "densenet-tiny" is a dense block of two bottlenecks per stage at
    /// growth 4 (gradient checks, fast tests).
    static let registration = ModelRegistration(position: 3, kind: .imageClassifier, [
        .init("densenet121") { .imageClassifier(DenseNet(blocks: [6, 12, 24, 16], growth: 32, classes: $0.classes)) },
        .init("densenet-tiny", .reduced) { .imageClassifier(DenseNet(blocks: [2, 2, 2, 2], growth: 4, classes: $0.classes)) },
    ])
}

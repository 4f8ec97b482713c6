import Engine

// ResNet for 32×32 CIFAR images (He et al. 2016, as in kuangliu/pytorch-cifar):
//
//   conv1    3×3, 64, stride 1, + bn1 + relu          (no max-pool)
//   layer1   blocks × BasicBlock/Bottleneck,  64 planes, stride 1
//   layer2   blocks × …                      128 planes, stride 2
//   layer3   blocks × …                      256 planes, stride 2
//   layer4   blocks × …                      512 planes, stride 2
//   4×4 average pool, linear 512·expansion → classes
//
// Convolutions have no bias. A block's shortcut is a 1×1 conv + BN (`shortcut.0`, `shortcut.1`)
// when its stride is not 1 or its channel count changes, else the identity.

/// The 1×1 conv + BN projection shortcut, or the identity (an empty `nn.Sequential`).
private func makeShortcut(_ inPlanes: Int, _ outPlanes: Int, stride: Int) -> Sequential {
    guard stride != 1 || inPlanes != outPlanes else { return Sequential([]) }
    return Sequential([Conv2d(inPlanes, outPlanes, kernel: 1, stride: stride, bias: false), BatchNorm2d(outPlanes)])
}

/// relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)), both convs 3×3.
public final class BasicBlock: Layer {
    public static let expansion = 1
    let conv1: Conv2d, bn1: BatchNorm2d, conv2: Conv2d, bn2: BatchNorm2d, shortcut: Sequential

    public init(_ inPlanes: Int, _ planes: Int, stride: Int) {
        conv1 = Conv2d(inPlanes, planes, kernel: 3, stride: stride, padding: 1, bias: false)
        bn1 = BatchNorm2d(planes)
        conv2 = Conv2d(planes, planes, kernel: 3, stride: 1, padding: 1, bias: false)
        bn2 = BatchNorm2d(planes)
        shortcut = makeShortcut(inPlanes, planes, stride: stride)
    }

    public var members: [(String, ModuleMember)] {
        [("conv1", .module(conv1)), ("bn1", .module(bn1)), ("conv2", .module(conv2)), ("bn2", .module(bn2)),
         ("shortcut", .module(shortcut))]
    }

    public func forward(_ x: Variable, _ c: inout ForwardContext) -> Variable {
        let out = bn1.forwardReLU(conv1.forward(x, &c), &c)
        return bn2.forwardReLU(conv2.forward(out, &c), adding: shortcut.forward(x, &c), &c)
    }
}

/// relu(bn3(conv3(relu(bn2(conv2(relu(bn1(conv1(x)))))))) + shortcut(x)): 1×1 → 3×3 (stride) → 1×1 ×4.
public final class Bottleneck: Layer {
    public static let expansion = 4
    let conv1: Conv2d, bn1: BatchNorm2d, conv2: Conv2d, bn2: BatchNorm2d, conv3: Conv2d, bn3: BatchNorm2d
    let shortcut: Sequential

    public init(_ inPlanes: Int, _ planes: Int, stride: Int) {
        conv1 = Conv2d(inPlanes, planes, kernel: 1, bias: false)
        bn1 = BatchNorm2d(planes)
        conv2 = Conv2d(planes, planes, kernel: 3, stride: stride, padding: 1, bias: false)
        bn2 = BatchNorm2d(planes)
        conv3 = Conv2d(planes, Bottleneck.expansion * planes, kernel: 1, bias: false)
        bn3 = BatchNorm2d(Bottleneck.expansion * planes)
        shortcut = makeShortcut(inPlanes, Bottleneck.expansion * planes, stride: stride)
    }

    public var members: [(String, ModuleMember)] {
        [("conv1", .module(conv1)), ("bn1", .module(bn1)), ("conv2", .module(conv2)), ("bn2", .module(bn2)),
         ("conv3", .module(conv3)), ("bn3", .module(bn3)), ("shortcut", .module(shortcut))]
    }

    public func forward(_ x: Variable, _ c: inout ForwardContext) -> Variable {
        var out = bn1.forwardReLU(conv1.forward(x, &c), &c)
        out = bn2.forwardReLU(conv2.forward(out, &c), &c)
        return bn3.forwardReLU(conv3.forward(out, &c), adding: shortcut.forward(x, &c), &c)
    }
}

public final class ResNet: Layer {
    public enum Block { case basic, bottleneck }

    let conv1: Conv2d, bn1: BatchNorm2d
    let stages: [Sequential]  // layer1 … layer4
    let linear: Linear

    /// `blocks` per stage, at `widths` planes (64, 128, 256, 512 for the paper's models; smaller for tests).
    public init(block: Block, blocks: [Int], classes: Int, widths: [Int] = [64, 128, 256, 512]) {
        precondition(blocks.count == 4 && widths.count == 4, "ResNet has four stages")
        let expansion = block == .basic ? BasicBlock.expansion : Bottleneck.expansion
        conv1 = Conv2d(3, widths[0], kernel: 3, stride: 1, padding: 1, bias: false)
        bn1 = BatchNorm2d(widths[0])
        var inPlanes = widths[0]
        var stages: [Sequential] = []
        for (stage, (count, planes)) in zip(blocks, widths).enumerated() {
            var layers: [Layer] = []
            for index in 0..<count {
                let stride = index == 0 && stage > 0 ? 2 : 1
                switch block {
                case .basic: layers.append(BasicBlock(inPlanes, planes, stride: stride))
                case .bottleneck: layers.append(Bottleneck(inPlanes, planes, stride: stride))
                }
                inPlanes = planes * expansion
            }
            stages.append(Sequential(layers))
        }
        self.stages = stages
        linear = Linear(inPlanes, classes)
    }

    public var members: [(String, ModuleMember)] {
        [("conv1", .module(conv1)), ("bn1", .module(bn1))]
            + stages.enumerated().map { ("layer\($0.offset + 1)", .module($0.element)) }
            + [("linear", .module(linear))]
    }

    /// x [N, 3, 32, 32] → logits [N, classes]
    public func forward(_ x: Variable, _ c: inout ForwardContext) -> Variable {
        var out = bn1.forwardReLU(conv1.forward(x, &c), &c)
        for stage in stages { out = stage.forward(out, &c) }
        out = avgPool2d(out, kernel: 4)
        c.record(function: "avg_pool2d", in: self, kind: "avg_pool2d 4×4", output: out.shape)
        return linear.forward(flatten(out), &c)
    }
}

extension ResNet {
    /// The zoo's ResNets, kuangliu's `ResNet18()` … `ResNet101()`. "resnet-tiny" has four stages of one basic
    /// block at a few channels (gradient checks, fast tests); "resnet18-narrow" is ResNet18's structure at a
    /// quarter of its widths (reduced-scale reproductions, `reproduce --scale small`).
    static let registration = ModelRegistration(position: 1, kind: .imageClassifier, [
        .init("resnet18") { .imageClassifier(ResNet(block: .basic, blocks: [2, 2, 2, 2], classes: $0.classes)) },
        .init("resnet34") { .imageClassifier(ResNet(block: .basic, blocks: [3, 4, 6, 3], classes: $0.classes)) },
        .init("resnet50") { .imageClassifier(ResNet(block: .bottleneck, blocks: [3, 4, 6, 3], classes: $0.classes)) },
        .init("resnet101") { .imageClassifier(ResNet(block: .bottleneck, blocks: [3, 4, 23, 3], classes: $0.classes)) },
        .init("resnet-tiny", .reduced) {
            .imageClassifier(ResNet(block: .basic, blocks: [1, 1, 1, 1], classes: $0.classes, widths: [4, 8, 16, 16]))
        },
        .init("resnet18-narrow", .reduced) {
            .imageClassifier(ResNet(block: .basic, blocks: [2, 2, 2, 2], classes: $0.classes, widths: [16, 32, 64, 128]))
        },
    ])
}

import Engine

// VGG with batch-norm for CIFAR (Simonyan & Zisserman 2015, as in kuangliu/pytorch-cifar):
// `features` is a Sequential of conv3×3 (padding 1, with bias) + BN + ReLU for each number of
// the configuration and a 2×2 max-pool for each "M"; then `classifier`, a linear 512 → classes.
// (The reference ends `features` with a 1×1, stride-1 average pool, which is the identity and
// has no state; it is left out.)

public final class VGG: Layer {
    public enum Entry: Equatable {
        case conv(Int)
        case maxPool
    }

    public static let configurations: [String: [Entry]] = [
        "vgg11": parse([64, 0, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0]),
        "vgg13": parse([64, 64, 0, 128, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0]),
        "vgg16": parse([64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0]),
        "vgg19": parse([64, 64, 0, 128, 128, 0, 256, 256, 256, 256, 0, 512, 512, 512, 512, 0, 512, 512, 512, 512, 0]),
    ]

    /// Table shorthand: a channel count is a conv entry, 0 is "M".
    static func parse(_ table: [Int]) -> [Entry] { table.map { $0 == 0 ? .maxPool : .conv($0) } }

    let features: Sequential
    let classifier: Linear

    public init(configuration: [Entry], classes: Int) {
        var layers: [Layer] = []
        var channels = 3
        for entry in configuration {
            switch entry {
            case .maxPool:
                layers.append(MaxPool2d(kernel: 2, stride: 2))
            case .conv(let out):
                layers += [Conv2d(channels, out, kernel: 3, padding: 1, bias: true), BatchNorm2d(out), ReLU()]
                channels = out
            }
        }
        features = Sequential(layers)
        classifier = Linear(channels, classes)
    }

    public var members: [(String, ModuleMember)] { [("features", .module(features)), ("classifier", .module(classifier))] }

    /// x [N, 3, 32, 32] → logits [N, classes]
    public func forward(_ x: Variable, _ c: inout ForwardContext) -> Variable {
        classifier.forward(flatten(features.forward(x, &c)), &c)
    }
}

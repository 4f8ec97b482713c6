import Engine

// VGG with batch-norm for CIFAR (Simonyan & Zisserman 2015, as in kuangliu/pytorch-cifar):
// `features` is a Sequential of conv3×3 (padding 1, with bias) + BN + ReLU for each number of
// the configuration and a 2×2 max-pool for each "M"; then `classifier`, a linear 512 → classes.
// (The reference ends `features` with a 1×1, stride-1 average pool, which is the identity and
// has no state; it is left out.)

public final class VGG: Layer {
    /// One entry of the reference's `cfg` table: a channel count is a conv3×3 + BN + ReLU with that many
    /// outputs (written as the number itself), `.maxPool` is the reference's "M".
    public enum Entry: Equatable, ExpressibleByIntegerLiteral {
        case conv(Int)
        case maxPool

        public init(integerLiteral channels: Int) { self = .conv(channels) }
    }

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

extension VGG {
    /// kuangliu's `cfg` for VGG11 … VGG19; "vgg-tiny" is six convolutions and five pools at a few channels (gradient checks,
    /// fast tests).
    static let registration = ModelRegistration(position: 2, kind: .imageClassifier, [
        variant("vgg11", [64, .maxPool, 128, .maxPool, 256, 256, .maxPool, 512, 512, .maxPool, 512, 512, .maxPool]),
        variant("vgg13", [64, 64, .maxPool, 128, 128, .maxPool, 256, 256, .maxPool, 512, 512, .maxPool, 512, 512, .maxPool]),
        variant("vgg16", [64, 64, .maxPool, 128, 128, .maxPool, 256, 256, 256, .maxPool, 512, 512, 512, .maxPool,
                          512, 512, 512, .maxPool]),
        variant("vgg19", [64, 64, .maxPool, 128, 128, .maxPool, 256, 256, 256, 256, .maxPool, 512, 512, 512, 512, .maxPool,
                          512, 512, 512, 512, .maxPool]),
        variant("vgg-tiny", [4, .maxPool, 8, .maxPool, 8, 8, .maxPool, 16, .maxPool, 16, .maxPool], .reduced),
    ])

    private static func variant(_ name: String, _ configuration: [Entry], _ size: ModelRegistration.Size = .full) -> ModelRegistration.Variant {
        .init(name, size) { .imageClassifier(VGG(configuration: configuration, classes: $0.classes)) }
    }
}

import Engine

// GoogLeNet for CIFAR-100 (Szegedy et al. 2015, the variant of weiaicunzai/pytorch-cifar100 that
// the paper trained):
//
//   prelayer  conv3×3 3→192 (with bias, padding 1) + BN + ReLU
//   a3, b3    Inception                                   32×32
//   maxpool   3×3, stride 2, padding 1                    → 16×16
//   a4 … e4   Inception
//   maxpool                                               → 8×8
//   a5, b5    Inception                                   → 1024 channels
//   avgpool (global), dropout 0.4, linear 1024 → classes
//
// An Inception block concatenates four branches (every conv followed by BN and ReLU, convs with bias):
//   b1  1×1 conv                          b2  1×1 conv → 3×3 conv
//   b3  1×1 conv → 3×3 conv → 3×3 conv    b4  3×3 max-pool (stride 1, pad 1) → 1×1 conv
//
// Quirk of the reference: the first BN after a 3×3 conv of b3 is built as `BatchNorm2d(n5x5, n5x5)`,
// so its eps is n5x5 (e.g. 32) instead of 1e-5. We reproduce it by default, because the paper's
// numbers were produced with it; `faithfulEpsQuirk: false` gives the ordinary eps of 1e-5.

public struct InceptionChannels: Equatable {
    public let input, n1x1, n3x3Reduce, n3x3, n5x5Reduce, n5x5, poolProjection: Int
    public var output: Int { n1x1 + n3x3 + n5x5 + poolProjection }

    public init(_ input: Int, _ n1x1: Int, _ n3x3Reduce: Int, _ n3x3: Int, _ n5x5Reduce: Int, _ n5x5: Int, _ poolProjection: Int) {
        self.input = input; self.n1x1 = n1x1; self.n3x3Reduce = n3x3Reduce; self.n3x3 = n3x3
        self.n5x5Reduce = n5x5Reduce; self.n5x5 = n5x5; self.poolProjection = poolProjection
    }

    /// Every channel number divided by `divisor` (for small test configurations).
    func divided(by divisor: Int) -> InceptionChannels {
        InceptionChannels(input / divisor, n1x1 / divisor, n3x3Reduce / divisor, n3x3 / divisor,
                          n5x5Reduce / divisor, n5x5 / divisor, poolProjection / divisor)
    }
}

public final class Inception: Layer {
    let b1, b2, b3, b4: Sequential

    public init(_ ch: InceptionChannels, faithfulEpsQuirk: Bool) {
        func convBNReLU(_ i: Int, _ o: Int, kernel: Int, eps: Float = 1e-5) -> [Layer] {
            [Conv2d(i, o, kernel: kernel, padding: kernel / 2, bias: true), BatchNorm2d(o, eps: eps), ReLU()]
        }
        b1 = Sequential(convBNReLU(ch.input, ch.n1x1, kernel: 1))
        b2 = Sequential(convBNReLU(ch.input, ch.n3x3Reduce, kernel: 1) + convBNReLU(ch.n3x3Reduce, ch.n3x3, kernel: 3))
        b3 = Sequential(convBNReLU(ch.input, ch.n5x5Reduce, kernel: 1)
            + convBNReLU(ch.n5x5Reduce, ch.n5x5, kernel: 3, eps: faithfulEpsQuirk ? Float(ch.n5x5) : 1e-5)
            + convBNReLU(ch.n5x5, ch.n5x5, kernel: 3))
        b4 = Sequential([MaxPool2d(kernel: 3, stride: 1, padding: 1)] + convBNReLU(ch.input, ch.poolProjection, kernel: 1))
    }

    public var members: [(String, ModuleMember)] {
        [("b1", .module(b1)), ("b2", .module(b2)), ("b3", .module(b3)), ("b4", .module(b4))]
    }

    public func forward(_ x: Variable, _ c: inout ForwardContext) -> Variable {
        let out = concat([b1.forward(x, &c), b2.forward(x, &c), b3.forward(x, &c), b4.forward(x, &c)], axis: 1)
        c.record(function: "cat", in: self, kind: "cat(b1, b2, b3, b4)", output: out.shape)
        return out
    }
}

public final class GoogLeNet: Layer {
    /// The reference's Inception channel numbers: a3, b3, a4, b4, c4, d4, e4, a5, b5.
    public static let inceptionTable: [InceptionChannels] = [
        InceptionChannels(192, 64, 96, 128, 16, 32, 32),
        InceptionChannels(256, 128, 128, 192, 32, 96, 64),
        InceptionChannels(480, 192, 96, 208, 16, 48, 64),
        InceptionChannels(512, 160, 112, 224, 24, 64, 64),
        InceptionChannels(512, 128, 128, 256, 24, 64, 64),
        InceptionChannels(512, 112, 144, 288, 32, 64, 64),
        InceptionChannels(528, 256, 160, 320, 32, 128, 128),
        InceptionChannels(832, 256, 160, 320, 32, 128, 128),
        InceptionChannels(832, 384, 192, 384, 48, 128, 128),
    ]
    static let blockNames = ["a3", "b3", "a4", "b4", "c4", "d4", "e4", "a5", "b5"]

    let prelayer: Sequential
    let blocks: [Inception]
    let maxpool = MaxPool2d(kernel: 3, stride: 2, padding: 1)
    let avgpool = GlobalAvgPool2d()
    let dropout: Dropout
    let linear: Linear

    /// `widthDivisor` divides every channel number (1 for the paper's model; 8 gives a small test model).
    public init(classes: Int, widthDivisor: Int = 1, faithfulEpsQuirk: Bool = true, dropout p: Float = 0.4) {
        let table = GoogLeNet.inceptionTable.map { $0.divided(by: widthDivisor) }
        let stem = table[0].input
        prelayer = Sequential([Conv2d(3, stem, kernel: 3, padding: 1, bias: true), BatchNorm2d(stem), ReLU()])
        blocks = table.map { Inception($0, faithfulEpsQuirk: faithfulEpsQuirk) }
        dropout = Dropout(p: p)
        linear = Linear(table[8].output, classes)
    }

    public var members: [(String, ModuleMember)] {
        var m: [(String, ModuleMember)] = [("prelayer", .module(prelayer))]
        for (name, block) in zip(GoogLeNet.blockNames.prefix(2), blocks.prefix(2)) { m.append((name, .module(block))) }
        m.append(("maxpool", .module(maxpool)))
        for (name, block) in zip(GoogLeNet.blockNames.dropFirst(2), blocks.dropFirst(2)) { m.append((name, .module(block))) }
        return m + [("avgpool", .module(avgpool)), ("dropout", .module(dropout)), ("linear", .module(linear))]
    }

    /// x [N, 3, 32, 32] → logits [N, classes]
    public func forward(_ x: Variable, _ c: inout ForwardContext) -> Variable {
        var out = prelayer.forward(x, &c)
        for (index, block) in blocks.enumerated() {
            if index == 2 || index == 7 { out = maxpool.forward(out, &c) }  // before a4 and before a5
            out = block.forward(out, &c)
        }
        out = dropout.forward(avgpool.forward(out, &c), &c)
        return linear.forward(flatten(out), &c)
    }
}

extension GoogLeNet {
    /// The reference's GoogLeNet (dropout 0.4 unless the config sets one); "googlenet-tiny" divides every
    /// channel number by 8 (gradient checks, fast tests).
    static let registration = ModelRegistration(position: 4, kind: .imageClassifier, [
        .init("googlenet") {
            .imageClassifier(GoogLeNet(classes: $0.classes, faithfulEpsQuirk: $0.googLeNetEpsQuirk, dropout: $0.dropout ?? 0.4))
        },
        .init("googlenet-tiny", .reduced) {
            .imageClassifier(GoogLeNet(classes: $0.classes, widthDivisor: 8, faithfulEpsQuirk: $0.googLeNetEpsQuirk,
                                       dropout: $0.dropout ?? 0.4))
        },
    ])
}

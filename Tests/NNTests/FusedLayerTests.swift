import Engine
import NN
import TestSupport
import XCTest

/// The layers' use of the fused batch norm + ReLU op: same results as running BatchNorm2d and
/// ReLU one after the other, and summaries that say what ran.
final class FusedLayerTests: XCTestCase {
    private func relativeDifference(_ a: Tensor, _ b: Tensor) -> Double {
        let scale = b.array.map { abs(Double($0)) }.max() ?? 0
        let difference = zip(a.array, b.array).map { abs(Double($0) - Double($1)) }.max() ?? 0
        return difference / max(scale, 1e-30)
    }

    /// A Sequential conv → BN → ReLU (which fuses BN and ReLU) against the same layers run one by one.
    func testSequentialFusionEqualsLayerByLayer() {
        var rng = RandomGenerator(seed: 3)
        let images = Tensor(uninitializedShape: [4, 3, 6, 6])
        rng.fillNormal(images)
        let weights = Tensor(uninitializedShape: [4, 5, 6, 6])
        rng.fillUniform(weights, -1, 1)
        for training in [true, false] {
            func makeLayers() -> (Conv2d, BatchNorm2d, Sequential) {
                // No conv bias: in front of training-mode BN its gradient is zero up to rounding.
                let conv = Conv2d(3, 5, kernel: 3, padding: 1, bias: false), bn = BatchNorm2d(5)
                let sequential = Sequential([conv, bn, ReLU()])
                sequential.resetParameters(generator: RandomGenerator(seed: 9), path: "")
                bn.weight.value.assign(Tensor(shape: [5], values: [1.5, -0.5, 0.8, 1.1, 0.3]))
                bn.bias.value.assign(Tensor(shape: [5], values: [0.1, 0.2, -0.3, 0, 0.05]))
                bn.runningMean.assign(Tensor(shape: [5], values: [0.1, -0.1, 0, 0.2, 0.3]))
                bn.runningVar.assign(Tensor(shape: [5], values: [0.5, 1.5, 1, 2, 0.7]))
                return (conv, bn, sequential)
            }
            func run(_ fused: Bool) -> (Tensor, BatchNorm2d, [Tensor]) {
                let (conv, bn, sequential) = makeLayers()
                var context = ForwardContext(training: training)
                let tape = Tape()
                var output: Tensor!
                let loss = tape.record { () -> Variable in
                    let x = Variable(images)
                    let y = fused ? sequential.forward(x, &context)
                        : ReLU().forward(bn.forward(conv.forward(x, &context), &context), &context)
                    output = y.value
                    return sum(mul(y, Variable(weights)))
                }
                tape.backward(from: loss)
                return (output, bn, sequential.namedParameters.map { $0.1.grad! })
            }
            let (fusedOutput, fusedBN, fusedGrads) = run(true)
            let (output, bn, grads) = run(false)
            let differences = [relativeDifference(fusedOutput, output), relativeDifference(fusedBN.runningMean, bn.runningMean),
                               relativeDifference(fusedBN.runningVar, bn.runningVar)] + zip(fusedGrads, grads).map { relativeDifference($0, $1) }
            Margin.report("fused conv block, training \(training)", error: differences.max()!, tolerance: 1e-5)
            XCTAssertLessThanOrEqual(relativeDifference(fusedOutput, output), 1e-5, "output, training \(training)")
            XCTAssertLessThanOrEqual(relativeDifference(fusedBN.runningMean, bn.runningMean), 1e-5)
            XCTAssertLessThanOrEqual(relativeDifference(fusedBN.runningVar, bn.runningVar), 1e-5)
            XCTAssertEqual(fusedBN.batchesTracked.value, bn.batchesTracked.value)
            XCTAssertEqual(fusedBN.batchesTracked.value, training ? 1 : 0)
            for (k, (a, b)) in zip(fusedGrads, grads).enumerated() {
                XCTAssertLessThanOrEqual(relativeDifference(a, b), 1e-5, "gradient \(k), training \(training)")
            }
        }
    }

    /// The BN rows say that a ReLU (and ResNet's shortcut addition) ran with them; the rest is as before.
    func testSummaryRowsNameTheFusedOps() throws {
        func rows(_ name: String) throws -> [String: SummaryRow] {
            let configuration = ModelConfiguration(name: name, classes: 10)
            let summary = ModelZoo.summary(try ModelZoo.makeUninitialized(configuration), configuration: configuration)
            return Dictionary(summary.rows.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })  // GoogLeNet's maxpool runs twice
        }
        let resnet = try rows("resnet18")
        XCTAssertEqual(resnet["bn1"]?.kind, "BatchNorm2d 64 + ReLU")
        XCTAssertEqual(resnet["layer1.0.bn2"]?.kind, "BatchNorm2d 64 + add + ReLU")
        XCTAssertEqual(resnet["layer2.0.shortcut.1"]?.kind, "BatchNorm2d 128")
        XCTAssertEqual(resnet["layer2.0.bn2"]?.parameters, 256)
        let vgg = try rows("vgg16")
        XCTAssertEqual(vgg["features.1"]?.kind, "BatchNorm2d 64 + ReLU")
        XCTAssertNil(vgg["features.2"], "ReLU modules have no row of their own, as before")
        let googlenet = try rows("googlenet")
        XCTAssertEqual(googlenet["a3.b3.4"]?.kind, "BatchNorm2d 32 eps=32.0 + ReLU")
        let densenet = try rows("densenet121")
        XCTAssertEqual(densenet["dense1.0.bn1"]?.kind, "BatchNorm2d 64 + ReLU")
        XCTAssertEqual(densenet["bn"]?.kind, "BatchNorm2d 1024 + ReLU")
    }
}

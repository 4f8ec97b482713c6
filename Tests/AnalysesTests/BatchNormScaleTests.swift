import Engine
import NN
import XCTest

@testable import Analyses

/// The weight norm behind claim 7's weight-norm-free sharpness (BatchNormScale).
final class BatchNormScaleTests: XCTestCase {
    /// resnet-tiny and a fixed batch of 8 random images.
    func tinyResNet() throws -> (Model, ModelObjective) {
        let model = try ModelZoo.make(ModelConfiguration(name: "resnet-tiny"), seed: 3)
        var rng = RandomGenerator(seed: 7)
        let images = Tensor(zeros: [8, 3, 32, 32])
        rng.fillNormal(images)
        let labels = (0..<8).map { _ in Int32(rng.nextInt(below: 10)) }
        return (model, try ModelObjective(model: model, batches: [.images(images, labels: labels)], training: true))
    }

    /// Σ‖W‖² over the rank-4 kernels: with every kernel set to a constant c it is c² times their elements.
    func testTheNormIsTheSumOfSquaresOverTheConvolutionKernels() throws {
        let (model, _) = try tinyResNet()
        var elements = 0
        for (_, p) in model.module.namedParameters where p.shape.count == 4 {
            for i in 0..<p.count { p.value.data[i] = 0.5 }
            elements += p.count
        }
        let (value, kernels) = try BatchNormScale.kernelNormSquared(model.module, description: "resnet-tiny")
        XCTAssertEqual(value, 0.25 * Double(elements), accuracy: 1e-9)
        XCTAssertEqual(kernels, model.module.namedModules().filter { $0.1 is BatchNorm2d }.count)
        XCTAssertGreaterThan(kernels, 3)
    }

    /// The premise of the normalisation: scaling every kernel by α leaves the training-mode loss unchanged
    /// (each feeds a batch-norm layer) and multiplies Σ‖W‖² by α².
    func testScalingTheKernelsLeavesTheLossUnchangedAndScalesTheNormByAlphaSquared() throws {
        let (model, objective) = try tinyResNet()
        let before = try objective.loss(at: objective.initialPoint)
        let normBefore = try BatchNormScale.kernelNormSquared(model.module, description: "resnet-tiny").value
        let alpha: Float = 3
        for (_, p) in model.module.namedParameters where p.shape.count == 4 {
            for i in 0..<p.count { p.value.data[i] *= alpha }
        }
        let rescaled = try ModelObjective(model: model, batches: objective.batches, training: true)
        let after = try rescaled.loss(at: rescaled.initialPoint)
        XCTAssertEqual(after, before, accuracy: 1e-4 * abs(before))
        let normAfter = try BatchNormScale.kernelNormSquared(model.module, description: "resnet-tiny").value
        XCTAssertEqual(normAfter / normBefore, Double(alpha * alpha), accuracy: 1e-4)
    }

    /// A network whose kernels do not each feed a batch-norm layer is refused with the reason.
    func testANetworkWithoutBatchNormIsRefused() {
        let net = Sequential([Conv2d(3, 4, kernel: 3), Flatten(), Linear(4 * 30 * 30, 10)])
        XCTAssertThrowsError(try BatchNormScale.kernelNormSquared(net, description: "conv-linear")) { error in
            XCTAssertEqual("\(error)", "conv-linear has 1 convolution kernels but 0 batch-norm layers; the weight-norm-free sharpness needs each kernel to feed one batch-norm layer")
        }
        XCTAssertThrowsError(try BatchNormScale.kernelNormSquared(Sequential([Flatten(), Linear(12, 3)]), description: "mlp")) { error in
            XCTAssertTrue("\(error)".hasPrefix("mlp has no convolution kernels"), "\(error)")
        }
    }
}

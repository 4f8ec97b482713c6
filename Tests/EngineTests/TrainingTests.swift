import Engine
import Foundation
import XCTest

/// A small CNN (conv, batch-norm, relu, pool, linear) built from the engine's ops.
private final class TinyCNN {
    let conv1 = randomVariable([16, 3, 3, 3], seed: 1, std: 0.3), bn1g = Variable(Tensor(shape: [16], repeating: 1), requiresGrad: true)
    let bn1b = Variable(Tensor(zeros: [16]), requiresGrad: true)
    let conv2 = randomVariable([32, 16, 3, 3], seed: 2, std: 0.1), bn2g = Variable(Tensor(shape: [32], repeating: 1), requiresGrad: true)
    let bn2b = Variable(Tensor(zeros: [32]), requiresGrad: true)
    let fcW = randomVariable([10, 128], seed: 3, std: 0.1), fcB = Variable(Tensor(zeros: [10]), requiresGrad: true)
    let stats1 = BatchNormStatistics(runningMean: Tensor(zeros: [16]), runningVar: Tensor(shape: [16], repeating: 1))
    let stats2 = BatchNormStatistics(runningMean: Tensor(zeros: [32]), runningVar: Tensor(shape: [32], repeating: 1))
    var parameters: [Variable] { [conv1, bn1g, bn1b, conv2, bn2g, bn2b, fcW, fcB] }
    /// Batch norm + ReLU as the fused op instead of the composition.
    let fused: Bool
    init(fused: Bool = false) { self.fused = fused }

    private func bnReLU(_ h: Variable, _ g: Variable, _ b: Variable, _ s: BatchNormStatistics, _ training: Bool) -> Variable {
        fused ? batchNorm2dReLU(h, gamma: g, beta: b, statistics: s, training: training)
            : relu(batchNorm2d(h, gamma: g, beta: b, statistics: s, training: training))
    }

    func forward(_ x: Variable, training: Bool) -> Variable {
        var h = conv2d(x, weight: conv1, padding: 1)
        h = bnReLU(h, bn1g, bn1b, stats1, training)
        h = maxPool2d(h, kernel: 2)                                   // 8×8 → 4×4
        h = conv2d(h, weight: conv2, padding: 1)
        h = bnReLU(h, bn2g, bn2b, stats2, training)
        h = avgPool2d(h, kernel: 2)                                   // 4×4 → 2×2
        return linear(flatten(h), weight: fcW, bias: fcB)
    }
}

/// Heavy-ball SGD written out here so the engine's tests do not depend on the Optim target.
private final class PlainSGD {
    let lr: Float, momentum: Float
    var buffers: [Tensor] = []
    init(lr: Float, momentum: Float) { self.lr = lr; self.momentum = momentum }
    func step(_ parameters: [Variable]) {
        if buffers.isEmpty { buffers = parameters.map { Tensor(zeros: $0.shape) } }
        for (p, b) in zip(parameters, buffers) {
            guard let g = p.grad else { continue }
            for i in 0..<p.count {
                b[i] = momentum * b[i] + g[i]
                p.value[i] -= lr * b[i]
            }
            p.zeroGrad()
        }
    }
}

final class TrainingTests: XCTestCase {
    private let images: Tensor = {
        var rng = RandomGenerator(seed: 100)
        let t = Tensor(uninitializedShape: [64, 3, 8, 8])
        rng.fillNormal(t)
        return t
    }()
    private let labels: [Int32] = {
        var rng = RandomGenerator(seed: 101)
        return (0..<64).map { _ in Int32(rng.nextInt(below: 10)) }
    }()

    private func trainStep(_ model: TinyCNN, _ sgd: PlainSGD) -> Float {
        let tape = Tape()
        let loss = tape.record { crossEntropy(model.forward(Variable(images), training: true), labels: labels) }
        tape.backward(from: loss)
        sgd.step(model.parameters)
        return loss.value.scalarValue
    }

    private func accuracy(_ model: TinyCNN) -> Double {
        let logits = model.forward(Variable(images), training: false).value
        var correct = 0
        for r in 0..<64 {
            let row = (0..<10).map { logits[r * 10 + $0] }
            if row.firstIndex(of: row.max()!) == Int(labels[r]) { correct += 1 }
        }
        return Double(correct) / 64
    }

    func testSmallCNNFitsAFixedBatchToFullAccuracy() {
        let model = TinyCNN(), sgd = PlainSGD(lr: 0.05, momentum: 0.9)
        var losses: [Float] = []
        for _ in 0..<300 {
            losses.append(trainStep(model, sgd))
            if losses.count % 25 == 0 && accuracy(model) == 1 { break }
        }
        XCTAssertEqual(accuracy(model), 1, "training accuracy after \(losses.count) steps; losses \(losses.first!) → \(losses.last!)")
        XCTAssertLessThan(losses.last!, losses.first! / 2, "the training loss should at least halve")
    }

    /// The fused batch norm + ReLU trains exactly like the composition of the primitive ops.
    func testFusedBatchNormReLUTrainsLikeTheComposition() {
        let composed = TinyCNN(), fused = TinyCNN(fused: true)
        let sgdComposed = PlainSGD(lr: 0.05, momentum: 0.9), sgdFused = PlainSGD(lr: 0.05, momentum: 0.9)
        for step in 0..<30 {
            let a = trainStep(composed, sgdComposed), b = trainStep(fused, sgdFused)
            XCTAssertEqual(b, a, accuracy: 1e-4 * abs(a), "loss at step \(step)")
        }
        XCTAssertEqual(accuracy(fused), accuracy(composed))
        for (a, b) in zip(composed.stats2.runningVar.array, fused.stats2.runningVar.array) { XCTAssertEqual(b, a, accuracy: 1e-4 * abs(a)) }
    }

    func testMemoryStaysFlatOverFiftySteps() {
        for fused in [false, true] { checkMemoryStaysFlat(TinyCNN(fused: fused)) }
    }

    private func checkMemoryStaysFlat(_ model: TinyCNN) {
        let sgd = PlainSGD(lr: 0.01, momentum: 0.9)
        for _ in 0..<2 { _ = trainStep(model, sgd) }
        let pooledAfterWarmUp = BufferPool.shared.reservedFloats
        let residentAfterWarmUp = residentBytes()
        for _ in 0..<50 { _ = trainStep(model, sgd) }
        XCTAssertEqual(BufferPool.shared.reservedFloats, pooledAfterWarmUp, "tensor memory grew over 50 steps")
        let growth = residentBytes() - residentAfterWarmUp
        XCTAssertLessThan(growth, 4 << 20, "resident memory grew by \(growth) bytes over 50 steps")
    }

    private func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        return (Int(fields[1]) ?? 0) * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}

import Engine
import NN
import XCTest

/// The gradients `model grad` reports for tiny configurations of every architecture, compared
/// with central finite differences of the loss.
///
/// For each checked parameter tensor W with reported gradient g, the derivative of the loss along
/// d = g/‖g‖ must equal ‖g‖: (L(W + h·d) − L(W − h·d)) / 2h ≈ ‖g‖. This fails if g is wrong in
/// scale, sign or direction. A second check along one random ±1 direction over *all* parameters
/// catches gradient that is missing altogether. h is small (1e-4) because ReLU kinks crossed by
/// the perturbation bias larger steps; the float32 loss then limits the accuracy to about 1e-3.
/// Dropout masks are the same in every evaluation (same generator).
final class GradientCheckTests: XCTestCase {
    /// Each mismatch as a message; empty when all agree. `checked` picks the tensors to check
    /// one by one (all by default).
    private func mismatches(_ configuration: ModelConfiguration, batch: GradientBatch, training: Bool,
                            checked: (String) -> Bool = { _ in true }, randomCheck: Bool = true,
                            h: Float = 1e-4, rtol: Double = 1e-2, atol: Double = 2e-3) throws -> [String] {
        let model = try ModelZoo.make(configuration, seed: 17)
        let generator = RandomGenerator(seed: 23)
        let report = try GradientReport.compute(model: model, batch: batch, training: training, generator: generator)
        let parameters = model.module.namedParameters
        XCTAssertEqual(report.gradients.map(\.0), parameters.map(\.0))
        let gradients = report.gradients.map { $0.1.array }

        /// (L(θ + h·d) − L(θ − h·d)) / 2h for a direction given per parameter tensor (nil: unchanged).
        func numericDerivative(_ direction: [[Float]?]) throws -> Double {
            let saved = parameters.map { $0.1.value.copy() }
            defer { for ((_, p), s) in zip(parameters, saved) { p.value.assign(s) } }
            func lossAt(_ step: Float) throws -> Double {
                for (((_, p), s), d) in zip(zip(parameters, saved), direction) {
                    guard let d else { continue }
                    for i in 0..<p.count { p.value[i] = s[i] + step * d[i] }
                }
                return try GradientReport.loss(model: model, batch: batch, training: training, generator: generator)
            }
            return (try lossAt(h) - lossAt(-h)) / (2 * Double(h))
        }

        var failures: [String] = []
        var worst = 0.0
        func compare(_ what: String, analytic: Double, numeric: Double) {
            let tolerance = rtol * max(abs(analytic), abs(numeric)) + atol
            worst = max(worst, abs(analytic - numeric) / tolerance)
            if abs(analytic - numeric) > tolerance {
                failures.append("\(configuration.name) \(what): analytic \(analytic), finite difference \(numeric)")
            }
        }
        for (index, (name, _)) in parameters.enumerated() where checked(name) {
            let g = gradients[index]
            let norm = g.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
            guard norm > 0 else { continue }
            var direction = [[Float]?](repeating: nil, count: parameters.count)
            direction[index] = g.map { Float(Double($0) / norm) }
            compare(name, analytic: norm, numeric: try numericDerivative(direction))
        }
        guard randomCheck else { return failures }
        var rng = RandomGenerator(seed: 31)
        let total = Double(parameters.reduce(0) { $0 + $1.1.count })
        let random: [[Float]?] = parameters.map { _, p in (0..<p.count).map { _ in Float((rng.bernoulli(0.5) ? 1 : -1) / total.squareRoot()) } }
        let analytic = zip(gradients, random).reduce(0.0) { sum, pair in
            sum + zip(pair.0, pair.1!).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        }
        compare("all parameters (random direction)", analytic: analytic, numeric: try numericDerivative(random))
        print("\(configuration.name), training \(training): worst error / tolerance = \(worst)")
        return failures
    }

    private func images(_ n: Int, classes: Int, size: Int = 32) -> GradientBatch {
        var rng = RandomGenerator(seed: 3)
        let x = Tensor(uninitializedShape: [n, 3, size, size])
        rng.fillNormal(x)
        return .images(x, labels: (0..<n).map { _ in Int32(rng.nextInt(below: classes)) })
    }

    func testResNetGradientsMatchFiniteDifferences() throws {
        let failures = try mismatches(ModelConfiguration(name: "resnet-tiny", classes: 5), batch: images(2, classes: 5), training: true)
        for f in failures.prefix(5) { XCTFail(f) }
    }

    func testVGGGradientsMatchFiniteDifferences() throws {
        let failures = try mismatches(ModelConfiguration(name: "vgg-tiny", classes: 5), batch: images(3, classes: 5), training: true)
        for f in failures.prefix(5) { XCTFail(f) }
    }

    func testDenseNetGradientsMatchFiniteDifferences() throws {
        let failures = try mismatches(ModelConfiguration(name: "densenet-tiny", classes: 5), batch: images(2, classes: 5), training: true)
        for f in failures.prefix(5) { XCTFail(f) }
    }

    func testGoogLeNetGradientsMatchFiniteDifferences() throws {
        // Global average pooling lets GoogLeNet run on 16×16 images. In evaluation mode every
        // tensor is checked (with the eps quirk on, the default).
        let failures = try mismatches(ModelConfiguration(name: "googlenet-tiny", classes: 5), batch: images(2, classes: 5, size: 16),
                                      training: false)
        for f in failures.prefix(5) { XCTFail(f) }
    }

    func testGoogLeNetHeadGradientsMatchFiniteDifferencesWithDropout() throws {
        // In training mode the tiny GoogLeNet (1–3 channels in some branches, 4×4 maps at the end)
        // has batch-norm channels of tiny batch variance, which make the loss too ill-conditioned
        // for finite differences deep inside; the head (b5, dropout with a fixed mask, linear) is
        // well conditioned. Training-mode batch-norm itself is checked through ResNet, VGG and DenseNet.
        let failures = try mismatches(ModelConfiguration(name: "googlenet-tiny", classes: 5), batch: images(2, classes: 5, size: 16),
                                      training: true, checked: { $0.hasPrefix("b5.") || $0.hasPrefix("linear.") },
                                      randomCheck: false)
        for f in failures.prefix(5) { XCTFail(f) }
    }

    func testEvaluationModeGradientsMatchFiniteDifferences() throws {
        let failures = try mismatches(ModelConfiguration(name: "resnet-tiny", classes: 5), batch: images(2, classes: 5), training: false)
        for f in failures.prefix(5) { XCTFail(f) }
    }

    func testLSTMGradientsMatchFiniteDifferencesWithDropout() throws {
        var rng = RandomGenerator(seed: 4)
        let (steps, batch, vocabulary) = (5, 3, 23)
        let tokens = (0..<(steps + 1) * batch).map { _ in Int32(rng.nextInt(below: vocabulary)) }
        let windows = GradientBatch.tokens(inputs: Array(tokens.prefix(steps * batch)), targets: Array(tokens.suffix(steps * batch)),
                                           steps: steps, batch: batch)
        for tied in [false, true] {
            let configuration = ModelConfiguration(name: "lstm-tiny", vocabulary: vocabulary, dropout: 0.3, tiedWeights: tied)
            let failures = try mismatches(configuration, batch: windows, training: true)
            for f in failures.prefix(5) { XCTFail("tied \(tied): " + f) }
        }
    }
}

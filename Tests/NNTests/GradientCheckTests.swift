import Engine
import NN
import TestSupport
import XCTest

/// The gradients `model grad` reports for tiny configurations of every architecture, compared
/// with finite differences of the loss.
///
/// For each checked parameter tensor W with reported gradient g, the derivative of the loss along
/// d = g/‖g‖ must equal ‖g‖. This fails if g is wrong in scale or sign (a direction error shows
/// up only at second order here). A second check along one random ±1 direction over *all*
/// parameters catches a gradient that is wrong in direction or missing. The loss is a float32
/// computation (GradientReport.loss sums the float32 logits in double precision), so each
/// directional derivative is judged by the error model of `FiniteDifference` (TestSupport): the
/// evaluations at θ + j·h·d, j = −2…2, measure the rounding noise (which depends on the OpenBLAS kernels of
/// the CPU) and the effect of ReLU kinks crossed; the slope must agree within 1% plus six standard
/// deviations of that noise, pooled over the model's tensors and at least one float32 rounding of
/// the loss. h = 1e-4 keeps kinks rare; the noise it amplifies is measured, not assumed.
///
/// Gradients that are zero in exact arithmetic are checked against zero instead: the bias of a
/// convolution that feeds batch norm in training mode (batch norm subtracts each channel's batch
/// mean, so a constant shift of the channel changes nothing). In float32 the backward computes it
/// as a sum of N·H·W terms that cancel, leaving rounding of about 2⁻²⁴·√(N·H·W) of their size —
/// below 1e-6 of the model's gradient scale for these tiny models (measured: 6.5e-8 to 6.9e-7
/// against tensor norms of about 5). The check allows `exactZeroBound` = 1e-5 of the largest tensor
/// gradient norm, and the finite difference along a random direction must be zero within its noise.
/// Dropout masks are the same in every evaluation (same generator).
final class GradientCheckTests: XCTestCase {
    /// |analytic| allowed for an exactly-zero gradient, relative to the largest tensor gradient norm.
    static let exactZeroBound = 1e-5

    /// Names of the parameters whose gradient is exactly zero: `P.k.bias` of a layer followed by a
    /// batch norm `P.(k+1)` (found by its running mean), in training mode only.
    static func exactlyZeroGradients(_ model: Model, training: Bool) -> Set<String> {
        guard training else { return [] }
        let buffers = Set(model.module.namedBuffers.map(\.0))
        var names: Set<String> = []
        for (name, _) in model.module.namedParameters where name.hasSuffix(".bias") {
            let parts = name.split(separator: ".").map(String.init)
            guard parts.count >= 3, let k = Int(parts[parts.count - 2]) else { continue }
            let next = (parts.dropLast(2) + [String(k + 1), "running_mean"]).joined(separator: ".")
            if buffers.contains(next) { names.insert(name) }
        }
        return names
    }

    /// Each mismatch as a message; empty when all agree. `checked` picks the tensors to check
    /// one by one (all by default). `distort` may change the reported gradients before they are
    /// checked (to show that the check catches a wrong backward).
    private func mismatches(_ configuration: ModelConfiguration, batch: GradientBatch, training: Bool,
                            checked: (String) -> Bool = { _ in true }, randomCheck: Bool = true,
                            distort: ((String, inout [Float]) -> Void)? = nil,
                            h: Float = 1e-4) throws -> [String] {
        let model = try ModelZoo.make(configuration, seed: 17)
        let generator = RandomGenerator(seed: 23)
        let report = try GradientReport.compute(model: model, batch: batch, training: training, generator: generator)
        let parameters = model.module.namedParameters
        XCTAssertEqual(report.gradients.map(\.0), parameters.map(\.0))
        let gradients = report.gradients.map { name, g in
            var values = g.array
            distort?(name, &values)
            return values
        }
        let exactZero = Self.exactlyZeroGradients(model, training: training)
        let step = Double(h)

        let baseLoss = try GradientReport.loss(model: model, batch: batch, training: training, generator: generator)
        /// The estimate of the derivative along a direction given per parameter tensor (nil: unchanged).
        func directional(_ direction: [[Float]?]) throws -> FiniteDifference.Estimate {
            let saved = parameters.map { $0.1.value.copy() }
            defer { for ((_, p), s) in zip(parameters, saved) { p.value.assign(s) } }
            let values = try FiniteDifference.offsets.map { j -> Double in
                guard j != 0 else { return baseLoss }
                for (((_, p), s), d) in zip(zip(parameters, saved), direction) {
                    guard let d else { continue }
                    for i in 0..<p.count { p.value[i] = s[i] + Float(j) * h * d[i] }
                }
                return try GradientReport.loss(model: model, batch: batch, training: training, generator: generator)
            }
            return FiniteDifference.estimate(values: values, step: step)
        }
        var rng = RandomGenerator(seed: 31)
        func randomDirection(_ count: Int) -> [Float] {
            (0..<count).map { _ in Float((rng.bernoulli(0.5) ? 1 : -1) / Double(count).squareRoot()) }
        }
        func norm(_ g: [Float]) -> Double { g.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot() }

        // Every directional derivative first, so that the noise can be pooled over all of them.
        struct Check { let what: String; let analytic: Double; let estimate: FiniteDifference.Estimate; let zero: Bool }
        var checks: [Check] = []
        for (index, (name, p)) in parameters.enumerated() where checked(name) {
            let g = gradients[index]
            var direction = [[Float]?](repeating: nil, count: parameters.count)
            let length = norm(g)
            let zero = exactZero.contains(name)
            if zero || length == 0 {
                // Along a random direction: the derivative there must be the analytic one (zero, or a
                // missing gradient shows up as a mismatch).
                let d = randomDirection(p.count)
                direction[index] = d
                let analytic = zip(g, d).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
                checks.append(Check(what: name, analytic: analytic, estimate: try directional(direction), zero: zero))
            } else {
                direction[index] = g.map { Float(Double($0) / length) }
                checks.append(Check(what: name, analytic: length, estimate: try directional(direction), zero: false))
            }
        }
        if randomCheck {
            let total = parameters.reduce(0) { $0 + $1.1.count }
            let flat = randomDirection(total)
            var offset = 0
            let random: [[Float]?] = parameters.map { _, p in
                defer { offset += p.count }
                return Array(flat[offset..<(offset + p.count)])
            }
            let analytic = zip(gradients, random).reduce(0.0) { sum, pair in
                sum + zip(pair.0, pair.1!).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            }
            checks.append(Check(what: "all parameters (random direction)", analytic: analytic, estimate: try directional(random), zero: false))
        }

        let pooled = max(FiniteDifference.pooledNoise(checks.map(\.estimate)),
                         FiniteDifference.noiseFloor(terms: [abs(baseLoss)]))
        let scale = parameters.indices.map { norm(gradients[$0]) }.max() ?? 0
        var failures: [String] = []
        var worst = 0.0
        for check in checks {
            if check.zero {
                let g = gradients[parameters.firstIndex { $0.0 == check.what }!]
                let largest = g.map { abs(Double($0)) }.max() ?? 0
                let bound = Self.exactZeroBound * scale
                worst = max(worst, largest / bound)
                if largest > bound {
                    failures.append("\(configuration.name) \(check.what): gradient should be exactly zero (a bias feeding batch norm), "
                                    + "largest element \(largest) > \(bound)")
                }
            }
            let tolerance = FiniteDifference.tolerance(analytic: check.analytic, estimate: check.estimate,
                                                       noise: max(check.estimate.noise, pooled), step: step)
            let error = abs(check.analytic - check.estimate.slope)
            worst = max(worst, error / tolerance)
            if error > tolerance {
                failures.append("\(configuration.name) \(check.what): analytic \(check.analytic), finite difference "
                                + "\(check.estimate.slope) (tolerance \(tolerance))")
            }
        }
        let summary = "\(configuration.name), training \(training): \(checks.count) directions, \(exactZero.count) exact zeros, "
            + "noise \(FiniteDifference.slopeNoise(pooled, step: step))"
        // A distorted run is meant to fail; its ratio is not a margin of the suite.
        print(distort == nil ? summary + ", worst error / tolerance = \(worst)" : summary + ", distorted: worst ratio \(worst)")
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

    /// The check catches a wrong backward at these tolerances: one tensor's gradient 5% too large,
    /// the sign of a batch-norm bias's largest element flipped, a gradient missing altogether, and a nonzero gradient
    /// where exact arithmetic gives zero; the undistorted gradients pass (the VGG test above).
    func testCheckCatchesWrongGradients() throws {
        let configuration = ModelConfiguration(name: "vgg-tiny", classes: 5)
        let batch = images(3, classes: 5)
        let scaled = try mismatches(configuration, batch: batch, training: true, randomCheck: false, distort: { name, g in
            if name == "features.4.weight" { for i in g.indices { g[i] *= 1.05 } }
        })
        XCTAssertEqual(scaled.count, 1, "\(scaled)")
        XCTAssertTrue(scaled.first?.contains("features.4.weight") ?? false, "\(scaled)")

        let flipped = try mismatches(configuration, batch: batch, training: true, distort: { name, g in
            guard name == "features.5.bias", let largest = g.indices.max(by: { abs(g[$0]) < abs(g[$1]) }) else { return }
            g[largest] = -g[largest]
        })
        XCTAssertTrue(flipped.contains { $0.contains("features.5.bias") || $0.contains("random direction") }, "\(flipped)")

        let missing = try mismatches(configuration, batch: batch, training: true, distort: { name, g in
            if name == "classifier.bias" { for i in g.indices { g[i] = 0 } }
        })
        XCTAssertTrue(missing.contains { $0.contains("classifier.bias") }, "\(missing)")

        let notZero = try mismatches(configuration, batch: batch, training: true, randomCheck: false, distort: { name, g in
            if name == "features.0.bias" { g[1] += 1e-3 }
        })
        XCTAssertTrue(notZero.contains { $0.contains("features.0.bias: gradient should be exactly zero") }, "\(notZero)")
    }

    /// Which parameters are exactly zero: VGG's convolution biases (each conv is followed by batch
    /// norm), nothing in evaluation mode, nothing in ResNet (its convolutions have no bias).
    func testExactlyZeroGradientsAreTheBiasesFeedingBatchNorm() throws {
        let vgg = try ModelZoo.make(ModelConfiguration(name: "vgg-tiny", classes: 5), seed: 17)
        let zero = Self.exactlyZeroGradients(vgg, training: true)
        let convolutionBiases = vgg.module.namedParameters.map(\.0).filter { name in
            name.hasSuffix(".bias") && vgg.module.namedParameters.contains { $0.0 == name.dropLast(4) + "weight" && $0.1.shape.count == 4 }
        }
        XCTAssertFalse(convolutionBiases.isEmpty)
        XCTAssertEqual(zero, Set(convolutionBiases))
        XCTAssertEqual(Self.exactlyZeroGradients(vgg, training: false), [])
        let resnet = try ModelZoo.make(ModelConfiguration(name: "resnet-tiny", classes: 5), seed: 17)
        XCTAssertEqual(Self.exactlyZeroGradients(resnet, training: true), [])
    }
}

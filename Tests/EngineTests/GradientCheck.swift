import Engine
import TestSupport
import XCTest

/// Checks the analytic gradients of `f` with respect to `inputs` against finite differences.
///
/// The scalar checked is L = Σ f(inputs) ⊙ R for a fixed random R, so every output element
/// contributes with its own weight; L is accumulated in Float64 from the float32 outputs. For each
/// checked element L is evaluated at x + j·h, j = −2…2, and judged by the error model of
/// `FiniteDifference` (TestSupport): the slope must match the analytic value within 1% plus six
/// standard deviations of the rounding noise measured in those evaluations (pooled over every
/// checked element, and at least one float32 rounding of each term of L). h = 5e-3 keeps the
/// stencil (±0.01) well inside the gaps of `kinkFreeVariable`, so ReLU and max-pool kinks are not
/// crossed. Up to `maxChecks` elements per input are checked (all of them for small inputs). The
/// largest error / tolerance ratio is printed, so that `scripts/test-kernels.sh` can show the margin
/// on every kernel family.
func checkGradients(
    _ inputs: [Variable], h: Float = 5e-3, maxChecks: Int = 200,
    file: StaticString = #filePath, line: UInt = #line, _ f: () -> Variable
) {
    let mismatches = gradientMismatches(inputs, h: h, maxChecks: maxChecks, file: file, line: line, f)
    for message in mismatches.prefix(5) { XCTFail(message, file: file, line: line) }
}

/// The elements whose analytic and numeric gradients disagree, as messages (empty when all agree).
/// `reportMargin: false` for checks meant to fail (they would show as the suite's worst margin).
func gradientMismatches(
    _ inputs: [Variable], h: Float = 5e-3, maxChecks: Int = 200, reportMargin: Bool = true,
    file: StaticString = #filePath, line: UInt = #line, _ f: () -> Variable
) -> [String] {
    var messages: [String] = []
    // Analytic gradients.
    for x in inputs { x.zeroGrad() }
    var rng = RandomGenerator(seed: 99)
    let probeOutput = Tape.withoutGradients { f() }
    let weights = Tensor(uninitializedShape: probeOutput.shape)
    rng.fillUniform(weights, -1, 1)
    let tape = Tape()
    let loss = tape.record { sum(mul(f(), Variable(weights))) }
    tape.backward(from: loss)

    /// L and the magnitudes of its terms.
    func evaluate() -> (value: Double, terms: [Double]) {
        let out = Tape.withoutGradients { f() }
        var s = 0.0
        var terms: [Double] = []
        terms.reserveCapacity(out.count)
        for i in 0..<out.count {
            let term = Double(out.value[i]) * Double(weights[i])
            s += term
            terms.append(abs(term))
        }
        return (s, terms)
    }

    let step = Double(h)
    let (center, centerTerms) = evaluate()
    let floor = FiniteDifference.noiseFloor(terms: centerTerms)
    var checks: [(input: Int, element: Int, analytic: Double, estimate: FiniteDifference.Estimate)] = []
    for (n, x) in inputs.enumerated() {
        guard let analytic = x.grad else {
            messages.append("input \(n) received no gradient")
            continue
        }
        var indices = Array(0..<x.count)
        if indices.count > maxChecks {
            var pick = RandomGenerator(seed: UInt64(n + 1))
            pick.shuffle(&indices)
            indices = Array(indices.prefix(maxChecks))
        }
        for i in indices {
            let original = x.value[i]
            let values = FiniteDifference.offsets.map { j -> Double in
                guard j != 0 else { return center }
                x.value[i] = original + Float(j) * h
                return evaluate().value
            }
            x.value[i] = original
            checks.append((n, i, Double(analytic[i]), FiniteDifference.estimate(values: values, step: step)))
        }
    }
    let pooled = max(FiniteDifference.pooledNoise(checks.map(\.estimate)), floor)
    var worst = 0.0
    for check in checks {
        let estimate = check.estimate
        let tolerance = FiniteDifference.tolerance(analytic: check.analytic, estimate: estimate,
                                                   noise: max(estimate.noise, pooled), step: step)
        let error = abs(check.analytic - estimate.slope)
        worst = max(worst, error / tolerance)
        if error > tolerance {
            messages.append("input \(check.input) \(inputs[check.input].shape) element \(check.element): analytic \(check.analytic), "
                            + "numeric \(estimate.slope) (tolerance \(tolerance))")
        }
    }
    if reportMargin {
        let place = "\(file)".split(separator: "/").last.map(String.init) ?? "\(file)"
        print("gradient check \(place):\(line): worst error / tolerance = \(worst)")
    }
    return messages
}

/// A parameter-like variable filled from a seeded normal distribution.
func randomVariable(_ shape: [Int], seed: UInt64, std: Float = 1) -> Variable {
    var rng = RandomGenerator(seed: seed)
    let t = Tensor(uninitializedShape: shape)
    rng.fillNormal(t, std: std)
    return Variable(t, requiresGrad: true)
}

/// Values whose pairwise gaps and distance from zero exceed 2h, so relu and max-pool have no
/// kink inside a finite-difference step: a shuffled grid ±(0.05, 0.10, 0.15, …).
func kinkFreeVariable(_ shape: [Int], seed: UInt64) -> Variable {
    let n = shape.reduce(1, *)
    var values = (0..<n).map { i -> Float in (Float(i / 2) + 1) * 0.05 * (i % 2 == 0 ? 1 : -1) }
    var rng = RandomGenerator(seed: seed)
    rng.shuffle(&values)
    return Variable(Tensor(shape: shape, values: values), requiresGrad: true)
}

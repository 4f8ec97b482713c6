import Engine
import XCTest

/// Checks the analytic gradients of `f` with respect to `inputs` against central finite differences.
///
/// The scalar checked is L = Σ f(inputs) ⊙ R for a fixed random R, so every output element
/// contributes with its own weight. L is accumulated in Float64; with h = 1e-2 and inputs of
/// order one, the truncation error is O(h²) ≈ 1e-4 relative and the float32 rounding error of
/// the forward pass is far below that, so each element must satisfy
/// |analytic − numeric| ≤ rtol·|numeric| + atol·max|numeric|. Up to `maxChecks` elements per
/// input are checked (all of them for small inputs).
func checkGradients(
    _ inputs: [Variable], h: Float = 1e-2, rtol: Double = 2e-2, atol: Double = 5e-3, maxChecks: Int = 200,
    file: StaticString = #filePath, line: UInt = #line, _ f: () -> Variable
) {
    let mismatches = gradientMismatches(inputs, h: h, rtol: rtol, atol: atol, maxChecks: maxChecks, f)
    for message in mismatches.prefix(5) { XCTFail(message, file: file, line: line) }
}

/// The elements whose analytic and numeric gradients disagree, as messages (empty when all agree).
func gradientMismatches(
    _ inputs: [Variable], h: Float = 1e-2, rtol: Double = 2e-2, atol: Double = 5e-3, maxChecks: Int = 200,
    _ f: () -> Variable
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

    func evaluate() -> Double {
        let out = Tape.withoutGradients { f() }
        var s = 0.0
        for i in 0..<out.count { s += Double(out.value[i]) * Double(weights[i]) }
        return s
    }

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
        var numeric: [Double] = []
        for i in indices {
            let original = x.value[i]
            x.value[i] = original + h
            let plus = evaluate()
            x.value[i] = original - h
            let minus = evaluate()
            x.value[i] = original
            numeric.append((plus - minus) / (2 * Double(h)))
        }
        let scale = max(numeric.map { abs($0) }.max() ?? 0, 1e-6)
        for (k, i) in indices.enumerated() {
            let a = Double(analytic[i]), num = numeric[k]
            if abs(a - num) > rtol * abs(num) + atol * scale {
                messages.append("input \(n) \(x.shape) element \(i): analytic \(a), numeric \(num)")
            }
        }
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

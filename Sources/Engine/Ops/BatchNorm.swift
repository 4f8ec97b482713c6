import Foundation

// Batch normalisation over the channels of an NCHW tensor, with PyTorch semantics.

/// Running statistics of a batch-norm layer, updated in place during training.
public struct BatchNormStatistics {
    public let runningMean: Tensor
    public let runningVar: Tensor
    public init(runningMean: Tensor, runningVar: Tensor) {
        self.runningMean = runningMean
        self.runningVar = runningVar
    }
}

/// Training: normalise with the batch mean and biased variance, and move the running
/// statistics towards the batch's (mean, and *unbiased* variance) by `momentum`.
/// Evaluation: normalise with the running statistics.
/// y = (x − μ) / √(σ² + eps) · gamma + beta; x [N,C,H,W], gamma and beta [C].
public func batchNorm2d(
    _ x: Variable, gamma: Variable, beta: Variable, statistics: BatchNormStatistics,
    training: Bool, momentum: Float = 0.1, eps: Float = 1e-5
) -> Variable {
    Profiler.measure(.batchNorm) {
        precondition(x.shape.count == 4, "batchNorm2d expects [N,C,H,W], got \(x.shape)")
        let (n, c, plane) = (x.shape[0], x.shape[1], x.shape[2] * x.shape[3])
        precondition(gamma.shape == [c] && beta.shape == [c], "batchNorm2d: \(c) channels but gamma \(gamma.shape), beta \(beta.shape)")
        let count = n * plane
        if training { precondition(count > 1, "batchNorm2d: training needs more than one value per channel, got input \(x.shape)") }
        let y = Tensor(uninitializedShape: x.shape)
        let meanT = Tensor(uninitializedShape: [c]), invStdT = Tensor(uninitializedShape: [c])
        let px = x.value.data, py = y.data, pm = meanT.data, pinv = invStdT.data
        let pg = gamma.value.data, pb = beta.value.data
        let rm = statistics.runningMean.data, rv = statistics.runningVar.data
        Parallel.forEach(c, cost: count) { ch in
            var mu: Double, variance: Double
            if training {
                var s = 0.0
                for i in 0..<n { let src = px + (i * c + ch) * plane; for p in 0..<plane { s += Double(src[p]) } }
                mu = s / Double(count)
                var ss = 0.0
                for i in 0..<n {
                    let src = px + (i * c + ch) * plane
                    for p in 0..<plane { let d = Double(src[p]) - mu; ss += d * d }
                }
                variance = ss / Double(count)
                let unbiased = ss / Double(count - 1)
                rm[ch] = (1 - momentum) * rm[ch] + momentum * Float(mu)
                rv[ch] = (1 - momentum) * rv[ch] + momentum * Float(unbiased)
            } else {
                mu = Double(rm[ch])
                variance = Double(rv[ch])
            }
            let inv = Float(1 / (variance + Double(eps)).squareRoot())
            pm[ch] = Float(mu)
            pinv[ch] = inv
            // (x − μ)·(inv·γ) + β: subtracting the mean first keeps precision when |μ| ≫ σ.
            let scale = inv * pg[ch], shift = pb[ch], m = Float(mu)
            for i in 0..<n {
                let src = px + (i * c + ch) * plane, dst = py + (i * c + ch) * plane
                for p in 0..<plane { dst[p] = (src[p] - m) * scale + shift }
            }
        }
        let xv = x.value, gv = gamma.value
        return Tape.result(y, inputs: [x, gamma, beta], category: .batchNorm) { g in
            // x̂ = (x − μ)·inv. dgamma = Σ dy·x̂, dbeta = Σ dy.
            // Training: dx = gamma·inv/m · (m·dy − Σdy − x̂·Σ(dy·x̂)); evaluation: dx = gamma·inv·dy.
            let dx: Tensor? = x.requiresGrad ? Tensor(uninitializedShape: x.shape) : nil
            let dgamma = gamma.requiresGrad ? gamma.gradBuffer().data : nil
            let dbeta = beta.requiresGrad ? beta.gradBuffer().data : nil
            let px = xv.data, pgr = g.data, pgam = gv.data
            let pm = meanT.data, pinv = invStdT.data  // the saved statistics (captured tensors keep them alive)
            Parallel.forEach(c, cost: count) { ch in
                let mu = pm[ch], inv = pinv[ch]
                var sumDy = 0.0, sumDyXhat = 0.0
                for i in 0..<n {
                    let src = px + (i * c + ch) * plane, gr = pgr + (i * c + ch) * plane
                    for p in 0..<plane {
                        sumDy += Double(gr[p])
                        sumDyXhat += Double(gr[p]) * Double((src[p] - mu) * inv)
                    }
                }
                dgamma?[ch] += Float(sumDyXhat)
                dbeta?[ch] += Float(sumDy)
                guard let dx else { return }
                let pd = dx.data
                if training {
                    let k = pgam[ch] * inv / Float(count)
                    let a = Float(sumDy), b = Float(sumDyXhat), m = Float(count)
                    for i in 0..<n {
                        let src = px + (i * c + ch) * plane, gr = pgr + (i * c + ch) * plane, d = pd + (i * c + ch) * plane
                        for p in 0..<plane { d[p] = k * (m * gr[p] - a - (src[p] - mu) * inv * b) }
                    }
                } else {
                    let k = pgam[ch] * inv
                    for i in 0..<n {
                        let gr = pgr + (i * c + ch) * plane, d = pd + (i * c + ch) * plane
                        for p in 0..<plane { d[p] = k * gr[p] }
                    }
                }
            }
            if let dx { x.accumulateGrad(dx, owned: true) }
        }
    }
}

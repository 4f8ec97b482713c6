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

// MARK: - Fused batch norm + (residual add) + ReLU

/// relu(batchNorm2d(x) + residual), residual optional, in one op: the same results as composing
/// `batchNorm2d`, `add` and `relu` (same running-statistics update, ReLU gradient 0 at 0), but
///  - forward: one pass for the batch statistics and one for normalise + affine (+ add) + ReLU,
///    with no intermediate tensors;
///  - the tape keeps only x and the output y (the ReLU mask is y > 0) and two numbers per channel,
///    where the composition keeps the BN output and the sum as well;
///  - backward: two passes per channel, writing dx into the incoming gradient's buffer.
/// `residual` must have x's shape.
public func batchNorm2dReLU(
    _ x: Variable, gamma: Variable, beta: Variable, statistics: BatchNormStatistics,
    training: Bool, momentum: Float = 0.1, eps: Float = 1e-5, adding residual: Variable? = nil
) -> Variable {
    Profiler.measure(.batchNorm) {
        precondition(x.shape.count == 4, "batchNorm2dReLU expects [N,C,H,W], got \(x.shape)")
        let (n, c, plane) = (x.shape[0], x.shape[1], x.shape[2] * x.shape[3])
        precondition(gamma.shape == [c] && beta.shape == [c], "batchNorm2dReLU: \(c) channels but gamma \(gamma.shape), beta \(beta.shape)")
        if let residual { precondition(residual.shape == x.shape, "batchNorm2dReLU: residual \(residual.shape) for input \(x.shape)") }
        let count = n * plane
        if training { precondition(count > 1, "batchNorm2dReLU: training needs more than one value per channel, got input \(x.shape)") }
        let y = Tensor(uninitializedShape: x.shape)
        let meanT = Tensor(uninitializedShape: [c]), invStdT = Tensor(uninitializedShape: [c])
        let px = x.value.data, py = y.data, pr = residual?.value.data, pm = meanT.data, pinv = invStdT.data
        let pg = gamma.value.data, pb = beta.value.data
        let rm = statistics.runningMean.data, rv = statistics.runningVar.data
        // y = max((x − μ)·(inv·γ) + β (+ r), 0) over the plane at offset o, of channel ch.
        func normalize(_ o: Int, _ ch: Int) {
            BatchNormKernels.normalizeReLU(px + o, residual: pr.map { $0 + o }, into: py + o, count: plane,
                                           mean: pm[ch], scale: pinv[ch] * pg[ch], shift: pb[ch])
        }
        // Channel ch's mean and inverse standard deviation, and its running statistics, from
        // s1 = Σ(x − k) and s2 = Σ(x − k)² for a shift k near the mean (so that Σ(x−k)²/m − (Σ(x−k)/m)²
        // does not cancel).
        func setStatistics(_ ch: Int, shift k: Float, _ s1: Double, _ s2: Double) {
            let d = s1 / Double(count)
            let mu = Double(k) + d
            let ss = max(s2 - s1 * d, 0)  // Σ(x − μ)²
            rm[ch] = (1 - momentum) * rm[ch] + momentum * Float(mu)
            rv[ch] = (1 - momentum) * rv[ch] + momentum * Float(ss / Double(count - 1))
            pm[ch] = Float(mu)
            pinv[ch] = Float(1 / (ss / Double(count) + Double(eps)).squareRoot())
        }
        let stride = c * plane
        // Evaluation: the statistics are known, so y is written in memory order (image by image, each
        // image's channels one after the other), not channel by channel across the batch, whose small
        // planes (4×4 and 8×8 in the CIFAR models' last stages) are scattered a whole image apart.
        if !training {
            for ch in 0..<c {
                pm[ch] = rm[ch]
                pinv[ch] = Float(1 / (Double(rv[ch]) + Double(eps)).squareRoot())
            }
            Parallel.forChunks(n * c, grain: max(1, 16_384 / plane)) { rows in
                for row in rows { normalize(row * plane, row % c) }
            }
        } else if plane <= BatchNormKernels.smallPlane {
            // Small planes: each thread takes a block of channels and walks it image by image, so that it
            // reads contiguous runs of (block × plane) floats instead of one short plane per image.
            Parallel.forChunks(c, grain: max(1, 16_384 / count)) { channels in
                let lo = channels.lowerBound
                withUnsafeTemporaryAllocation(of: Double.self, capacity: 2 * channels.count) { sums in
                    withUnsafeTemporaryAllocation(of: Float.self, capacity: channels.count) { shifts in
                        sums.initialize(repeating: 0)
                        for ch in channels { shifts[ch - lo] = BatchNormKernels.roughMean(px + ch * plane, min(plane, 64)) }
                        for i in 0..<n {
                            for ch in channels {
                                let (s1, s2) = BatchNormKernels.shiftedSums(px + i * stride + ch * plane, images: 1, stride: stride,
                                                                            plane: plane, shift: shifts[ch - lo])
                                sums[2 * (ch - lo)] += s1
                                sums[2 * (ch - lo) + 1] += s2
                            }
                        }
                        for ch in channels { setStatistics(ch, shift: shifts[ch - lo], sums[2 * (ch - lo)], sums[2 * (ch - lo) + 1]) }
                    }
                }
                for i in 0..<n {
                    for ch in channels { normalize(i * stride + ch * plane, ch) }
                }
            }
        } else {
            Parallel.forEach(c, cost: count) { ch in
                let first = px + ch * plane
                let k = BatchNormKernels.roughMean(first, min(plane, 64))
                let (s1, s2) = BatchNormKernels.shiftedSums(first, images: n, stride: stride, plane: plane, shift: k)
                setStatistics(ch, shift: k, s1, s2)
                // Normalised right after the sums, while the channel's values are still in cache.
                for i in 0..<n { normalize(i * stride + ch * plane, ch) }
            }
        }
        // Saved for backward: x's and y's values, the statistics and gamma. The residual's value is not
        // needed (its gradient is dz), so the closure holds only what `accumulateGrad` needs of it.
        let xv = x.value, gv = gamma.value
        let residualSink = residual.map(GradientSink.init)
        var inputs = [x, gamma, beta]
        if let residual { inputs.append(residual) }
        return Tape.result(y, inputs: inputs, category: .batchNorm) { g in
            // dz = g·[y > 0]. dgamma = Σ dz·x̂, dbeta = Σ dz, d(residual) = dz.
            // Training: dx = gamma·inv/m · (m·dz − Σdz − x̂·Σ(dz·x̂)); evaluation: dx = gamma·inv·dz.
            // The tape hands each op the only reference to its output gradient, so dz, then dx,
            // overwrite g: dz when the residual takes it, dx otherwise.
            let residualGrad = residualSink?.requiresGrad == true
            // When x already holds a gradient (DenseNet: the concatenation that also reads x runs its
            // backward first), dx is added straight into it: one pass instead of writing dx, then
            // reading it back to add. The sums come out as Kernels.addInPlace would make them.
            let existing = x.requiresGrad ? x.grad : nil, accumulate = existing != nil
            let dx: Tensor? = x.requiresGrad ? (existing ?? (residualGrad ? Tensor(uninitializedShape: x.shape) : g)) : nil
            let dgamma = gamma.requiresGrad ? gamma.gradBuffer().data : nil
            let dbeta = beta.requiresGrad ? beta.gradBuffer().data : nil
            let px = xv.data, py = y.data, pgr = g.data, pgam = gv.data, pm = meanT.data, pinv = invStdT.data
            // Per channel: the sums, dgamma and dbeta, and dx's coefficients (α, τ, δ) into `coefficients`.
            // Training: dx = α·dz − τ − (x − μ)·δ with α = γ·inv, τ = α·Σdz/m, δ = α·inv·Σ(dz·x̂)/m.
            // Evaluation: α = γ·inv, τ = δ = 0.
            func finish(_ ch: Int, sumDz: Double, sumDzXc: Double, _ coefficients: UnsafeMutablePointer<Float>) {
                let inv = pinv[ch]
                let sumDzXhat = sumDzXc * Double(inv)
                dgamma?[ch] += Float(sumDzXhat)
                dbeta?[ch] += Float(sumDz)
                let alpha = pgam[ch] * inv, mf = Float(count)
                coefficients[0] = alpha
                coefficients[1] = training ? alpha * Float(sumDz) / mf : 0
                coefficients[2] = training ? alpha * inv * Float(sumDzXhat) / mf : 0
            }
            func inputGradient(_ i: Int, _ ch: Int, _ pd: UnsafeMutablePointer<Float>, _ coefficients: UnsafePointer<Float>) {
                let o = i * stride + ch * plane
                // With the residual, g already holds dz.
                BatchNormKernels.inputGradient(pd + o, grad: pgr + o, output: py + o, input: px + o, count: plane,
                                               masked: !residualGrad, alpha: coefficients[0], tau: coefficients[1],
                                               delta: coefficients[2], mean: pm[ch], accumulate: accumulate)
            }
            if plane <= BatchNormKernels.smallPlane {  // channel blocks walked image by image, as in the forward pass
                Parallel.forChunks(c, grain: max(1, 16_384 / count)) { channels in
                    let lo = channels.lowerBound
                    withUnsafeTemporaryAllocation(of: Double.self, capacity: 2 * channels.count) { sums in
                        withUnsafeTemporaryAllocation(of: Float.self, capacity: 3 * channels.count) { coefficients in
                            sums.initialize(repeating: 0)
                            for i in 0..<n {
                                for ch in channels {
                                    let o = i * stride + ch * plane
                                    let (s1, s2) = BatchNormKernels.maskedSums(grad: pgr + o, output: py + o, input: px + o, images: 1,
                                                                               stride: stride, plane: plane, mean: pm[ch],
                                                                               storeMasked: residualGrad)
                                    sums[2 * (ch - lo)] += s1
                                    sums[2 * (ch - lo) + 1] += s2
                                }
                            }
                            let pc = coefficients.baseAddress!
                            for ch in channels { finish(ch, sumDz: sums[2 * (ch - lo)], sumDzXc: sums[2 * (ch - lo) + 1], pc + 3 * (ch - lo)) }
                            guard let pd = dx?.data else { return }
                            for i in 0..<n {
                                for ch in channels { inputGradient(i, ch, pd, pc + 3 * (ch - lo)) }
                            }
                        }
                    }
                }
            } else {
                Parallel.forEach(c, cost: count) { ch in
                    let (sumDz, sumDzXc) = BatchNormKernels.maskedSums(
                        grad: pgr + ch * plane, output: py + ch * plane, input: px + ch * plane,
                        images: n, stride: stride, plane: plane, mean: pm[ch], storeMasked: residualGrad)
                    withUnsafeTemporaryAllocation(of: Float.self, capacity: 3) { coefficients in
                        let pc = coefficients.baseAddress!
                        finish(ch, sumDz: sumDz, sumDzXc: sumDzXc, pc)
                        guard let pd = dx?.data else { return }
                        for i in 0..<n { inputGradient(i, ch, pd, pc) }
                    }
                }
            }
            if residualGrad { residualSink!.accumulate(g, owned: true) }
            if let dx, !accumulate { x.accumulateGrad(dx, owned: true) }
        }
    }
}

/// The loops of `batchNorm2dReLU` over one channel: `images` planes of `plane` floats, `stride` apart.
enum BatchNormKernels {
    /// Planes of at most this many floats (8×8 and smaller) are walked image by image in blocks of
    /// channels rather than channel by channel across the batch.
    static let smallPlane = 64

    /// dst = max((src − mean)·scale + shift (+ residual), 0) over `count` floats: the composition's
    /// float operations in its order.
    @inline(__always)
    static func normalizeReLU(_ src: UnsafePointer<Float>, residual r: UnsafePointer<Float>?, into dst: UnsafeMutablePointer<Float>,
                              count: Int, mean m: Float, scale: Float, shift: Float) {
        if let r {
            for p in 0..<count { let z = (src[p] - m) * scale + shift + r[p]; dst[p] = z > 0 ? z : 0 }
        } else {
            for p in 0..<count { let z = (src[p] - m) * scale + shift; dst[p] = z > 0 ? z : 0 }
        }
    }

    /// The mean of the first `count` values (a shift for `shiftedSums`).
    @inline(__always)
    static func roughMean(_ x: UnsafePointer<Float>, _ count: Int) -> Float {
        var s: Float = 0
        for i in 0..<count { s += x[i] }
        return s / Float(max(count, 1))
    }

    /// (Σ(x − k), Σ(x − k)²) over the channel. Eight float lanes accumulate at most 64 values
    /// (8 per lane) before they are added into Double totals, so the loop vectorises and the
    /// result keeps about Double accuracy.
    @inline(__always)
    static func shiftedSums(_ x: UnsafePointer<Float>, images: Int, stride: Int, plane: Int, shift k: Float) -> (Double, Double) {
        var s1 = 0.0, s2 = 0.0
        let kv = SIMD8<Float>(repeating: k)
        let vectorEnd = plane & ~7
        for i in 0..<images {
            let src = x + i * stride
            var p = 0
            while p < vectorEnd {
                let blockEnd = min(vectorEnd, p + 64)
                var a1 = SIMD8<Float>(), a2 = SIMD8<Float>()
                while p < blockEnd {
                    let d = UnsafeRawPointer(src + p).loadUnaligned(as: SIMD8<Float>.self) - kv
                    a1 += d
                    a2 += d * d
                    p += 8
                }
                s1 += Double(a1.sum())
                s2 += Double(a2.sum())
            }
            while p < plane {
                let d = Double(src[p] - k)
                s1 += d
                s2 += d * d
                p += 1
            }
        }
        return (s1, s2)
    }

    /// d = α·dz − τ − (x − μ)·δ over `count` values, dz = g·[y > 0] when `masked`, else g.
    /// d may be g itself: explicit vectors, because the compiler's vectoriser falls back to scalar
    /// code when the pointers overlap.
    @inline(__always)
    static func inputGradient(
        _ d: UnsafeMutablePointer<Float>, grad g: UnsafePointer<Float>, output y: UnsafePointer<Float>,
        input x: UnsafePointer<Float>, count: Int, masked: Bool, alpha: Float, tau: Float, delta: Float, mean mu: Float,
        accumulate: Bool
    ) {
        let av = SIMD8<Float>(repeating: alpha), bv = SIMD8<Float>(repeating: tau)
        let dv = SIMD8<Float>(repeating: delta), muv = SIMD8<Float>(repeating: mu), zero = SIMD8<Float>()
        var p = 0
        while p + 8 <= count {
            var dz = UnsafeRawPointer(g + p).loadUnaligned(as: SIMD8<Float>.self)
            if masked { dz = zero.replacing(with: dz, where: UnsafeRawPointer(y + p).loadUnaligned(as: SIMD8<Float>.self) .> zero) }
            let xc = UnsafeRawPointer(x + p).loadUnaligned(as: SIMD8<Float>.self) - muv
            var v = av * dz - bv - xc * dv
            if accumulate { v = UnsafeRawPointer(d + p).loadUnaligned(as: SIMD8<Float>.self) + v }
            UnsafeMutableRawPointer(d + p).storeBytes(of: v, as: SIMD8<Float>.self)
            p += 8
        }
        while p < count {
            let dz = !masked || y[p] > 0 ? g[p] : 0
            let v = alpha * dz - tau - (x[p] - mu) * delta
            d[p] = accumulate ? d[p] + v : v
            p += 1
        }
    }

    /// (Σ dz, Σ dz·(x − μ)) with dz = g·[y > 0], accumulated as in `shiftedSums`. With
    /// `storeMasked`, dz is also written over g.
    @inline(__always)
    static func maskedSums(
        grad: UnsafeMutablePointer<Float>, output: UnsafePointer<Float>, input: UnsafePointer<Float>,
        images: Int, stride: Int, plane: Int, mean mu: Float, storeMasked: Bool
    ) -> (Double, Double) {
        var s1 = 0.0, s2 = 0.0
        let muv = SIMD8<Float>(repeating: mu), zero = SIMD8<Float>()
        let vectorEnd = plane & ~7
        for i in 0..<images {
            let g = grad + i * stride, y = output + i * stride, x = input + i * stride
            var p = 0
            while p < vectorEnd {
                let blockEnd = min(vectorEnd, p + 64)
                var a1 = SIMD8<Float>(), a2 = SIMD8<Float>()
                while p < blockEnd {
                    let yv = UnsafeRawPointer(y + p).loadUnaligned(as: SIMD8<Float>.self)
                    let gv = UnsafeRawPointer(g + p).loadUnaligned(as: SIMD8<Float>.self)
                    let xv = UnsafeRawPointer(x + p).loadUnaligned(as: SIMD8<Float>.self)
                    let dz = zero.replacing(with: gv, where: yv .> zero)
                    if storeMasked { UnsafeMutableRawPointer(g + p).storeBytes(of: dz, as: SIMD8<Float>.self) }
                    a1 += dz
                    a2 += dz * (xv - muv)
                    p += 8
                }
                s1 += Double(a1.sum())
                s2 += Double(a2.sum())
            }
            while p < plane {
                let dz = y[p] > 0 ? g[p] : 0
                if storeMasked { g[p] = dz }
                s1 += Double(dz)
                s2 += Double(dz * (x[p] - mu))
                p += 1
            }
        }
        return (s1, s2)
    }
}

import Engine
import Foundation

/// The Hessian of a `NoiseMLP`'s mean loss at θ, by central differences of its exact (Double,
/// backpropagated) gradient with Richardson extrapolation (`GradientDifferenceHessian`), column by
/// column, then symmetrised. The error is measured, not assumed: `asymmetry` is ‖H − Hᵀ‖/‖H‖ before
/// symmetrising and `extrapolationChange` is ‖H_Richardson − H_central‖/‖H‖ (the size of the O(ε²)
/// term the extrapolation removed, an upper estimate of what is left).
public struct NoiseHessian {
    public let matrix: [Double]
    public let dimension: Int
    public let asymmetry: Double
    public let extrapolationChange: Double

    public init(model: NoiseMLP, theta: [Double], data: NoiseData, step: Double = 1e-3) throws {
        let n = model.dimension
        let op = try GradientDifferenceHessian(point: theta, step: step, richardson: true) { x in model.meanGradient(x, data) }
        var raw = [Double](repeating: 0, count: n * n)
        var change = 0.0
        for j in 0..<n {
            var e = [Double](repeating: 0, count: n)
            e[j] = 1
            let coarse = try op.centralDifference(e, step)
            let fine = try op.centralDifference(e, step / 2)
            for i in 0..<n {
                let r = (4 * fine[i] - coarse[i]) / 3
                raw[i * n + j] = r
                change += (r - coarse[i]) * (r - coarse[i])
            }
        }
        var norm = 0.0, anti = 0.0
        var sym = [Double](repeating: 0, count: n * n)
        for i in 0..<n { for j in 0..<n {
            sym[i * n + j] = 0.5 * (raw[i * n + j] + raw[j * n + i])
            norm += raw[i * n + j] * raw[i * n + j]
            anti += (raw[i * n + j] - raw[j * n + i]) * (raw[i * n + j] - raw[j * n + i])
        } }
        matrix = sym
        dimension = n
        asymmetry = (anti / max(norm, 1e-300)).squareRoot()
        extrapolationChange = (change / max(norm, 1e-300)).squareRoot()
    }
}

/// The per-example gradient covariance at θ over the whole set (population form):
/// Σ = (1/N) Σₙ gₙgₙᵀ − ḡḡᵀ, with ḡ the full-batch gradient.
public func perExampleCovariance(gradients g: [Double], count n: Int, dimension p: Int) -> (covariance: [Double], mean: [Double]) {
    var mean = [Double](repeating: 0, count: p)
    for r in 0..<n { for j in 0..<p { mean[j] += g[r * p + j] } }
    for j in 0..<p { mean[j] /= Double(n) }
    var c = [Double](repeating: 0, count: p * p)
    DoubleLinearAlgebra.gemm(transposeA: true, transposeB: false, m: p, n: p, k: n, alpha: 1 / Double(n),
                            g, lda: p, g, ldb: p, beta: 0, &c, ldc: p)
    for i in 0..<p { for j in 0..<p { c[i * p + j] -= mean[i] * mean[j] } }
    return (c, mean)
}

/// `count` minibatch gradients of size `batch`, each the mean of `batch` distinct examples drawn
/// without replacement from the N (the minibatches independent of each other), minus the full
/// gradient ḡ: the noise ξ = g_B − ∇L of each minibatch, row-major count × dimension.
public func minibatchNoise(gradients g: [Double], mean: [Double], examples n: Int, batch: Int, count: Int,
                           generator: RandomGenerator) throws -> [Double] {
    let p = mean.count
    guard batch >= 1, batch <= n else { throw AnalysisError("--batch-sizes: a batch size must be between 1 and the \(n) examples, got \(batch)") }
    guard count >= 2 else { throw AnalysisError("--minibatches must be >= 2, got \(count)") }
    var rng = generator
    var out = [Double](repeating: 0, count: count * p)
    var order = Array(0..<n)
    for m in 0..<count {
        // A partial Fisher–Yates shuffle: the first `batch` entries are a uniform draw without replacement.
        for i in 0..<batch {
            let j = i + rng.nextInt(below: n - i)
            order.swapAt(i, j)
        }
        out.withUnsafeMutableBufferPointer { o in
            g.withUnsafeBufferPointer { gp in
                let row = o.baseAddress! + m * p
                for i in 0..<batch { DoubleLinearAlgebra.axpy(count: p, alpha: 1 / Double(batch), gp.baseAddress! + order[i] * p, row) }
            }
        }
        for j in 0..<p { out[m * p + j] -= mean[j] }
    }
    return out
}

/// (1/M) ΞᵀΞ for M noise rows Ξ (centred at the true full gradient, so no degree of freedom is lost).
public func noiseCovariance(_ noise: [Double], count m: Int, dimension p: Int) -> [Double] {
    var c = [Double](repeating: 0, count: p * p)
    DoubleLinearAlgebra.gemm(transposeA: true, transposeB: false, m: p, n: p, k: m, alpha: 1 / Double(m),
                            noise, lda: p, noise, ldb: p, beta: 0, &c, ldc: p)
    return c
}

/// `--batch-sizes 16,64,256` → [16, 64, 256].
public func parseBatchSizes(_ text: String) throws -> [Int] {
    try parseNumberList(text, option: "--batch-sizes").map { value in
        guard value == value.rounded(), value >= 1, value < 1e9 else { throw AnalysisError("--batch-sizes: '\(value)' is not a whole number >= 1") }
        return Int(value)
    }
}

/// Where `adai-bench noise` reads its images from: `--synthetic N` or `--data-dir`.
public func checkNoiseSource(synthetic: Int?, dataDirectory: String?) throws {
    if let n = synthetic {
        guard n >= 2 else { throw AnalysisError("--synthetic must be >= 2, got \(n)") }
        guard dataDirectory == nil else { throw AnalysisError("give either --synthetic N or --data-dir, not both") }
    } else if dataDirectory == nil {
        throw AnalysisError("give --data-dir (the folder holding cifar-10-batches-bin) or --synthetic N")
    }
}

/// Pearson's correlation of two equally long samples.
public func pearson(_ x: [Double], _ y: [Double]) -> Double {
    let n = Double(x.count)
    let mx = x.reduce(0, +) / n, my = y.reduce(0, +) / n
    var sxy = 0.0, sxx = 0.0, syy = 0.0
    for (a, b) in zip(x, y) { sxy += (a - mx) * (b - my); sxx += (a - mx) * (a - mx); syy += (b - my) * (b - my) }
    return sxy / max((sxx * syy).squareRoot(), 1e-300)
}

/// How well C_B matches H/B in H's eigenbasis, at one batch size.
public struct CovarianceFit: Codable, Equatable {
    public var batch: Int
    /// Diagonal (eigen-directions with |λ| above the floor): slope and Pearson r of log C'ᵢᵢ on log(|λᵢ|/B).
    public var diagonalExponent: Double
    public var diagonalCorrelation: Double
    /// exp(mean(log C'ᵢᵢ − log(|λᵢ|/B))): C ≈ ratio · H/B (1 when C = H/B).
    public var diagonalRatio: Double
    /// The geometric mean of C'ᵢᵢ/|λᵢ| (without dividing by B): its B-dependence is the 1/B test.
    public var diagonalRatioToH: Double
    /// All elements (linear scale): the least-squares slope through the origin of C'ᵢⱼ on H'ᵢⱼ/B and Pearson's r.
    public var allSlope: Double
    public var allCorrelation: Double
    /// ‖off-diagonal of C'‖/‖C'‖ (Frobenius): 0 when C is diagonal in H's eigenbasis, as C ∝ H would have it.
    public var offDiagonalFraction: Double
    public var directions: Int
}

/// Fits C' (rotated noise covariance at batch size B) against H' = diag(λ) (the rotated Hessian).
public func fitCovariance(rotatedNoise c: [Double], rotatedHessian h: [Double], eigenvalues: [Double], batch: Int,
                          floor relativeFloor: Double = 1e-6) throws -> CovarianceFit {
    let p = eigenvalues.count
    let top = eigenvalues.map(abs).max() ?? 0
    var lx: [Double] = [], ly: [Double] = [], lh: [Double] = []
    for i in 0..<p where abs(eigenvalues[i]) > relativeFloor * top && c[i * p + i] > 0 {
        lx.append(Foundation.log(abs(eigenvalues[i]) / Double(batch)))
        ly.append(Foundation.log(c[i * p + i]))
        lh.append(Foundation.log(abs(eigenvalues[i])))
    }
    guard lx.count >= 3 else { throw AnalysisError("fewer than 3 Hessian eigenvalues lie above \(relativeFloor) of the largest: the fit needs more directions") }
    let line = try LinearFit(x: lx, y: ly)
    let ratio = Foundation.exp(zip(ly, lx).reduce(0) { $0 + $1.0 - $1.1 } / Double(lx.count))
    let ratioH = Foundation.exp(zip(ly, lh).reduce(0) { $0 + $1.0 - $1.1 } / Double(lx.count))
    var hs: [Double] = [], cs: [Double] = []
    var sch = 0.0, shh = 0.0, off = 0.0, total = 0.0
    for i in 0..<p { for j in i..<p {
        let hv = h[i * p + j] / Double(batch), cv = c[i * p + j]
        let w = i == j ? 1.0 : 2.0
        sch += w * cv * hv; shh += w * hv * hv
        hs.append(hv); cs.append(cv)
        total += w * cv * cv
        if i != j { off += w * cv * cv }
    } }
    return CovarianceFit(batch: batch, diagonalExponent: line.slope, diagonalCorrelation: pearson(lx, ly), diagonalRatio: ratio,
                         diagonalRatioToH: ratioH, allSlope: sch / max(shh, 1e-300), allCorrelation: pearson(hs, cs),
                         offDiagonalFraction: (off / max(total, 1e-300)).squareRoot(), directions: lx.count)
}

/// The settings of one noise measurement (`adai-bench noise`, claims 9 and 10).
public struct NoiseSettings: Codable, Equatable {
    /// Pooled image side (3·side² inputs) and hidden tanh units (0: softmax regression).
    public var side: Int = 2
    public var hidden: Int = 16
    public var batchSizes: [Int] = [16, 64, 256]
    /// Minibatches drawn per batch size and replicate.
    public var minibatches: Int = 2000
    /// Independent replicate sets of minibatches (the intervals of claims 9 and 10 are over these).
    public var replicates: Int = 5
    /// Training to the "trained" checkpoint: SGD steps at `trainLR` with batches of `trainBatch`.
    public var trainSteps: Int = 2000
    public var trainLR: Double = 0.1
    public var trainBatch: Int = 64
    /// The Gaussian check: parameters followed across minibatches, minibatches looked at across parameters.
    public var trackedParameters: Int = 8
    public var parameterMinibatches: Int = 8
    public var hvpStep: Double = 1e-3
    public var seed: UInt64 = 0
    public init() {}

    public func validate() throws {
        guard !batchSizes.isEmpty, batchSizes.allSatisfy({ $0 >= 1 }), Set(batchSizes).count == batchSizes.count else {
            throw AnalysisError("--batch-sizes needs distinct batch sizes >= 1, e.g. 16,64,256")
        }
        guard batchSizes.count >= 2 else { throw AnalysisError("--batch-sizes needs at least two batch sizes to test the 1/B scaling, e.g. 16,64,256") }
        guard minibatches >= 64 else { throw AnalysisError("--minibatches must be >= 64 (the tail index needs samples), got \(minibatches)") }
        guard replicates >= 2 else { throw AnalysisError("--replicates must be >= 2 (for an interval), got \(replicates)") }
        guard trainSteps >= 0, trainLR > 0, trainBatch >= 1 else { throw AnalysisError("--train-steps must be >= 0, --train-lr > 0 and --train-batch >= 1") }
        guard trackedParameters >= 2, parameterMinibatches >= 2 else { throw AnalysisError("--tracked-parameters and --parameter-minibatches must be >= 2 (for an interval)") }
        guard hvpStep > 0, hvpStep.isFinite else { throw AnalysisError("--hvp-step must be > 0, got \(hvpStep)") }
    }
}

/// One checkpoint's measurements.
public struct NoiseCheckpoint: Codable, Equatable {
    public var name: String
    public var loss: Double
    public var trainSteps: Int
    public var eigenvalues: [Double]
    public var hessianAsymmetry: Double
    public var hessianExtrapolationChange: Double
    /// Per replicate, per batch size (in `batchSizes` order).
    public var fits: [[CovarianceFit]]
    /// Per replicate: the slope of log(diagonal ratio to H) on log B (1/B scaling predicts −1).
    public var batchExponents: [Double]
    /// The per-example covariance in H's eigenbasis, its diagonal against |λ| (for reference, not the test).
    public var perExampleFit: CovarianceFit
    /// Tail indices: across minibatches (one per tracked parameter, smallest batch size), across parameters
    /// (one per minibatch), and of Gaussian samples of the same sizes.
    public var trackedIndices: [Int]
    public var alphaAcrossMinibatches: [Double]
    public var alphaAcrossParameters: [Double]
    public var gaussianAlphaMinibatches: [Double]
    public var gaussianAlphaParameters: [Double]
    /// Figure data: (|λᵢ|/B, |C'ᵢᵢ|) of the first replicate per batch size (the diagonal in H's eigenbasis, where
    /// H' is diag(λ) and its off-diagonal elements are rounding noise), and (Hᵢⱼ/B, Cᵢⱼ) for up to 3,000
    /// elements i ≤ j in the parameter basis at the smallest batch size (signed; the figure takes |·|);
    /// QQ data: the first tracked parameter across minibatches and the first minibatch across parameters.
    public var diagonalPoints: [[Double]]
    public var diagonalNoise: [[Double]]
    public var elementH: [Double]
    public var elementC: [Double]
    /// The fit on all elements in the parameter basis at the smallest batch size (first replicate).
    public var parameterBasisSlope: Double
    public var parameterBasisCorrelation: Double
    public var acrossMinibatchSample: [Double]
    public var acrossParameterSample: [Double]
}

public struct NoiseReport: Codable, Equatable {
    public var settings: NoiseSettings
    public var examples: Int
    public var dimension: Int
    public var data: String
    public var checkpoints: [NoiseCheckpoint]
}

/// The whole measurement: at the random initialisation and after `trainSteps` of SGD.
public func measureNoise(data: NoiseData, settings s: NoiseSettings, dataLabel: String,
                         progress: ((String) -> Void)? = nil) throws -> NoiseReport {
    try s.validate()
    guard let largest = s.batchSizes.max(), largest <= data.count else {
        throw AnalysisError("--batch-sizes: the largest batch (\(s.batchSizes.max() ?? 0)) exceeds the \(data.count) examples")
    }
    let model = try NoiseMLP(inputs: data.features, hidden: s.hidden, classes: data.classes)
    let root = RandomGenerator(seed: s.seed).fork("noise")
    let initial = model.initialParameters(root.fork("init"))
    var trained = initial
    var rng = root.fork("train")
    for _ in 0..<s.trainSteps {
        let rows = (0..<min(s.trainBatch, data.count)).map { _ in rng.nextInt(below: data.count) }
        let g = model.meanGradient(trained, data.subset(rows))
        for j in 0..<trained.count { trained[j] -= s.trainLR * g[j] }
    }
    var checkpoints: [NoiseCheckpoint] = []
    for (name, theta, steps) in [("initialisation", initial, 0), ("trained", trained, s.trainSteps)] {
        let started = Date()
        checkpoints.append(try measureCheckpoint(model: model, theta: theta, data: data, settings: s, name: name, steps: steps,
                                                 generator: root.fork(name)))
        progress?("\(name): measured in \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
    }
    return NoiseReport(settings: s, examples: data.count, dimension: model.dimension, data: dataLabel, checkpoints: checkpoints)
}

func measureCheckpoint(model: NoiseMLP, theta: [Double], data: NoiseData, settings s: NoiseSettings, name: String, steps: Int,
                       generator: RandomGenerator) throws -> NoiseCheckpoint {
    let p = model.dimension
    let hessian = try NoiseHessian(model: model, theta: theta, data: data, step: s.hvpStep)
    let (lambdas, vectors) = try symmetricEigen(hessian.matrix, dimension: p)
    let hRot = rotate(hessian.matrix, into: vectors, dimension: p)
    let g = model.perExampleGradients(theta, data)
    let (sigma, mean) = perExampleCovariance(gradients: g, count: data.count, dimension: p)
    let perExample = try fitCovariance(rotatedNoise: rotate(sigma, into: vectors, dimension: p), rotatedHessian: hRot,
                                       eigenvalues: lambdas, batch: 1)
    var fits: [[CovarianceFit]] = [], exponents: [Double] = []
    var diagonalPoints: [[Double]] = [], diagonalNoise: [[Double]] = [], elementH: [Double] = [], elementC: [Double] = []
    var basisSlope = Double.nan, basisCorrelation = Double.nan
    var firstNoise: [Double] = []
    let smallest = s.batchSizes.min()!
    for r in 0..<s.replicates {
        var row: [CovarianceFit] = []
        for b in s.batchSizes {
            let noise = try minibatchNoise(gradients: g, mean: mean, examples: data.count, batch: b, count: s.minibatches,
                                           generator: generator.fork("replicate-\(r)").fork("batch-\(b)"))
            let cB = noiseCovariance(noise, count: s.minibatches, dimension: p)
            let cRot = rotate(cB, into: vectors, dimension: p)
            row.append(try fitCovariance(rotatedNoise: cRot, rotatedHessian: hRot, eigenvalues: lambdas, batch: b))
            if r == 0 {
                diagonalPoints.append((0..<p).map { abs(lambdas[$0]) / Double(b) })
                diagonalNoise.append((0..<p).map { abs(cRot[$0 * p + $0]) })
                if b == smallest {
                    firstNoise = noise
                    var hs: [Double] = [], cs: [Double] = [], sch = 0.0, shh = 0.0
                    for i in 0..<p { for j in i..<p {
                        let hv = hessian.matrix[i * p + j] / Double(b), cv = cB[i * p + j], w = i == j ? 1.0 : 2.0
                        hs.append(hv); cs.append(cv); sch += w * hv * cv; shh += w * hv * hv
                    } }
                    basisSlope = sch / max(shh, 1e-300); basisCorrelation = pearson(hs, cs)
                    let stride = max(1, hs.count / 3000)
                    for k in Swift.stride(from: 0, to: hs.count, by: stride) { elementH.append(hs[k]); elementC.append(cs[k]) }
                }
            }
        }
        let line = try LinearFit(x: row.map { Foundation.log(Double($0.batch)) }, y: row.map { Foundation.log($0.diagonalRatioToH) })
        exponents.append(line.slope)
        fits.append(row)
    }
    // The Gaussian check at the smallest batch size, on the first replicate's minibatches.
    let m = s.minibatches
    let tracked = (0..<s.trackedParameters).map { $0 * p / s.trackedParameters }
    var gaussian = generator.fork("gaussian-reference")
    var acrossMinibatches: [Double] = [], acrossParameters: [Double] = [], refM: [Double] = [], refP: [Double] = []
    for j in tracked {
        acrossMinibatches.append(try tailIndex((0..<m).map { firstNoise[$0 * p + j] }))
        refM.append(try tailIndex((0..<m).map { _ in gaussian.nextNormal() }))
    }
    for k in 0..<min(s.parameterMinibatches, m) {
        acrossParameters.append(try tailIndex(Array(firstNoise[(k * p)..<((k + 1) * p)])))
        refP.append(try tailIndex((0..<p).map { _ in gaussian.nextNormal() }))
    }
    return NoiseCheckpoint(
        name: name, loss: model.loss(theta, data), trainSteps: steps, eigenvalues: lambdas, hessianAsymmetry: hessian.asymmetry,
        hessianExtrapolationChange: hessian.extrapolationChange, fits: fits, batchExponents: exponents, perExampleFit: perExample,
        trackedIndices: tracked, alphaAcrossMinibatches: acrossMinibatches, alphaAcrossParameters: acrossParameters,
        gaussianAlphaMinibatches: refM, gaussianAlphaParameters: refP, diagonalPoints: diagonalPoints, diagonalNoise: diagonalNoise,
        elementH: elementH, elementC: elementC, parameterBasisSlope: basisSlope, parameterBasisCorrelation: basisCorrelation, acrossMinibatchSample: (0..<m).map { firstNoise[$0 * p + tracked[0]] },
        acrossParameterSample: Array(firstNoise[0..<p]))
}

extension NoiseReport {
    /// One row per checkpoint, replicate and batch size: the fits of C_B against H/B in H's eigenbasis.
    public var fitsCSV: String {
        var out = "checkpoint,replicate,batch,diagonal_exponent,diagonal_correlation,diagonal_ratio,diagonal_ratio_to_h,all_slope,all_correlation,off_diagonal_fraction,directions\n"
        for c in checkpoints { for (r, row) in c.fits.enumerated() { for f in row {
            out += "\(c.name),\(r),\(f.batch),\(format9(f.diagonalExponent)),\(format9(f.diagonalCorrelation)),\(format9(f.diagonalRatio)),"
                + "\(format9(f.diagonalRatioToH)),\(format9(f.allSlope)),\(format9(f.allCorrelation)),\(format9(f.offDiagonalFraction)),\(f.directions)\n"
        } } }
        return out
    }

    /// One row per checkpoint and eigen-direction (first replicate): λᵢ and C'ᵢᵢ at every batch size.
    public var eigenbasisCSV: String {
        var out = "checkpoint,direction,eigenvalue," + settings.batchSizes.map { "noise_variance_b\($0)" }.joined(separator: ",") + "\n"
        for c in checkpoints { for i in 0..<c.eigenvalues.count {
            out += "\(c.name),\(i),\(format9(c.eigenvalues[i]))," + c.diagonalNoise.map { format9($0[i]) }.joined(separator: ",") + "\n"
        } }
        return out
    }

    /// The tail indices: one row per estimate, with the Gaussian reference of the same sample size beside it.
    public var tailIndexCSV: String {
        var out = "checkpoint,across,which,samples,alpha,gaussian_reference_alpha\n"
        for c in checkpoints {
            for (k, j) in c.trackedIndices.enumerated() {
                out += "\(c.name),minibatches,parameter-\(j),\(settings.minibatches),\(format9(c.alphaAcrossMinibatches[k])),\(format9(c.gaussianAlphaMinibatches[k]))\n"
            }
            for k in 0..<c.alphaAcrossParameters.count {
                out += "\(c.name),parameters,minibatch-\(k),\(dimension),\(format9(c.alphaAcrossParameters[k])),\(format9(c.gaussianAlphaParameters[k]))\n"
            }
        }
        return out
    }

    /// Per checkpoint, the lines a reader wants first.
    public var summaryLines: [String] {
        checkpoints.flatMap { c -> [String] in
            let f = NumberFormat.g(3).string
            let first = c.fits[0]
            return [
                "\(c.name): loss \(f(c.loss)), λ from \(f(c.eigenvalues.first ?? .nan)) to \(f(c.eigenvalues.last ?? .nan)); Hessian asymmetry \(f(c.hessianAsymmetry)), Richardson change \(f(c.hessianExtrapolationChange))",
                "  C_B against H/B in H's eigenbasis (replicate 0): " + first.map {
                    "B=\($0.batch): exponent \(f($0.diagonalExponent)), r \(f($0.diagonalCorrelation)), C/(H/B) \(f($0.diagonalRatio)), off-diagonal \(f($0.offDiagonalFraction))"
                }.joined(separator: "; "),
                "  1/B scaling: exponent of the ratio C/H on B per replicate \(c.batchExponents.map(f).joined(separator: ", ")) (1/B predicts −1)",
                "  all elements, parameter basis, B=\(settings.batchSizes.min()!): slope \(f(c.parameterBasisSlope)), r \(f(c.parameterBasisCorrelation))",
                "  tail index across minibatches \(c.alphaAcrossMinibatches.map(f).joined(separator: ", ")) (Gaussian reference \(c.gaussianAlphaMinibatches.map(f).joined(separator: ", ")))",
                "  tail index across parameters \(c.alphaAcrossParameters.map(f).joined(separator: ", ")) (Gaussian reference \(c.gaussianAlphaParameters.map(f).joined(separator: ", ")))",
            ]
        }
    }
}

import Engine
import Foundation

/// Something that multiplies vectors by a symmetric matrix: the Hessian of a loss.
public protocol HessianOperator {
    var dimension: Int { get }
    /// H·v.
    func apply(_ v: [Double]) throws -> [Double]
}

/// An explicit symmetric matrix (row-major), for tests and for Hessians assembled column by column.
public struct DenseSymmetricMatrix: HessianOperator {
    public let dimension: Int
    public let values: [Double]

    public init(dimension: Int, values: [Double]) throws {
        guard dimension >= 1, values.count == dimension * dimension else {
            throw AnalysisError("a \(dimension)×\(dimension) matrix needs \(dimension * dimension) values, got \(values.count)")
        }
        self.dimension = dimension
        self.values = values
    }

    public func apply(_ v: [Double]) throws -> [Double] {
        (0..<dimension).map { i in
            var s = 0.0
            for j in 0..<dimension { s += values[i * dimension + j] * v[j] }
            return s
        }
    }

    public var trace: Double { (0..<dimension).reduce(0) { $0 + values[$1 * dimension + $1] } }

    /// Assembles the matrix of `op` column by column (H·eⱼ), then symmetrises it ((H + Hᵀ)/2),
    /// which removes the antisymmetric part of the finite-difference error.
    public static func assemble(_ op: HessianOperator) throws -> DenseSymmetricMatrix {
        let n = op.dimension
        var columns: [[Double]] = []
        for j in 0..<n {
            var e = [Double](repeating: 0, count: n)
            e[j] = 1
            columns.append(try op.apply(e))
        }
        var values = [Double](repeating: 0, count: n * n)
        for i in 0..<n { for j in 0..<n { values[i * n + j] = 0.5 * (columns[j][i] + columns[i][j]) } }
        return try DenseSymmetricMatrix(dimension: n, values: values)
    }

    /// All eigenvalues, largest first (cyclic Jacobi rotations; for matrices up to a few hundred rows).
    public func eigenvalues() -> [Double] { symmetricEigenvalues(values, dimension: dimension).values }
}

/// Hessian-vector products of a loss from its gradient by central differences:
///
///     H·v ≈ ‖v‖ · [∇L(θ + ε·u) − ∇L(θ − ε·u)] / (2ε),   u = v/‖v‖,
///
/// with Richardson extrapolation over ε and ε/2, (4·D(ε/2) − D(ε))/3, which cancels the O(ε²)
/// error term of the central difference and leaves O(ε⁴).
///
/// Why this and not exact forward-over-reverse: the engine's tape is reverse-mode only and
/// Float32, so an exact HVP would need a second differentiable pass through every op. The
/// gradient difference is computed with the two gradients subtracted in Double; its error has two
/// parts, truncation (∝ ε² before, ε⁴ after extrapolation, times third derivatives) and Float32
/// rounding of the gradients and of θ ± εu (∝ 1e-7·|∇L|/ε). The default ε = 1e-2 (on a unit
/// direction, so each coordinate moves by about 1e-2/√P) balances the two for networks whose
/// parameters are O(0.1); `AnalysesTests.testCentralDifferenceHVPMatchesExactHessian` checks the
/// products against the exact Hessian of a softmax-regression loss (relative error below 1e-3)
/// and shows that a one-sided difference is an order of magnitude worse.
public struct GradientDifferenceHessian: HessianOperator {
    public let dimension: Int
    public let point: [Double]
    public let step: Double
    public let richardson: Bool
    /// ∇L at a point (the same length as `point`).
    public let gradient: ([Double]) throws -> [Double]

    public init(point: [Double], step: Double = 1e-2, richardson: Bool = true,
                gradient: @escaping ([Double]) throws -> [Double]) throws {
        guard step > 0, step.isFinite else { throw AnalysisError("--hvp-step must be > 0, got \(step)") }
        dimension = point.count
        self.point = point
        self.step = step
        self.richardson = richardson
        self.gradient = gradient
    }

    func centralDifference(_ u: [Double], _ eps: Double) throws -> [Double] {
        let plus = try gradient(zip(point, u).map { $0 + eps * $1 })
        let minus = try gradient(zip(point, u).map { $0 - eps * $1 })
        return zip(plus, minus).map { ($0 - $1) / (2 * eps) }
    }

    public func apply(_ v: [Double]) throws -> [Double] {
        let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
        guard norm > 0 else { return [Double](repeating: 0, count: dimension) }
        let u = v.map { $0 / norm }
        let coarse = try centralDifference(u, step)
        guard richardson else { return coarse.map { $0 * norm } }
        let fine = try centralDifference(u, step / 2)
        return zip(fine, coarse).map { norm * (4 * $0 - $1) / 3 }
    }
}

/// Jacobi eigen-decomposition of a symmetric n×n matrix (row-major): eigenvalues largest first
/// and the matching eigenvectors as columns (row-major n×n).
public func symmetricEigenvalues(_ matrix: [Double], dimension n: Int) -> (values: [Double], vectors: [Double]) {
    var a = matrix
    var v = [Double](repeating: 0, count: n * n)
    for i in 0..<n { v[i * n + i] = 1 }
    for _ in 0..<100 {
        var off = 0.0, total = 0.0
        for i in 0..<n { for j in 0..<n { total += a[i * n + j] * a[i * n + j]; if i != j { off += a[i * n + j] * a[i * n + j] } } }
        if off <= 1e-30 * max(total, 1e-300) { break }
        for p in 0..<n {
            for q in (p + 1)..<max(p + 1, n) where a[p * n + q] != 0 {
                let apq = a[p * n + q]
                let theta = (a[q * n + q] - a[p * n + p]) / (2 * apq)
                let t = (theta >= 0 ? 1 : -1) / (abs(theta) + (theta * theta + 1).squareRoot())
                let c = 1 / (t * t + 1).squareRoot(), s = t * c
                for k in 0..<n {  // columns p, q of A
                    let akp = a[k * n + p], akq = a[k * n + q]
                    a[k * n + p] = c * akp - s * akq
                    a[k * n + q] = s * akp + c * akq
                }
                for k in 0..<n {  // rows p, q of A
                    let apk = a[p * n + k], aqk = a[q * n + k]
                    a[p * n + k] = c * apk - s * aqk
                    a[q * n + k] = s * apk + c * aqk
                }
                for k in 0..<n {
                    let vkp = v[k * n + p], vkq = v[k * n + q]
                    v[k * n + p] = c * vkp - s * vkq
                    v[k * n + q] = s * vkp + c * vkq
                }
            }
        }
    }
    let order = (0..<n).sorted { a[$0 * n + $0] > a[$1 * n + $1] }
    var vectors = [Double](repeating: 0, count: n * n)
    for (newColumn, old) in order.enumerated() { for k in 0..<n { vectors[k * n + newColumn] = v[k * n + old] } }
    return (order.map { a[$0 * n + $0] }, vectors)
}

/// The top eigenvalues of a Hessian by the Lanczos iteration with full reorthogonalisation.
public struct LanczosResult: Equatable {
    /// Ritz values, largest first (the `top` requested).
    public let eigenvalues: [Double]
    /// |β_m · s_{m,i}|: the residual ‖H·y − λ·y‖ of each Ritz pair, a bound on the distance from λ to
    /// the nearest true eigenvalue.
    public let residuals: [Double]
    public let iterations: Int
}

public func lanczosTopEigenvalues(_ op: HessianOperator, top: Int, iterations: Int, seed: UInt64) throws -> LanczosResult {
    let n = op.dimension
    guard top >= 1 else { throw AnalysisError("--top must be >= 1, got \(top)") }
    guard iterations >= top else { throw AnalysisError("--iterations (\(iterations)) must be at least --top (\(top))") }
    let m = min(iterations, n)
    guard top <= m else { throw AnalysisError("--top \(top) exceeds the number of parameters (\(n))") }
    var rng = RandomGenerator(seed: seed).fork("lanczos")
    var q = (0..<n).map { _ in rng.nextNormal() }
    var norm = q.reduce(0) { $0 + $1 * $1 }.squareRoot()
    q = q.map { $0 / norm }
    var basis: [[Double]] = [q]
    var alphas: [Double] = [], betas: [Double] = []
    for j in 0..<m {
        var w = try op.apply(basis[j])
        let alpha = zip(w, basis[j]).reduce(0) { $0 + $1.0 * $1.1 }
        alphas.append(alpha)
        // Full reorthogonalisation (twice, for stability).
        for _ in 0..<2 {
            for b in basis {
                let c = zip(w, b).reduce(0) { $0 + $1.0 * $1.1 }
                for i in 0..<n { w[i] -= c * b[i] }
            }
        }
        norm = w.reduce(0) { $0 + $1 * $1 }.squareRoot()
        if j == m - 1 { betas.append(norm); break }
        if norm < 1e-10 * max(1, abs(alpha)) {  // an invariant subspace: the Ritz values are exact
            betas.append(0)
            break
        }
        betas.append(norm)
        basis.append(w.map { $0 / norm })
    }
    let size = alphas.count
    var t = [Double](repeating: 0, count: size * size)
    for i in 0..<size {
        t[i * size + i] = alphas[i]
        if i + 1 < size { t[i * size + i + 1] = betas[i]; t[(i + 1) * size + i] = betas[i] }
    }
    let (values, vectors) = symmetricEigenvalues(t, dimension: size)
    let k = min(top, size)
    let lastBeta = betas.last ?? 0
    let residuals = (0..<k).map { abs(lastBeta * vectors[(size - 1) * size + $0]) }
    return LanczosResult(eigenvalues: Array(values.prefix(k)), residuals: residuals, iterations: size)
}

/// Hutchinson's estimate of tr(H): the mean of vᵀHv over Rademacher vectors v, with its standard error.
public func hutchinsonTrace(_ op: HessianOperator, samples: Int, seed: UInt64) throws -> (trace: Double, standardError: Double) {
    guard samples >= 2 else { throw AnalysisError("--trace-samples must be >= 2 (for a standard error), got \(samples)") }
    var rng = RandomGenerator(seed: seed).fork("hutchinson")
    var values: [Double] = []
    for _ in 0..<samples {
        let v = (0..<op.dimension).map { _ in rng.nextUInt64() & 1 == 0 ? -1.0 : 1.0 }
        let hv = try op.apply(v)
        values.append(zip(v, hv).reduce(0) { $0 + $1.0 * $1.1 })
    }
    let (mean, se) = meanAndStandardError(values)
    return (mean, se)
}

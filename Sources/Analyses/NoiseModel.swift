import Datasets
import Engine
import Foundation

/// The inputs of the gradient-noise analysis (`adai-bench noise`): CIFAR images average-pooled to
/// side × side per channel (3·side² features), scaled to [0, 1], then standardised per feature over
/// the set, in Double. Row-major `count × features`.
public struct NoiseData {
    public let inputs: [Double]
    public let labels: [Int]
    public let count: Int
    public let features: Int
    public let classes: Int

    public init(inputs: [Double], labels: [Int], features: Int, classes: Int) throws {
        guard features >= 1, classes >= 2, !labels.isEmpty, inputs.count == labels.count * features else {
            throw AnalysisError("the noise data need \(features) features per example and at least one example, got \(inputs.count) values for \(labels.count) labels")
        }
        guard labels.allSatisfy({ $0 >= 0 && $0 < classes }) else { throw AnalysisError("a label lies outside 0..<\(classes)") }
        self.inputs = inputs; self.labels = labels; self.count = labels.count; self.features = features; self.classes = classes
    }

    /// `records` pooled to `side` × `side` per channel; `side` must divide 32.
    public static func pooled(_ records: CIFARRecords, side: Int, classes: Int = 10) throws -> NoiseData {
        guard side >= 1, CIFARImage.side % side == 0 else { throw AnalysisError("--side must divide 32 (1, 2, 4, 8, 16 or 32), got \(side)") }
        guard records.count >= 2 else { throw AnalysisError("the noise analysis needs at least 2 images, got \(records.count)") }
        let block = CIFARImage.side / side, features = 3 * side * side
        var x = [Double](repeating: 0, count: records.count * features)
        for n in 0..<records.count {
            let base = n * CIFARImage.pixelCount
            for c in 0..<3 { for by in 0..<side { for bx in 0..<side {
                var s = 0.0
                for y in 0..<block { for xx in 0..<block {
                    s += Double(records.pixels[base + c * CIFARImage.planeSize + (by * block + y) * CIFARImage.side + bx * block + xx])
                } }
                x[n * features + (c * side + by) * side + bx] = s / Double(block * block) / 255
            } } }
        }
        for f in 0..<features {
            var mean = 0.0, sq = 0.0
            for n in 0..<records.count { mean += x[n * features + f] }
            mean /= Double(records.count)
            for n in 0..<records.count { sq += (x[n * features + f] - mean) * (x[n * features + f] - mean) }
            let sd = max((sq / Double(records.count)).squareRoot(), 1e-12)
            for n in 0..<records.count { x[n * features + f] = (x[n * features + f] - mean) / sd }
        }
        return try NoiseData(inputs: x, labels: records.labels.map(Int.init), features: features, classes: classes)
    }

    /// The examples `rows`, in that order.
    public func subset(_ rows: [Int]) -> NoiseData {
        var x = [Double](); x.reserveCapacity(rows.count * features)
        for r in rows { x += inputs[(r * features)..<((r + 1) * features)] }
        return try! NoiseData(inputs: x, labels: rows.map { labels[$0] }, features: features, classes: classes)
    }
}

/// A network small enough to hold its full Hessian: inputs → `hidden` tanh units → softmax over the
/// classes, with mean cross-entropy loss, in Double; `hidden` = 0 is softmax (multinomial logistic)
/// regression, whose Hessian and per-example gradient covariance have closed forms (the tests).
///
/// Parameters, flattened: W₁ (hidden × inputs, row-major), b₁, W₂ (classes × hidden), b₂; or, with
/// no hidden layer, W (classes × inputs), b. Gradients are written out by hand (backpropagation
/// through two dense layers, matrix products by BLAS) and checked against finite differences.
public struct NoiseMLP {
    public let inputs: Int, hidden: Int, classes: Int

    public init(inputs: Int, hidden: Int, classes: Int) throws {
        guard inputs >= 1, hidden >= 0, classes >= 2 else {
            throw AnalysisError("the noise model needs inputs >= 1, --hidden >= 0 and at least 2 classes, got \(inputs), \(hidden), \(classes)")
        }
        self.inputs = inputs; self.hidden = hidden; self.classes = classes
    }

    public var dimension: Int { hidden == 0 ? classes * (inputs + 1) : hidden * (inputs + 1) + classes * (hidden + 1) }

    /// Weights ~ N(0, 1/fan-in), biases 0 (LeCun initialisation), from `generator`.
    public func initialParameters(_ generator: RandomGenerator) -> [Double] {
        var rng = generator
        var theta = [Double](repeating: 0, count: dimension)
        if hidden == 0 {
            for i in 0..<(classes * inputs) { theta[i] = rng.nextNormal() / Double(inputs).squareRoot() }
        } else {
            for i in 0..<(hidden * inputs) { theta[i] = rng.nextNormal() / Double(inputs).squareRoot() }
            let w2 = hidden * (inputs + 1)
            for i in 0..<(classes * hidden) { theta[w2 + i] = rng.nextNormal() / Double(hidden).squareRoot() }
        }
        return theta
    }

    /// The forward pass: hidden activations (N × hidden; empty without a hidden layer), softmax
    /// probabilities (N × classes) and per-example losses.
    func forward(_ theta: [Double], _ data: NoiseData) -> (h: [Double], p: [Double], losses: [Double]) {
        let n = data.count, d = inputs, k = classes
        var h: [Double] = []
        var features = data.inputs, width = d, w2Offset = 0
        if hidden > 0 {
            h = [Double](repeating: 0, count: n * hidden)
            for r in 0..<n { for j in 0..<hidden { h[r * hidden + j] = theta[hidden * d + j] } }
            theta.withUnsafeBufferPointer { t in
                DoubleLinearAlgebra.gemm(transposeA: false, transposeB: true, m: n, n: hidden, k: d, alpha: 1,
                            data.inputs, lda: d, t.baseAddress!, ldb: d, beta: 1, &h, ldc: hidden)
            }
            for i in 0..<h.count { h[i] = Foundation.tanh(h[i]) }
            features = h; width = hidden; w2Offset = hidden * (d + 1)
        }
        var z = [Double](repeating: 0, count: n * k)
        let bOffset = w2Offset + k * width
        for r in 0..<n { for c in 0..<k { z[r * k + c] = theta[bOffset + c] } }
        theta.withUnsafeBufferPointer { t in
            DoubleLinearAlgebra.gemm(transposeA: false, transposeB: true, m: n, n: k, k: width, alpha: 1,
                            features, lda: width, t.baseAddress! + w2Offset, ldb: width, beta: 1, &z, ldc: k)
        }
        var losses = [Double](repeating: 0, count: n)
        for r in 0..<n {
            var m = -Double.infinity
            for c in 0..<k { m = max(m, z[r * k + c]) }
            var s = 0.0
            for c in 0..<k { let e = Foundation.exp(z[r * k + c] - m); z[r * k + c] = e; s += e }
            for c in 0..<k { z[r * k + c] /= s }
            losses[r] = -Foundation.log(max(z[r * k + data.labels[r]], 1e-300))
        }
        return (h, z, losses)
    }

    /// The backward pass's error signals: δ₂ = p − onehot (N × classes) and, with a hidden layer,
    /// δ₁ = (δ₂·W₂) ⊙ (1 − h²) (N × hidden).
    func deltas(_ theta: [Double], _ data: NoiseData, _ h: [Double], _ p: [Double]) -> (d2: [Double], d1: [Double]) {
        let n = data.count, k = classes
        var d2 = p
        for r in 0..<n { d2[r * k + data.labels[r]] -= 1 }
        guard hidden > 0 else { return (d2, []) }
        var d1 = [Double](repeating: 0, count: n * hidden)
        theta.withUnsafeBufferPointer { t in
            DoubleLinearAlgebra.gemm(transposeA: false, transposeB: false, m: n, n: hidden, k: k, alpha: 1,
                            d2, lda: k, t.baseAddress! + hidden * (inputs + 1), ldb: hidden, beta: 0, &d1, ldc: hidden)
        }
        for i in 0..<d1.count { d1[i] *= 1 - h[i] * h[i] }
        return (d2, d1)
    }

    /// The mean cross-entropy.
    public func loss(_ theta: [Double], _ data: NoiseData) -> Double {
        forward(theta, data).losses.reduce(0, +) / Double(data.count)
    }

    /// ∇ of the mean cross-entropy, without forming per-example gradients.
    public func meanGradient(_ theta: [Double], _ data: NoiseData) -> [Double] {
        let (h, p) = { let f = forward(theta, data); return (f.h, f.p) }()
        let (d2, d1) = deltas(theta, data, h, p)
        let n = data.count, d = inputs, k = classes, scale = 1 / Double(n)
        var g = [Double](repeating: 0, count: dimension)
        // One dense layer's gradient: W += δᵀ·A / N, b += column sums of δ / N.
        func dense(_ delta: [Double], _ a: [Double], out: Int, width: Int, offset: Int) {
            g.withUnsafeMutableBufferPointer { gp in
                DoubleLinearAlgebra.gemm(transposeA: true, transposeB: false, m: out, n: width, k: n, alpha: scale,
                            delta, lda: out, a, ldb: width, beta: 0, gp.baseAddress! + offset, ldc: width)
            }
            for r in 0..<n { for o in 0..<out { g[offset + out * width + o] += delta[r * out + o] * scale } }
        }
        if hidden == 0 {
            dense(d2, data.inputs, out: k, width: d, offset: 0)
        } else {
            dense(d1, data.inputs, out: hidden, width: d, offset: 0)
            dense(d2, h, out: k, width: hidden, offset: hidden * (d + 1))
        }
        return g
    }

    /// Every example's gradient, row-major N × dimension.
    public func perExampleGradients(_ theta: [Double], _ data: NoiseData) -> [Double] {
        let f = forward(theta, data)
        let (d2, d1) = deltas(theta, data, f.h, f.p)
        let n = data.count, d = inputs, k = classes, p = dimension
        var g = [Double](repeating: 0, count: n * p)
        g.withUnsafeMutableBufferPointer { gp in
            data.inputs.withUnsafeBufferPointer { x in
                for r in 0..<n {
                    let row = gp.baseAddress! + r * p
                    func dense(_ delta: UnsafePointer<Double>, _ a: UnsafePointer<Double>, out: Int, width: Int, offset: Int) {
                        for o in 0..<out {
                            let dv = delta[o]
                            for j in 0..<width { row[offset + o * width + j] = dv * a[j] }
                            row[offset + out * width + o] = dv
                        }
                    }
                    d2.withUnsafeBufferPointer { d2p in
                        if hidden == 0 {
                            dense(d2p.baseAddress! + r * k, x.baseAddress! + r * d, out: k, width: d, offset: 0)
                        } else {
                            d1.withUnsafeBufferPointer { d1p in
                                dense(d1p.baseAddress! + r * hidden, x.baseAddress! + r * d, out: hidden, width: d, offset: 0)
                            }
                            f.h.withUnsafeBufferPointer { hp in
                                dense(d2p.baseAddress! + r * k, hp.baseAddress! + r * hidden, out: k, width: hidden, offset: hidden * (d + 1))
                            }
                        }
                    }
                }
            }
        }
        return g
    }
}

/// A symmetric matrix's eigenvalues (ascending) and eigenvectors (row i of `vectors`, row-major
/// n × n, is the eigenvector of `values[i]`), by LAPACK's dsyevd (through Engine).
public func symmetricEigen(_ matrix: [Double], dimension n: Int) throws -> (values: [Double], vectors: [Double]) {
    guard n >= 1, matrix.count == n * n else { throw AnalysisError("an eigen-decomposition needs an n × n matrix") }
    let (values, vectors, info) = DoubleLinearAlgebra.symmetricEigen(matrix, dimension: n)
    guard info == 0 else { throw AnalysisError("LAPACK dsyevd failed (info \(info)) on a \(n) × \(n) matrix") }
    return (values, vectors)
}

/// Vᵀ·M·V for a symmetric n × n M, with V's columns the eigenvectors (given as the rows of `vectors`).
public func rotate(_ m: [Double], into vectors: [Double], dimension n: Int) -> [Double] {
    var tmp = [Double](repeating: 0, count: n * n), out = [Double](repeating: 0, count: n * n)
    // E = rows-as-eigenvectors: Vᵀ = E, so VᵀMV = E·M·Eᵀ.
    DoubleLinearAlgebra.gemm(transposeA: false, transposeB: false, m: n, n: n, k: n, alpha: 1,
                            vectors, lda: n, m, ldb: n, beta: 0, &tmp, ldc: n)
    DoubleLinearAlgebra.gemm(transposeA: false, transposeB: true, m: n, n: n, k: n, alpha: 1,
                            tmp, lda: n, vectors, ldb: n, beta: 0, &out, ldc: n)
    return out
}

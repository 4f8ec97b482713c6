import Engine
import Foundation

/// Analytic test functions with exact gradients, for watching an optimizer's trajectory
/// (`adai-bench optimize`) and for the escape-time experiments.
///
///   quadratic        f(x) = ½ Σ hᵢ xᵢ²   curvatures h (default all 1)
///   saddle           the quadratic with default curvatures (1, …, 1, −0.01): the origin is a strict saddle
///   rosenbrock       f(x) = Σᵢ [100 (xᵢ₊₁ − xᵢ²)² + (1 − xᵢ)²], minimum 0 at (1, …, 1); dim ≥ 2
///   styblinski-tang  f(x) = ½ Σ (xᵢ⁴ − 16xᵢ² + 5xᵢ), global minimum at xᵢ = −2.903534
///
/// Values and gradients are computed in Double from the Float32 point.
public struct AnalyticFunction {
    public enum Kind: String, CaseIterable { case rosenbrock, styblinskiTang = "styblinski-tang", quadratic, saddle }

    public let kind: Kind
    public let dimension: Int
    /// hᵢ of quadratic and saddle; empty otherwise.
    public let curvatures: [Double]

    /// The settings a function reads (from `--set`); everything else belongs to the optimizer.
    public static let optionKeys = ["curvatures"]

    public init(name: String, dimension: Int, options: OptimizerOptions = [:]) throws {
        guard let kind = Kind(rawValue: name) else {
            throw OptimError("unknown function '\(name)'; known functions: \(Kind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard dimension >= (kind == .rosenbrock ? 2 : 1) else {
            throw OptimError("\(name): dim must be >= \(kind == .rosenbrock ? 2 : 1), got \(dimension)")
        }
        self.kind = kind
        self.dimension = dimension
        var r = OptionReader(owner: name, options: options)
        switch kind {
        case .quadratic:
            curvatures = r.numbers("curvatures", default: [Double](repeating: 1, count: dimension), count: dimension)
        case .saddle:
            curvatures = r.numbers("curvatures", default: [Double](repeating: 1, count: dimension - 1) + [-0.01], count: dimension)
        case .rosenbrock, .styblinskiTang:
            curvatures = []
        }
        try r.finish()
    }

    public func value(_ x: [Float]) -> Double {
        let x = x.map(Double.init)
        switch kind {
        case .quadratic, .saddle:
            return 0.5 * zip(curvatures, x).reduce(0) { $0 + $1.0 * $1.1 * $1.1 }
        case .rosenbrock:
            var f = 0.0
            for i in 0..<(dimension - 1) {
                let a = x[i + 1] - x[i] * x[i], b = 1 - x[i]
                f += 100 * a * a + b * b
            }
            return f
        case .styblinskiTang:
            return 0.5 * x.reduce(0) { $0 + $1 * $1 * $1 * $1 - 16 * $1 * $1 + 5 * $1 }
        }
    }

    public func gradient(_ x: [Float]) -> [Double] {
        let x = x.map(Double.init)
        switch kind {
        case .quadratic, .saddle:
            return zip(curvatures, x).map { $0 * $1 }
        case .rosenbrock:
            var g = [Double](repeating: 0, count: dimension)
            for i in 0..<(dimension - 1) {
                let a = x[i + 1] - x[i] * x[i]
                g[i] += -400 * x[i] * a - 2 * (1 - x[i])
                g[i + 1] += 200 * a
            }
            return g
        case .styblinskiTang:
            return x.map { 2 * $0 * $0 * $0 - 16 * $0 + 2.5 }
        }
    }
}

/// Runs an optimizer on an analytic function from `initial` for `steps` steps and returns the
/// trajectory: row 0 is the initial point, row t the point after step t, each with f there.
/// With `noiseStd` > 0 every gradient component gets independent N(0, noiseStd²) noise drawn
/// from a generator seeded with `seed`.
public struct AnalyticRun {
    public struct Row: Equatable {
        public let step: Int
        public let loss: Double
        public let point: [Float]
    }

    public let function: AnalyticFunction
    public let optimizer: String
    public let options: OptimizerOptions
    public let steps: Int
    public let initial: [Float]
    public let noiseStd: Double
    public let seed: UInt64

    public init(function: AnalyticFunction, optimizer: String, options: OptimizerOptions, steps: Int,
                initial: [Float], noiseStd: Double = 0, seed: UInt64 = 0) throws
    {
        guard steps >= 0 else { throw OptimError("steps must be >= 0, got \(steps)") }
        guard initial.count == function.dimension else {
            throw OptimError("init has \(initial.count) values but dim is \(function.dimension)")
        }
        guard initial.allSatisfy(\.isFinite) else { throw OptimError("init must be finite numbers") }
        guard noiseStd >= 0, noiseStd.isFinite else { throw OptimError("noise-std must be >= 0, got \(noiseStd)") }
        self.function = function
        self.optimizer = optimizer
        self.options = options
        self.steps = steps
        self.initial = initial
        self.noiseStd = noiseStd
        self.seed = seed
        // Check the optimizer and its settings now, before any work.
        try validateOptimizerOptions(optimizer, options)
    }

    public func run() throws -> [Row] {
        let x = Variable(Tensor(shape: [function.dimension], values: initial), requiresGrad: true)
        let optimizer = try makeOptimizer(self.optimizer, parameters: [NamedParameter("x", x)], options: options)
        var rng = RandomGenerator(seed: seed)
        var rows = [Row(step: 0, loss: function.value(initial), point: initial)]
        rows.reserveCapacity(steps + 1)
        let grad = Tensor(zeros: [function.dimension])
        x.grad = grad
        for t in stride(from: 1, through: steps, by: 1) {
            let g = function.gradient(x.value.array)
            for i in 0..<function.dimension {
                grad[i] = Float(noiseStd > 0 ? g[i] + noiseStd * rng.nextNormal() : g[i])
            }
            optimizer.step()
            let point = x.value.array
            rows.append(Row(step: t, loss: function.value(point), point: point))
        }
        return rows
    }

    /// The trajectory as CSV: `step,loss,x0,…,x{D−1}`, every number a Float32 with 9 significant digits.
    public static func csv(_ rows: [Row], dimension: Int) -> String {
        var out = "step,loss," + (0..<dimension).map { "x\($0)" }.joined(separator: ",") + "\n"
        for row in rows {
            out += "\(row.step),\(float9(Float(row.loss)))"
            for v in row.point { out += "," + float9(v) }
            out += "\n"
        }
        return out
    }
}

/// A Float32 with 9 significant digits (enough to read back the same float).
func float9(_ x: Float) -> String { NumberFormat.g(9).string(Double(x)) }

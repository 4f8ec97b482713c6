import Engine
import Foundation
import Optim
import TestSupport
import XCTest

/// The JSON fixtures written by scripts/fixtures/make_optimizer_fixtures.py from PyTorch.
enum Fixtures {
    static let directory = Repository.url("Tests/OptimTests/Fixtures")

    static func load<T: Decodable>(_ name: String, as type: T.Type) throws -> T {
        let data = try Data(contentsOf: directory.appendingPathComponent(name))
        return try JSONDecoder().decode(T.self, from: data)
    }

    struct OptimizerFile: Decodable {
        struct Parameter: Decodable {
            let name: String
            let shape: [Int]
            let initial: [Float]
        }
        struct Group: Decodable {
            let parameters: [String]
            let options: OptimizerOptions
        }
        struct State: Decodable {
            let step: Int?
            let buffers: [String: [Float]]
        }
        struct Case: Decodable {
            let id: String
            let optimizer: String
            let groups: [Group]
            /// The value of every parameter after each step.
            let trajectory: [[String: [Float]]]
            let finalState: [String: State]
        }
        let torch: String
        let steps: Int
        let lrFactors: [Double]
        let parameters: [Parameter]
        /// Per step, per parameter; nil means the parameter has no gradient in that step.
        let gradients: [[String: [Float]?]]
        var cases: [Case]
    }

    /// Fixtures/optimizers.json with the cases of every `optimizers-<name>.json` beside it (an optimizer
    /// added after the paper's brings its own file, written by its own generator from the same
    /// parameters, gradients and lr factors: scripts/fixtures/make_optimizer_fixtures.py).
    static let optimizers: OptimizerFile = {
        do {
            var merged = try load("optimizers.json", as: OptimizerFile.self)
            let extra = try FileManager.default.contentsOfDirectory(atPath: directory.path)
                .filter { $0.hasPrefix("optimizers-") && $0.hasSuffix(".json") }.sorted()
            for name in extra {
                let file = try load(name, as: OptimizerFile.self)
                guard file.steps == merged.steps, file.lrFactors == merged.lrFactors,
                      file.parameters.map(\.initial) == merged.parameters.map(\.initial),
                      file.gradients == merged.gradients
                else { fatalError("Fixtures/\(name) was made from other parameters or gradients than optimizers.json") }
                merged.cases += file.cases
            }
            return merged
        } catch {
            fatalError("cannot read the optimizer fixtures: \(error)")
        }
    }()
}

/// The relative error of `a` against the reference `b` in the max norm:
/// max |aᵢ − bᵢ| / max |bᵢ|. Float32 rounding of a parameter that passes close to zero leaves an
/// absolute error of about one ulp of the values it was computed from, so errors are measured
/// against the scale of the whole tensor rather than element by element.
func maxRelativeError(_ a: [Float], _ b: [Float]) -> Double {
    precondition(a.count == b.count, "\(a.count) values against \(b.count)")
    var difference = 0.0, scale = 0.0
    for (x, y) in zip(a, b) {
        if x.isNaN != y.isNaN { return .infinity }
        difference = max(difference, x == y ? 0 : abs(Double(x) - Double(y)))
        scale = max(scale, abs(Double(y)))
    }
    return difference == 0 ? 0 : difference / max(scale, Double(Float.leastNormalMagnitude))
}

/// For diagnosis: the element with the largest relative error and its values.
func worstElement(_ a: [Float], _ b: [Float]) -> String {
    var worst = -1.0, at = 0
    for (i, (x, y)) in zip(a, b).enumerated() {
        let e = abs(Double(x) - Double(y)) / max(abs(Double(y)), 1e-30)
        if e > worst { worst = e; at = i }
    }
    let scale = b.map { abs(Double($0)) }.max() ?? 0
    return "element \(at): \(a[at]) vs \(b[at]) (abs error \(abs(Double(a[at]) - Double(b[at]))), tensor max \(scale))"
}

import Engine
import Foundation
import Optim
import XCTest

/// The JSON fixtures written by scripts/fixtures/make_optimizer_fixtures.py from PyTorch.
enum Fixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

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
        let cases: [Case]
    }

    static let optimizers: OptimizerFile = {
        do { return try load("optimizers.json", as: OptimizerFile.self) } catch {
            fatalError("cannot read Fixtures/optimizers.json: \(error)")
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

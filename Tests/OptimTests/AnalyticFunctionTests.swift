import Engine
import Foundation
import Optim
import XCTest

/// The analytic functions and `adai-bench optimize`'s runner.
final class AnalyticFunctionTests: XCTestCase {
    struct File: Decodable {
        struct Case: Decodable {
            let function: String
            let dim: Int
            let optimizer: String
            let options: OptimizerOptions
            let steps: Int
            let `init`: [Float]
            let curvatures: [Double]?
            /// step, loss, x0, …
            let rows: [[Double]]
        }
        let cases: [Case]
    }

    /// Whole trajectories against PyTorch (autograd gradients, torch.optim / reference optimizers).
    func testTrajectoriesMatchPyTorch() throws {
        let file = try Fixtures.load("analytic.json", as: File.self)
        for c in file.cases {
            let options: OptimizerOptions = c.curvatures.map { ["curvatures": .list($0)] } ?? [:]
            let function = try AnalyticFunction(name: c.function, dimension: c.dim, options: options)
            let rows = try AnalyticRun(function: function, optimizer: c.optimizer, options: c.options, steps: c.steps,
                                       initial: c.`init`).run()
            XCTAssertEqual(rows.count, c.rows.count)
            var worst = 0.0
            for (row, expected) in zip(rows, c.rows) {
                worst = max(worst, maxRelativeError(row.point, expected.dropFirst(2).map { Float($0) }))
                XCTAssertEqual(row.loss, expected[1], accuracy: 1e-4 * max(1, abs(expected[1])), "\(c.function) step \(row.step)")
            }
            print("analytic \(c.function) \(c.optimizer): max relative error of the points \(worst)")
            XCTAssertLessThanOrEqual(worst, 1e-5, "\(c.function) with \(c.optimizer)")
        }
    }

    /// The example: Adam at lr 0.01 from (−1.5, 2) heads down the valley toward (1, 1).
    /// In 500 steps it gets from loss 12.5 to 4.21 at (−1.052, 1.112), exactly where PyTorch's Adam
    /// gets; it reaches (1, 1) to within 0.01 after 3000 steps.
    func testAdamOnRosenbrockConvergesTowardOneOne() throws {
        let function = try AnalyticFunction(name: "rosenbrock", dimension: 2)
        func distance(_ p: [Float]) -> Double { hypot(Double(p[0]) - 1, Double(p[1]) - 1) }
        let rows = try AnalyticRun(function: function, optimizer: "adam", options: ["lr": .number(0.01)], steps: 3000,
                                   initial: [-1.5, 2]).run()
        XCTAssertEqual(rows[0].loss, 12.5)
        XCTAssertLessThan(rows[500].loss, 4.22)
        XCTAssertLessThan(distance(rows[500].point), distance(rows[0].point) - 0.6)
        for t in stride(from: 100, through: 3000, by: 100) {
            XCTAssertLessThan(rows[t].loss, rows[t - 100].loss, "loss should fall every 100 steps (step \(t))")
        }
        XCTAssertLessThan(distance(rows[3000].point), 0.01)
        XCTAssertLessThan(rows[3000].loss, 1e-4)
    }

    func testGradientsMatchFiniteDifferences() throws {
        let cases: [(String, Int, OptimizerOptions)] = [
            ("rosenbrock", 4, [:]), ("styblinski-tang", 3, [:]), ("quadratic", 3, ["curvatures": .list([1, 10, -2])]),
            ("saddle", 3, [:]),
        ]
        for (name, dim, options) in cases {
            let f = try AnalyticFunction(name: name, dimension: dim, options: options)
            let x: [Float] = (0..<dim).map { Float($0) * 0.37 - 0.4 }
            let g = f.gradient(x)
            for i in 0..<dim {
                let h: Float = 1e-2
                var plus = x, minus = x
                plus[i] += h
                minus[i] -= h
                let numeric = (f.value(plus) - f.value(minus)) / Double(plus[i] - minus[i])
                XCTAssertEqual(g[i], numeric, accuracy: 1e-3 * max(1, abs(numeric)), "\(name) ∂/∂x\(i)")
            }
        }
        XCTAssertEqual(try AnalyticFunction(name: "saddle", dimension: 3).curvatures, [1, 1, -0.01])
        XCTAssertEqual(try AnalyticFunction(name: "quadratic", dimension: 2).curvatures, [1, 1])
        XCTAssertEqual(try AnalyticFunction(name: "rosenbrock", dimension: 3).value([1, 1, 1]), 0)
        XCTAssertEqual(try AnalyticFunction(name: "styblinski-tang", dimension: 1).gradient([-2.903534])[0], 0, accuracy: 1e-4)
    }

    func testNoiseIsSeededAndCSVHasFullFloatPrecision() throws {
        let f = try AnalyticFunction(name: "quadratic", dimension: 3)
        func run(seed: UInt64, noise: Double) throws -> [AnalyticRun.Row] {
            try AnalyticRun(function: f, optimizer: "sgd", options: ["lr": .number(0.1)], steps: 5,
                            initial: [1, 2, 3], noiseStd: noise, seed: seed).run()
        }
        XCTAssertEqual(try run(seed: 1, noise: 0.5), try run(seed: 1, noise: 0.5))
        XCTAssertNotEqual(try run(seed: 1, noise: 0.5), try run(seed: 2, noise: 0.5))
        XCTAssertEqual(try run(seed: 1, noise: 0), try run(seed: 2, noise: 0))
        let rows = try run(seed: 0, noise: 0)
        XCTAssertEqual(rows[1].point, [0.9, 1.8, 2.7].map { Float($0) })
        let csv = AnalyticRun.csv(rows, dimension: 3).split(separator: "\n")
        XCTAssertEqual(csv[0], "step,loss,x0,x1,x2")
        XCTAssertEqual(csv[1], "0,7,1,2,3")
        XCTAssertEqual(csv[2], "1,5.67000008,0.899999976,1.79999995,2.70000005")
        XCTAssertEqual(csv.count, 7)
        // 9 significant digits read back to the same Float32.
        for line in csv.dropFirst() {
            let fields = line.split(separator: ",").dropFirst(2)
            XCTAssertEqual(fields.count, 3)
        }
        XCTAssertEqual(Float(String(csv[2].split(separator: ",")[2]))!, rows[1].point[0])
    }

    func testMessages() {
        func message(_ body: () throws -> Any) -> String {
            do { _ = try body(); return "no error" } catch { return "\(error)" }
        }
        XCTAssertEqual(message { try AnalyticFunction(name: "himmelblau", dimension: 2) },
                       "unknown function 'himmelblau'; known functions: rosenbrock, styblinski-tang, quadratic, saddle")
        XCTAssertEqual(message { try AnalyticFunction(name: "rosenbrock", dimension: 1) }, "rosenbrock: dim must be >= 2, got 1")
        XCTAssertEqual(message { try AnalyticFunction(name: "quadratic", dimension: 3, options: ["curvatures": .list([1, 2])]) },
                       "quadratic: curvatures must be a list of 3 numbers, got [1.0, 2.0]")
        XCTAssertEqual(message { try AnalyticFunction(name: "rosenbrock", dimension: 2, options: ["curvatures": .list([1, 2])]) },
                       "rosenbrock: unknown key 'curvatures'; it has no settings")
        let f = try! AnalyticFunction(name: "quadratic", dimension: 2)
        XCTAssertEqual(message { try AnalyticRun(function: f, optimizer: "adam", options: [:], steps: 5, initial: [1]) },
                       "init has 1 values but dim is 2")
        XCTAssertEqual(message { try AnalyticRun(function: f, optimizer: "adai", options: [:], steps: 5, initial: [1, 2]) },
                       "adai: lr is required (it has no default)")
    }
}

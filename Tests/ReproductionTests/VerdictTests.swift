import Engine
import Foundation
import Reports
import XCTest
@testable import Reproduction

final class StatisticsTests: XCTestCase {
    func testStudentTQuantilesMatchTables() {
        // Printed t tables: t_{0.975,2} = 4.303, t_{0.975,4} = 2.776, t_{0.975,29} = 2.045, t_{0.8,4} = 0.941.
        XCTAssertEqual(studentTQuantile(0.975, df: 2), 4.3027, accuracy: 1e-3)
        XCTAssertEqual(studentTQuantile(0.975, df: 4), 2.7764, accuracy: 1e-3)
        XCTAssertEqual(studentTQuantile(0.975, df: 29), 2.0452, accuracy: 1e-3)
        XCTAssertEqual(studentTQuantile(0.8, df: 4), 0.9410, accuracy: 1e-3)
        XCTAssertEqual(studentTQuantile(0.025, df: 4), -2.7764, accuracy: 1e-3)
        XCTAssertEqual(studentTCDF(0, df: 7), 0.5, accuracy: 1e-12)
    }

    func testKendallTau() {
        XCTAssertEqual(kendallTau([1, 2, 3, 4], [10, 20, 30, 40]), 1, accuracy: 1e-12)
        XCTAssertEqual(kendallTau([1, 2, 3, 4], [40, 30, 20, 10]), -1, accuracy: 1e-12)
        // One swapped pair of six: (5 − 1)/6.
        XCTAssertEqual(kendallTau([1, 2, 3, 4], [1, 3, 2, 4]), 4.0 / 6, accuracy: 1e-12)
    }

    func testPairedComparisonIntervalAndDetectableEffect() {
        // d = 1, 2, 3: mean 2, sd 1, t_{0.975,2}·1/√3 = 2.484.
        let c = PairedComparison(a: "A", b: "B", valuesA: [1: 0, 2: 0, 3: 0], valuesB: [1: 1, 2: 2, 3: 3],
                                 lowerIsBetter: true, margin: 0)
        XCTAssertEqual(c.mean, 2, accuracy: 1e-12)
        XCTAssertEqual(c.low, 2 - 4.3027 / 3.0.squareRoot(), accuracy: 1e-3)
        XCTAssertEqual(c.wins, 3)
        XCTAssertEqual(c.verdict, .inconclusive)
        XCTAssertEqual(c.kind, .underpowered)
        XCTAssertEqual(c.minimumDetectableEffect!, (4.3027 + 1.0607) / 3.0.squareRoot(), accuracy: 2e-3)
        // Seeds needed shrink as the effect grows.
        XCTAssertLessThan(pairsNeededFor(effect: 2, sd: 1)!, pairsNeededFor(effect: 0.5, sd: 1)!)
    }
}

/// Prepared results: each verdict flips when the evidence does.
final class VerdictTests: XCTestCase {
    /// Test errors per seed (5 seeds) around `mean` with a seed effect shared by every optimizer.
    func errors(_ mean: Double, jitter: Double = 0.05) -> [Int: Double] {
        let seedEffect = [0.3, -0.2, 0.1, -0.4, 0.2]
        var out: [Int: Double] = [:]
        for s in 0..<5 { out[s + 1] = mean + seedEffect[s] + jitter * Double((s * 7) % 3 - 1) }
        return out
    }

    func claim6(adai: Double, adam: Double, sgdm: Double, epochs: Int = 50) -> ClaimVerdict {
        Verdicts.pairs(claim: "6", a: ["adai"], baselines: ["sgdm", "adam"],
                       values: ["adai": errors(adai), "adam": errors(adam, jitter: 0.03), "sgdm": errors(sgdm, jitter: 0.04)],
                       lowerIsBetter: true, margin: ClaimRules.testErrorMargin, unit: "pp",
                       epochs: ["adai": epochs, "adam": epochs, "sgdm": epochs])
    }

    func testClaim6FlipsWithTheEvidence() {
        XCTAssertEqual(claim6(adai: 5, adam: 7, sgdm: 6).verdict, .supported)
        // An Adam that beats Adai contradicts the claim.
        let flipped = claim6(adai: 7, adam: 5, sgdm: 8)
        XCTAssertEqual(flipped.verdict, .contradicted)
        XCTAssertEqual(flipped.comparisons["adai-vs-adam"]?.verdict, .contradicted)
        XCTAssertEqual(flipped.comparisons["adai-vs-sgdm"]?.verdict, .supported)
        // Equal means, noisy: neither; the reason names the power problem.
        var noisy = errors(5, jitter: 0.6)
        noisy[2]! += 0.5
        let tie = Verdicts.pairs(claim: "6", a: ["adai"], baselines: ["sgdm"], values: ["adai": errors(5, jitter: 0.6), "sgdm": noisy],
                                 lowerIsBetter: true, margin: ClaimRules.testErrorMargin, unit: "pp")
        XCTAssertEqual(tie.verdict, .inconclusive)
        XCTAssertEqual(tie.kind, .underpowered)
        XCTAssertNotNil(tie.comparisons["adai-vs-sgdm"]?.pairsNeeded)
        // Runs of 3 epochs: too short to decide, whatever the numbers.
        let short = claim6(adai: 5, adam: 7, sgdm: 6, epochs: 3)
        XCTAssertEqual(short.verdict, .inconclusive)
        XCTAssertEqual(short.kind, .scaleTooSmall)
        // A missing baseline: runs failed.
        let missing = Verdicts.pairs(claim: "6", a: ["adai"], baselines: ["adam"], values: ["adai": errors(5)],
                                     lowerIsBetter: true, margin: 0.1, unit: "pp")
        XCTAssertEqual(missing.kind, .runsFailed)
    }

    func testAdvantageBelowTheMarginIsContradictedAndSaysSo() {
        // Adai better by 0.02 pp every seed: real, but under the 0.1 pp margin.
        let v = Verdicts.pairs(claim: "6", a: ["adai"], baselines: ["sgdm"],
                               values: ["adai": errors(5, jitter: 0), "sgdm": errors(5.02, jitter: 0.001)],
                               lowerIsBetter: true, margin: ClaimRules.testErrorMargin, unit: "pp")
        XCTAssertEqual(v.verdict, .contradicted)
        XCTAssertEqual(v.kind, .belowMargin)
    }

    func testPaperTable2Power() throws {
        let rows = [("resnet18", "adai", 4.74, 0.14), ("resnet18", "sgdm", 5.01, 0.03), ("resnet18", "adam", 6.53, 0.03),
                    ("densenet121", "adai", 19.59, 0.38), ("densenet121", "sgdm", 19.81, 0.33)]
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("table2-\(getpid()).csv").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let text = "dataset,model,optimizer,mean,std\n" + rows.map { "d,\($0.0),\($0.1),\($0.2),\($0.3)" }.joined(separator: "\n") + "\n"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let table = try PaperTable.read(path)
        let power = PaperTable2.power(table)
        let adam = try XCTUnwrap(power.first { $0.model == "resnet18" && $0.b == "adam" })
        XCTAssertLessThanOrEqual(adam.seedsNeeded!, 3)   // clear at 3 seeds
        let dense = try XCTUnwrap(power.first { $0.model == "densenet121" && $0.b == "sgdm" })
        XCTAssertGreaterThan(dense.seedsNeeded!, 3)      // not at 3 seeds
        let (cells, tau) = PaperTable2.cells(ours: ["resnet18": ["adai": 4.88, "sgdm": 5.01, "adam": 6.0]], table: table)
        XCTAssertEqual(cells.first { $0.optimizer == "adai" }!.differenceInPaperStd, 1, accuracy: 1e-9)
        XCTAssertEqual(tau["resnet18"]!, 1, accuracy: 1e-12)
    }
}

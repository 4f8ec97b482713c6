import Foundation
import XCTest
@testable import Reproduction

final class ReportTests: XCTestCase {
    func testTheReportOpensWithThePaperComparisonAndStatesEveryVerdictWithItsNumbers() throws {
        var v = Verdicts.pairs(claim: 6, a: ["adai"], baselines: ["adam"], values: ["adai": [1: 5, 2: 5.1, 3: 4.9], "adam": [1: 7, 2: 7.2, 3: 6.9]],
                               lowerIsBetter: true, margin: ClaimRules.testErrorMargin, unit: "pp")
        v.notes.append("a note")
        let report = ReproductionReport(
            scale: "test", summary: "a test", command: "adai-bench reproduce --scale test", commit: "abc", writtenAt: "now",
            paperVsThisRun: [ScaleComparisonRow(item: "epochs", paper: "200", thisRun: "20", ratio: 0.1)],
            reductions: ["epochs: 20"], openPoints: [], claims: [v], training: [], table2Cells: [], kendallTau: [:],
            paperGapPower: [], figures: ["6": "figures/claim-6.png"])
        let md = ReportWriter.markdown(report)
        let paperTable = try XCTUnwrap(md.range(of: "## Paper vs this run")), verdicts = try XCTUnwrap(md.range(of: "## Verdicts"))
        XCTAssertLessThan(paperTable.lowerBound, verdicts.lowerBound)
        XCTAssertTrue(md.contains("| epochs | 200 | 20 | 0.1 |"))
        XCTAssertTrue(md.contains("**supported**"))
        XCTAssertTrue(md.contains("adai vs adam: mean advantage 2.033 pp"), md)
        XCTAssertTrue(md.contains("![Claim 6](figures/claim-6.png)"))
        XCTAssertTrue(md.contains("`adai-bench reproduce --scale test` at commit `abc`"))

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("report-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try ReportWriter.write(report, to: directory)
        let decoded = try JSONDecoder().decode(ReproductionReport.self, from: Data(contentsOf: URL(fileURLWithPath: "\(directory)/report.json")))
        XCTAssertEqual(decoded.claims.first?.comparisons["adai-vs-adam"]?.wins, 3)
    }
}

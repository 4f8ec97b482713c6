import Foundation
import XCTest
@testable import Reproduction
import Reports

final class ReportTests: XCTestCase {
    func testTheReportOpensWithThePaperComparisonAndStatesEveryVerdictWithItsNumbers() throws {
        var v = Verdicts.pairs(claim: "6", a: ["adai"], baselines: ["adam"], values: ["adai": [1: 5, 2: 5.1, 3: 4.9], "adam": [1: 7, 2: 7.2, 3: 6.9]],
                               lowerIsBetter: true, margin: ClaimRules.testErrorMargin, unit: "pp")
        v.notes.append("a note")
        v.scope = "c: 3 epochs × 8 steps = 24 steps against the paper's 78200, seeds compared 3"
        let report = ReproductionReport(
            scale: "test", summary: "a test", command: "adai-bench reproduce --scale test", commit: "abc", writtenAt: "now",
            paperVsThisRun: [ScaleComparisonRow(item: "epochs", paper: "200", thisRun: "20", ratio: 0.1)],
            reductions: ["epochs: 20"], openPoints: [], claims: [v], training: [], table2Cells: [], kendallTau: [:],
            paperGapPower: [], figures: ["6": "figures/claim-6.png"])
        let md = ReportWriter.markdown(report)
        let paperTable = try XCTUnwrap(md.range(of: "## Paper vs this run")), verdicts = try XCTUnwrap(md.range(of: "## Verdicts"))
        XCTAssertLessThan(paperTable.lowerBound, verdicts.lowerBound)
        XCTAssertTrue(md.contains("| epochs | 200 | 20 | 0.1 |"))
        XCTAssertTrue(md.contains("| 6. Adai and AdaiW reach lower test error than SGD-M and the Adam family | **supported** | supported |"), md)
        XCTAssertTrue(md.contains("- Scope: c: 3 epochs × 8 steps = 24 steps against the paper's 78200, seeds compared 3."), "every verdict carries its scope")
        // Every report prints the rules changed after results, with their dates.
        let changes = try XCTUnwrap(md.range(of: "## Changes to the rules after results"))
        XCTAssertLessThan(changes.lowerBound, verdicts.lowerBound)
        for change in ClaimRules.changesAfterResults { XCTAssertTrue(md.contains(change.line), change.rule) }
        XCTAssertFalse(ClaimRules.changesAfterResults.isEmpty)
        XCTAssertTrue(md.contains("adai vs adam: mean advantage 2.033 pp"), md)
        XCTAssertTrue(md.contains("![Claim 6](figures/claim-6.png)"))
        XCTAssertTrue(md.contains("`adai-bench reproduce --scale test` at commit `abc`"))

        // Each experiment's row names its own metric: perplexity for the LSTM, not the CIFAR experiment's test error.
        var cifar = TrainingEvidence(experiment: "c", chosen: ["adai": 1], selectionNotes: []), ptb = TrainingEvidence(experiment: "p", chosen: ["adai": 1], selectionNotes: [])
        cifar.metric = "test_error"; cifar.model = "resnet-tiny"; cifar.finalMetric = ["adai": [1: 40]]; cifar.bestMetric = ["adai": [1: 39]]
        ptb.metric = "test_ppl"; ptb.model = "lstm"; ptb.finalMetric = ["adai": [1: 545]]; ptb.bestMetric = ["adai": [1: 545]]
        var withRuns = report
        withRuns.training = [cifar, ptb]
        let runs = ReportWriter.markdown(withRuns)
        XCTAssertTrue(runs.contains("| c | resnet-tiny | adai | 1 | 1 | test_error |"), runs)
        XCTAssertTrue(runs.contains("| p | lstm | adai | 1 | 1 | test_ppl |"), runs)

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("report-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try ReportWriter.write(report, to: directory)
        let decoded = try JSONDecoder().decode(ReproductionReport.self, from: Data(contentsOf: URL(fileURLWithPath: "\(directory)/report.json")))
        XCTAssertEqual(decoded.claims.first?.comparisons["adai-vs-adam"]?.wins, 3)
    }
}

/// The figures of claims 5, 6 and 8 draw the comparison runs only: the lr-selection runs share the experiment's
/// directory (other learning rates, and the selection seed), and they stay out of the figures as of the verdicts.
final class ComparisonFigureTests: XCTestCase {
    func testFiguresLeaveTheSelectionRunsOut() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("comparison-figure-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        func run(_ optimizer: String, lr: Double, seed: Int, errors: [Double]) throws -> String {
            let directory = "\(root)/exp/\(optimizer)-lr\(lr)-wd0.0005/seed-\(seed)"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let rows = errors.enumerated().map { "\($0.offset + 1),\(lr),1.5,50,1.6,\($0.element),1,100" }
            try (["epoch,lr,train_loss,train_error,test_loss,test_error,epoch_seconds,examples_per_second"] + rows)
                .joined(separator: "\n").appending("\n").write(toFile: "\(directory)/metrics.csv", atomically: true, encoding: .utf8)
            try """
                {"experiment": "exp", "runId": "\(optimizer)-lr\(lr)-wd0.0005/seed-\(seed)", "dataset": "cifar10", "model": "resnet-tiny",
                 "optimizer": "\(optimizer)", "lr": \(lr), "weightDecay": 0.0005, "seed": \(seed), "epochsPlanned": \(errors.count),
                 "epochsCompleted": \(errors.count), "status": "completed", "metric": "test_error",
                 "final": {"value": \(errors.last!), "epoch": \(errors.count)}, "best": {"value": \(errors.min()!), "epoch": 1},
                 "startedAt": "2026-12-05T00:00:00Z", "endedAt": "2026-12-05T00:01:00Z",
                 "provenance": {"gitCommit": "abc", "cpu": "test", "threads": 1, "versions": {"adai-bench": "0"}}, "config": {"name": "exp", "dataset": {"name": "cifar10"}, "model": {"name": "resnet-tiny"}, "training": {"epochs": \(errors.count)},
                            "optimizer": {"name": "\(optimizer)", "lr": \(lr), "weightDecay": 0.0005}}}
                """.write(toFile: "\(directory)/run.json", atomically: true, encoding: .utf8)
            return directory
        }
        // Selection on seed 1 at two lrs; the comparison at the chosen lr on seeds 2 and 3.
        _ = try run("adai", lr: 0.3, seed: 1, errors: [60, 50])
        _ = try run("adai", lr: 1, seed: 1, errors: [90, 90])
        var evidence = TrainingEvidence(experiment: "exp", chosen: ["adai": 0.3], selectionNotes: [])
        evidence.runDirectories["adai"] = [2: try run("adai", lr: 0.3, seed: 2, errors: [62, 52]),
                                           3: try run("adai", lr: 0.3, seed: 3, errors: [64, 54])]
        let chart = try Plots.curves(runs: try evidence.comparisonRuns(), title: "Claim 6")
        XCTAssertEqual(chart.series.map(\.name), ["adai (n=2)"], "one setting, the two comparison seeds")
        XCTAssertEqual(chart.series.first?.ys, [63, 53], "the mean of seeds 2 and 3, without the selection seed")
        let whole = try Plots.curves(experiment: "\(root)/exp")
        XCTAssertEqual(whole.series.map(\.name), ["adai lr=0.3 wd=0.0005 (n=3)", "adai lr=1 wd=0.0005"], "what the directory as a whole holds")
    }
}

final class SeedOrderTests: XCTestCase {
    /// Sums in seed order: values whose float sum depends on the order give one answer however the map is built.
    func testValuesComeInSeedOrder() {
        var a: [Int: Double] = [:], b: [Int: Double] = [:]
        for seed in [3, 1, 2] { a[seed] = [1: 1e16, 2: 1.0, 3: -1e16][seed] }
        for seed in [2, 3, 1] { b[seed] = [1: 1e16, 2: 1.0, 3: -1e16][seed] }
        XCTAssertEqual(inSeedOrder(a), [1e16, 1.0, -1e16])
        XCTAssertEqual(inSeedOrder(a).reduce(0, +), inSeedOrder(b).reduce(0, +))
    }
}

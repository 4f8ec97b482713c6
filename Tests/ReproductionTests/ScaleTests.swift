import Foundation
import XCTest
@testable import Reproduction
@testable import Experiments
import RunFormat

final class ScaleTests: XCTestCase {
    func runner(_ scale: ReproductionScale, claims: Set<String> = Set(Claims.ids)) -> ReproductionRunner {
        ReproductionRunner(scale: scale, out: "/tmp/unused", dataRoot: "/data", repositoryRoot: "/repo", executable: "/bin/true",
                           threads: 1, claims: claims)
    }

    func testSelectionNeverSharesASeedWithTheComparison() throws {
        for scale in [ReproductionScale.smoke, .small] {
            for plan in scale.training where plan.needsSelection {
                XCTAssertFalse(plan.seeds.contains(plan.selectionSeed!), "\(scale.name)/\(plan.name)")
                let r = runner(scale)
                let selection = try r.config(plan, selection: true)
                XCTAssertEqual(selection.training.seeds, [plan.selectionSeed!])
                let comparison = try r.config(plan, selection: false, chosen: ["adai": 0.3])
                XCTAssertEqual(comparison.sweep?.seeds, plan.seeds)
                XCTAssertNil(comparison.sweep?.lists["lr"], "the comparison sweeps no lr")
                let adai = comparison.optimizers.first { $0.name == "adai" }
                XCTAssertEqual(adai?.lr, 0.3, "the comparison trains at the chosen lr")
            }
        }
    }

    func testMissingDataIsReportedWithTheOptionThatFixesIt() throws {
        let r = runner(.small)
        let plan = try XCTUnwrap(ReproductionScale.small.training.first { $0.dataset == .ptb })
        XCTAssertThrowsError(try r.checkData(plan)) { error in
            XCTAssertEqual("\(error)", "the small scale trains repro-small-ptb on ptb, but /data/ptb does not exist; pass --data DIR with the directory that holds cifar-10-batches-bin, cifar-100-binary and ptb (scripts/download-data.sh fetches them)")
        }
        XCTAssertNoThrow(try runner(.smoke).checkData(ReproductionScale.smoke.training[0]), "synthetic data needs no directory")
    }

    func testThePlanWarnsWhenTheDataIsMissingOrEmpty() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("plan-data-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: "\(root)/cifar-10-batches-bin", withIntermediateDirectories: true)
        let r = ReproductionRunner(scale: .small, out: "\(root)/out", dataRoot: root, repositoryRoot: "/repo", executable: "/bin/true",
                                   threads: 1, claims: Set(Claims.ids))
        let cifar = try XCTUnwrap(ReproductionScale.small.training.first { $0.dataset == .cifar10 })
        let ptb = try XCTUnwrap(ReproductionScale.small.training.first { $0.dataset == .ptb })
        XCTAssertEqual(try r.missingDataWarning(cifar), "warning: the small scale trains repro-small-cifar10 on cifar10, but \(root)/cifar-10-batches-bin holds none of its files; until then the estimate assumes the full data set (scripts/download-data.sh cifar10 fetches it)")
        XCTAssertEqual(try r.missingDataWarning(ptb), "warning: the small scale trains repro-small-ptb on ptb, but \(root)/ptb does not exist; pass --data DIR with the directory that holds cifar-10-batches-bin, cifar-100-binary and ptb (scripts/download-data.sh fetches them); until then the estimate assumes the full data set")
        try Data(count: 3073 * 10).write(to: URL(fileURLWithPath: "\(root)/cifar-10-batches-bin/data_batch_1.bin"))
        XCTAssertNil(try r.missingDataWarning(cifar), "files present: no warning")
        XCTAssertNil(try r.missingDataWarning(ReproductionScale.smoke.training[0]), "synthetic data needs no files")
    }

    func testBadScaleAndClaimsAreRejectedWithTheValidValues() {
        XCTAssertThrowsError(try ReproductionScale.parse("big")) {
            XCTAssertEqual("\($0)", "--scale big: unknown; use one of smoke, small, medium, paper")
        }
        for bad in ["13", "3,,6", "x", ""] {
            XCTAssertThrowsError(try Claims.parse(bad), bad) {
                XCTAssertTrue("\($0)".hasPrefix("--claims \(bad): '"), "\($0)")
                XCTAssertTrue("\($0)".contains("docs/claims.md names them 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12"), "\($0)")
            }
        }
        XCTAssertEqual(try Claims.parse("3, 6"), ["3", "6"])
        XCTAssertEqual(try Claims.parse(nil), Set(Claims.ids))
    }

    func testClaimsSelectTheirExperiments() {
        XCTAssertEqual(runner(.smoke, claims: ["8"]).trainingPlans.map(\.name), ["repro-smoke-ptb"])
        XCTAssertTrue(runner(.smoke, claims: ["3"]).trainingPlans.isEmpty)
        XCTAssertEqual(runner(.smoke, claims: ["3"]).needs, [.escape])
        XCTAssertEqual(runner(.smoke, claims: ["1", "7"]).needs, [.saddle, .training, .hessian])
        // The report lists the reductions of what the selected claims run.
        XCTAssertEqual(runner(.small, claims: ["1", "2"]).reductions.count, 0, "the small scale's saddle is the paper-scale one")
        XCTAssertTrue(runner(.small, claims: ["3"]).reductions.allSatisfy { $0.hasPrefix("escape:") })
        XCTAssertTrue(runner(.smoke, claims: ["1"]).reductions.allSatisfy { $0.hasPrefix("saddle:") })
        XCTAssertFalse(runner(.smoke, claims: ["1"]).reductions.isEmpty)
    }

    func testScalesAreDefinedAndThePaperScaleFollowsTable2() {
        for name in ReproductionScale.names { XCTAssertNotNil(ReproductionScale.named(name)) }
        let paper = ReproductionScale.paper
        XCTAssertEqual(paper.training.filter { $0.dataset != .ptb && $0.claims.contains("6") }.count, 5, "Table 2's rows")
        XCTAssertEqual(paper.training.filter { $0.claims == ["11"] || $0.claims == ["12"] }.map(\.name),
                       ["cifar10-resnet18-basin", "cifar10-resnet18-long"], "Figure 5's grid and Figure 12's long run")
        // The Adai paper's experiments on its 3 seeds; the AdaMomentum authors' AWD-LSTMs on their seeds 0-4.
        XCTAssertTrue(paper.training.filter { !$0.claims.contains("AM1") }.allSatisfy { $0.seeds.count == 3 })
        XCTAssertTrue(paper.training.filter { $0.claims.contains("AM1") }.allSatisfy { $0.seeds == [0, 1, 2, 3, 4] })
    }
}

/// `sweep --plan` and `reproduce --plan` count the records a partial CIFAR copy holds, not the full set's 50,000.
final class PartialDataEstimateTests: XCTestCase {
    func testRecordsOfAPartialCopyAreCounted() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("partial-cifar-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data(count: 3073 * 10).write(to: URL(fileURLWithPath: "\(dir)/data_batch_1.bin"))
        try Data(count: 3073 * 4).write(to: URL(fileURLWithPath: "\(dir)/test_batch.bin"))
        let config = """
            {"name": "partial", "dataset": {"name": "cifar10", "dir": "\(dir)", "allowPartial": true},
             "model": {"name": "resnet-tiny"}, "training": {"epochs": 1, "batchSize": 4, "seeds": [1]},
             "optimizers": [{"name": "sgdm", "lr": 0.1, "weightDecay": 0}]}
            """
        try config.write(toFile: "\(dir)/config.json", atomically: true, encoding: .utf8)
        let grid = try ExperimentConfig.load(path: "\(dir)/config.json").sweepGrid()
        let records = try XCTUnwrap(grid.cifarRecordsPresent())
        XCTAssertEqual(records.train, 10)
        XCTAssertEqual(records.test, 4)
    }
}

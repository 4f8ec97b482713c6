import Foundation
import XCTest
@testable import Reproduction
import RunFormat

/// Claims 11 (Figure 5's basin) and 12 (Figure 12's long fixed-lr run): scale too small at the smoke and small scales,
/// counted from the plan; the medium and paper plans; the verdicts on planted runs.
final class BasinAndLongRunTests: XCTestCase {
    var root: String!
    /// The repository (for the paper scale's configs).
    let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    override func setUpWithError() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("basin-long-\(getpid())-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: root) }

    func context(_ scale: ReproductionScale, claims: Set<String> = ["11", "12"]) -> ClaimContext {
        ClaimContext(runner: ReproductionRunner(scale: scale, out: "\(root!)/out", dataRoot: "\(root!)/data", repositoryRoot: repository,
                                                executable: "/bin/true", threads: 1, claims: claims), paperTable: nil)
    }

    /// Smoke and small read "scale too small" with both numbers, counted from their plans, and run nothing.
    func testSmokeAndSmallAreTooSmallByTheirPlans() throws {
        for (scale, grid, fixed) in [(ReproductionScale.smoke, 3, 2), (.small, 3, 23)] {
            let c = context(scale)
            let basin = try Claim.basinWidth.judge(c), long = try Claim.longRunConvergence.judge(c)
            XCTAssertEqual(basin.kind, .scaleTooSmall, basin.notes.joined(separator: "\n"))
            XCTAssertEqual(long.kind, .scaleTooSmall, long.notes.joined(separator: "\n"))
            XCTAssertTrue(basin.notes[0].contains("lr points × weight-decay points per optimizer: \(grid) planned")
                          && basin.notes[0].contains("the rule needs 25 → FAILS: scale too small"), basin.notes[0])
            XCTAssertTrue(long.notes[0].contains("epochs at a fixed lr: \(fixed) planned") && long.notes[0].contains("the rule needs 1000 → FAILS"),
                          long.notes[0])
            XCTAssertFalse(FileManager.default.fileExists(atPath: c.runner.runsDirectory), "\(scale.name): nothing is run")
            XCTAssertFalse(Claim.basinWidth.scope(c).isEmpty)
            XCTAssertNil(try Claim.basinWidth.figure(c, basin))
            XCTAssertNil(try Claim.longRunConvergence.figure(c, long))
        }
        // The numbers come from the plan: a later first lr division lengthens the fixed-lr stretch.
        var small = ReproductionScale.small
        small.training[0].milestones = [40, 44]
        XCTAssertEqual(ScaleRequirement.longRun(context(small).runner)[0].planned, 40)
        small.training[0].optimizers[0].lrGrid = [0.1, 0.3, 1, 3, 10]
        small.training[0].optimizers[1].lrGrid = [0.01, 0.03, 0.1, 0.3, 1]
        XCTAssertEqual(ScaleRequirement.basin(context(small).runner)[0].planned, 5, "a wider selection grid is still one weight decay")
    }

    /// `reproduce --plan` says so at small, without pricing any run for claims 11 and 12.
    func testThePlanStatesTheScaleCheck() throws {
        let text = try context(.small).runner.planText(calibrationSteps: 1)
        XCTAssertTrue(text.contains("claim 11: Adai's test-error basin over lr × weight decay is wider than SGD-M's and Adam's\n  what the rule needs of the scale, counted from the plan — the claim will read \"scale too small\" and is not run:\n    scale check: lr points × weight-decay points per optimizer: 3 planned"), text)
        XCTAssertTrue(text.contains("scale check: epochs at a fixed lr: 23 planned (no plan of the small scale serves claim 12; its longest fixed-lr stretch is repro-small-cifar10's, 46 epochs with the lr first divided at epoch 23); the rule needs 1000 → FAILS: scale too small"), text)
        XCTAssertTrue(text.contains("total: 0 training runs"), text)
    }

    /// The medium and paper scales plan the grid and the long run, and pass every check.
    func testMediumAndPaperPlanTheGridAndTheLongRun() throws {
        for scale in [ReproductionScale.medium, .paper] {
            let runner = context(scale).runner
            let basin = ScaleRequirement.basin(runner), long = ScaleRequirement.longRun(runner)
            XCTAssertTrue(basin.allSatisfy(\.passes), basin.map(\.line).joined(separator: "\n"))
            XCTAssertTrue(long.allSatisfy(\.passes), long.map(\.line).joined(separator: "\n"))
            XCTAssertEqual(basin.count, 3, "lr points, weight-decay points, regime: \(basin.map(\.line))")
            XCTAssertEqual(long.count, 2, "fixed-lr epochs, regime: \(long.map(\.line))")
            XCTAssertTrue(long[0].line.contains("1000 planned (1000 epochs, no lr division)"), long[0].line)
            let plan = try XCTUnwrap(scale.training.first { $0.claims == ["11"] })
            let grid = try runner.writeConfig(plan, selection: false).grid
            XCTAssertEqual(grid.runs.count, 3 * 25 * 3, "\(scale.name): every cell of three optimizers on three seeds")
            let sweep = try XCTUnwrap(try runner.config(plan, selection: false).sweep)
            guard case .byName(let lrs)? = sweep.lists["lr"] else { return XCTFail("the lrs are listed by optimizer: \(sweep)") }
            XCTAssertEqual(lrs["adai"], [0.1, 0.316228, 1, 3.16228, 10])
            XCTAssertEqual(lrs["adam"], [0.0001, 0.000316228, 0.001, 0.00316228, 0.01])
            XCTAssertEqual(sweep.lists["weightDecay"], .values([5e-05, 0.000158114, 0.0005, 0.00158114, 0.005]))
        }
        XCTAssertEqual(context(.medium).runner.plannedSteps(ReproductionScale.medium.training.first { $0.claims == ["11"] }!), 15 * 391)
        XCTAssertEqual(context(.paper).runner.plannedSteps(ReproductionScale.paper.training.first { $0.claims == ["11"] }!), 200 * 391)
    }

    func testABasinPlanWithAnLRSelectionIsRefused() {
        var plan = ReproductionScale.medium.training.first { $0.claims == ["11"] }!
        plan.optimizers[0].lrGrid = [0.3, 1, 3]
        XCTAssertThrowsError(try Tuning.checkDesign(plan)) {
            XCTAssertEqual("\($0)", "repro-medium-basin: a basin plan (claim 11) trains every cell of its lr × weight-decay grid on every seed around each optimizer's planned lr; list its optimizers, each without an lr grid to select from (Sources/Reproduction/Scales.swift)")
        }
    }

    /// Planted grids: Adai's basin spans every lr, SGD-M's three and Adam's one (one more cell for SGD-M on seed 2).
    func testClaim11FollowsPlantedBasins() throws {
        let c = context(.medium, claims: ["11"])
        let plan = ReproductionScale.medium.training.first { $0.claims == ["11"] }!
        try plantGrid(c, plan, halfWidths: ["adai": 2, "sgdm": 1, "adam": 0])
        let v = try Claim.basinWidth.judge(c)
        XCTAssertEqual(v.kind, .supported, v.notes.joined(separator: "\n"))
        XCTAssertEqual(v.comparisons["repro-medium-basin: adai-vs-sgdm"]?.differences, [10, 9, 10])
        XCTAssertEqual(v.comparisons["repro-medium-basin: adai-vs-adam"]?.differences, [20, 20, 20], "Adam's diverged cell counts as outside")
        XCTAssertTrue(v.notes.contains { $0.hasPrefix("repro-medium-basin: diverged runs (or non-finite final test errors), 1 here, count as cells outside") }, v.notes.joined(separator: "\n"))
        XCTAssertTrue(v.notes.contains { $0.contains("adai: 25 of 25 cells within 1 of the best cell") }, v.notes.joined(separator: "\n"))
        XCTAssertTrue(v.notes.contains { $0.contains("repro-medium-basin: optimizer steps per run: 5865 planned") && $0.hasSuffix("→ passes") })
        for name in ["adai", "sgdm", "adam"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: "\(c.runner.analysesDirectory)/basin-repro-medium-basin-\(name).png"), name)
        }
        if let keep = ProcessInfo.processInfo.environment["REPRODUCTION_TESTS_KEEP"] {
            try? FileManager.default.copyItem(atPath: "\(c.runner.analysesDirectory)/basin-repro-medium-basin-sgdm.png", toPath: "\(keep)/basin-sgdm.png")
        }
        let chart = try XCTUnwrap(try Claim.basinWidth.figure(c, v))
        XCTAssertEqual(chart.series.map(\.name), ["adai", "adam", "sgdm"])
        XCTAssertEqual(chart.series[2].ys, [15, 16, 15])
        // Reversed: SGD-M's basin is the widest.
        try FileManager.default.removeItem(atPath: c.runner.runsDirectory)
        try plantGrid(c, plan, halfWidths: ["adai": 0, "sgdm": 2, "adam": 1])
        XCTAssertEqual(try Claim.basinWidth.judge(c).kind, .reversed)
    }

    /// Planted tail losses: Adai at 1.2 × Adam's is comparable, at 4 × it is not, and noise around 2 × is underpowered.
    func testClaim12FollowsPlantedLosses() throws {
        let c = context(.medium, claims: ["12"])
        let plan = ReproductionScale.medium.training.first { $0.claims == ["12"] }!
        func plant(ratio: Double, noise: Double) throws -> ClaimVerdict {
            var e = TrainingEvidence(experiment: plan.name, chosen: [:], selectionNotes: [])
            e.epochs = ["adai": 1000, "adam": 1000]
            for (i, seed) in plan.seeds.enumerated() {
                let adam = -6.0 + 0.1 * Double(i)
                e.tailLogTrainLoss["adam", default: [:]][seed] = adam
                e.tailLogTrainLoss["adai", default: [:]][seed] = adam + log(ratio) + noise * [1, -1, 0.5][i]
            }
            c.trainingEvidence[plan.name] = e
            return try Claim.longRunConvergence.judge(c)
        }
        let comparable = try plant(ratio: 1.2, noise: 0.02)
        XCTAssertEqual(comparable.kind, .supported, comparable.notes.joined(separator: "\n"))
        XCTAssertTrue(comparable.notes.contains { $0.contains("repro-medium-long: epochs at a fixed lr: 1000 planned") })
        XCTAssertTrue(comparable.notes.contains { $0.hasPrefix("repro-medium-long: adai vs adam×2: mean advantage") })
        XCTAssertEqual(try plant(ratio: 4, noise: 0.02).kind, .reversed)
        XCTAssertEqual(try plant(ratio: 2, noise: 0.5).kind, .underpowered)
    }

    /// readEvidence: claim 12's statistic is the mean log training loss over the last tenth of the epochs.
    func testTheTailLossIsTheLastTenthOfTheEpochs() throws {
        var plan = ReproductionScale.medium.training.first { $0.claims == ["12"] }!
        plan.epochs = 20
        let c = context(.medium, claims: ["12"])
        let grid = try c.runner.writeConfig(plan, selection: false).grid
        for spec in grid.runs {
            let losses = (1...20).map { pow(0.5, Double($0)) * (spec.optimizer.name == "adai" ? 2 : 1) }
            try writeRun(spec.directory(results: c.runner.runsDirectory), optimizer: spec.optimizer.name, lr: spec.optimizer.lr,
                         weightDecay: spec.optimizer.weightDecay, seed: spec.seed, testErrors: Array(repeating: 10, count: 20), losses: losses)
        }
        let e = try c.runner.readEvidence(plan, grid: grid)
        // The last 2 of 20 epochs: log(0.5^19) and log(0.5^20), mean −19.5 log 2.
        XCTAssertEqual(e.tailLogTrainLoss["adam"]?[1] ?? .nan, -19.5 * log(2), accuracy: 1e-9)
        XCTAssertEqual(e.tailLogTrainLoss["adai"]?[1] ?? .nan, -18.5 * log(2), accuracy: 1e-9)
    }

    // MARK: planting runs

    /// Every cell of the plan's grid on every seed: inside the basin (|lr index − 2| ≤ half-width) test error
    /// 5 + 0.1·|index − 2|, outside 9 + index; SGD-M's cell (lr index 3 + 1, first wd) is inside on seed 2 as well.
    func plantGrid(_ c: ClaimContext, _ plan: TrainingPlan, halfWidths: [String: Int]) throws {
        let grid = try c.runner.writeConfig(plan, selection: false).grid
        var e = TrainingEvidence(experiment: plan.name, chosen: [:], selectionNotes: [])
        for spec in grid.runs {
            let name = spec.optimizer.name
            let lrs = plan.basin!.lrs(around: plan.optimizers.first { $0.name == name }!.lr)
            let index = lrs.firstIndex(of: spec.optimizer.lr)!, wdIndex = plan.basin!.weightDecays.firstIndex(of: spec.optimizer.weightDecay)!
            var width = halfWidths[name]!
            if name == "sgdm" && spec.seed == 2 && wdIndex == 0 && index == 2 + width + 1 { width += 1 }
            let error = abs(index - 2) <= width ? 5 + 0.1 * Double(abs(index - 2)) : 9 + Double(index)
            // Adam's largest lr at the first weight decay diverges on seed 1 (a cell outside its basin either way).
            let diverged = name == "adam" && index == 4 && wdIndex == 0 && spec.seed == 1
            try writeRun(spec.directory(results: c.runner.runsDirectory), optimizer: name, lr: spec.optimizer.lr,
                         weightDecay: spec.optimizer.weightDecay, seed: spec.seed, testErrors: Array(repeating: 20, count: 14) + [error],
                         losses: Array(repeating: 0.5, count: 15), status: diverged ? .diverged : .completed)
            e.epochs[name] = 15
        }
        c.trainingEvidence[plan.name] = e
    }

    func writeRun(_ directory: String, optimizer: String, lr: Double, weightDecay: Double, seed: Int, testErrors: [Double], losses: [Double],
                  status: RunStatus = .completed) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var record = RunRecord(experiment: nil, runId: nil, dataset: "cifar10", model: "resnet18-narrow", optimizer: optimizer, lr: lr, weightDecay: weightDecay, seed: seed,
                               epochsPlanned: testErrors.count, epochsCompleted: testErrors.count, status: status, metric: "test_error")
        record.final = .init(value: testErrors.last!, epoch: testErrors.count)
        try JSONEncoder().encode(record).write(to: URL(fileURLWithPath: "\(directory)/\(RunDirectory.runJSONName)"))
        var lines = ["epoch,lr,train_loss,test_error"]
        for i in testErrors.indices { lines.append("\(i + 1),\(lr),\(losses[i]),\(testErrors[i])") }
        try (lines.joined(separator: "\n") + "\n").write(toFile: "\(directory)/metrics.csv", atomically: true, encoding: .utf8)
    }
}

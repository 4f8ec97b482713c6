import Foundation
import XCTest
@testable import Reproduction

/// The rules of the training claims 5–8: the regime check and fair tuning (docs/claims.md).
final class TrainingRulesTests: XCTestCase {
    var root: String!

    override func setUpWithError() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("training-rules-\(getpid())-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: root) }

    func context(_ scale: ReproductionScale, claims: Set<String>) -> ClaimContext {
        ClaimContext(runner: ReproductionRunner(scale: scale, out: "\(root!)/out", dataRoot: "\(root!)/data", repositoryRoot: "\(root!)/repo",
                                                executable: "/bin/true", threads: 1, claims: claims), paperTable: nil)
    }

    /// Values per seed with `better` ahead of every other optimizer by `gap` (a clear effect, little noise).
    func evidence(_ experiment: String, better: String, others: [String], gap: Double, epochs: Int) -> TrainingEvidence {
        var e = TrainingEvidence(experiment: experiment, chosen: [:], selectionNotes: [])
        for (i, seed) in [2, 3, 4, 5].enumerated() {
            let noise = [0.01, -0.02, 0.015, -0.005][i]
            for name in [better] + others {
                let value = 1.0 + (name == better ? 0 : gap) + (name == better ? noise : 0)
                e.meanLogTrainLoss[name, default: [:]][seed] = value
                e.finalTestLoss[name, default: [:]][seed] = value
                e.finalMetric[name, default: [:]][seed] = 10 * value
                e.epochs[name] = epochs
            }
        }
        return e
    }

    func testTheTimeConstantsFollowTheOptimizersDefaults() {
        XCTAssertEqual(TrainingRegime.timeConstant("adai").steps, 1000, accuracy: 1e-9)
        XCTAssertEqual(TrainingRegime.timeConstant("adam").steps, 1000, accuracy: 1e-6)
        XCTAssertEqual(TrainingRegime.timeConstant("sgdm").steps, 10, accuracy: 1e-9)
        let check = TrainingRegime.check(steps: 750, optimizers: ["sgdm", "adai"])
        XCTAssertEqual(check.slowest, "adai")
        XCTAssertFalse(check.passes)
        XCTAssertEqual(check.required, 5000, accuracy: 1e-9)
        XCTAssertTrue(TrainingRegime.check(steps: 5000, optimizers: ["adai", "sgdm"]).passes)
        XCTAssertTrue(TrainingRegime.check(steps: 750, optimizers: ["sgdm"]).passes, "SGD-M alone: 750 ≥ 5 × 10")
    }

    /// A 750-step CIFAR run with Adai (the small scale's 4,000 images, batch 128, 24 epochs: 32 × 24 = 768 steps):
    /// a clear planted advantage is not called supported.
    func testTheRegimeCheckFiresForA750StepCIFARRunWithAdai() throws {
        var scale = ReproductionScale.small
        // The CIFAR plan of the small report of 7855a2f: 4,000 images, batch 128, 24 epochs.
        scale.training[0].synthetic = [4000, 1000]
        scale.training[0].validation = nil
        scale.training[0].batchSize = 128
        scale.training[0].epochs = 24
        let plan = scale.training[0]
        let c = context(scale, claims: ["5"])
        XCTAssertEqual(c.runner.plannedSteps(plan), 768)
        c.trainingEvidence[plan.name] = evidence(plan.name, better: "adai", others: ["sgdm"], gap: 0.5, epochs: 24)
        let v = try Claim.trainingSpeed.judge(c)
        XCTAssertEqual(v.kind, .scaleTooSmall, v.notes.joined(separator: "\n"))
        XCTAssertTrue(v.notes.contains { $0.contains("768 optimizer steps") && $0.contains("time constant 1000") && $0.contains("5000 steps") },
                      v.notes.joined(separator: "\n"))
        XCTAssertTrue(v.notes.contains { $0.contains("would be supported") })
        // The same evidence at 5 × 1,000 steps or more is judged on its numbers.
        scale.training[0].epochs = 160
        let long = context(scale, claims: ["5"])
        long.trainingEvidence[plan.name] = evidence(plan.name, better: "adai", others: ["sgdm"], gap: 0.5, epochs: 160)
        XCTAssertEqual(try Claim.trainingSpeed.judge(long).kind, .supported)
    }

    /// The scales' designs against the regime check: medium's ResNet18 and small's CIFAR design pass for claims 5–7
    /// (small with the 4,000 images at hand), small's PTB and every smoke plan do not.
    func testTheScalesDesignsAgainstTheRegimeCheck() throws {
        let medium = ReproductionScale.medium
        let m = context(medium, claims: ["5", "6", "7"])
        let plan = try XCTUnwrap(medium.training.first)
        XCTAssertEqual(m.runner.plannedSteps(plan), 24 * 352, "45,000 training images after 5,000 held out, batch 128")
        XCTAssertTrue(try XCTUnwrap(m.runner.regimeCheck(plan, optimizers: ["adai", "sgdm", "adam"])).passes)
        XCTAssertEqual(medium.hessian.experiment, plan.name)

        let small = ReproductionScale.small
        let s = context(small, claims: ["5", "8"])
        let cifar = "\(root!)/data/cifar-10-batches-bin"
        try FileManager.default.createDirectory(atPath: cifar, withIntermediateDirectories: true)
        XCTAssertTrue(FileManager.default.createFile(atPath: "\(cifar)/data_batch_1", contents: Data(count: 4000 * 3073)))
        XCTAssertEqual(s.runner.plannedSteps(small.training[0]), 46 * 110, "3,500 images after 500 held out, batch 32")
        XCTAssertTrue(try XCTUnwrap(s.runner.regimeCheck(small.training[0], optimizers: ["adai", "sgdm", "adam"])).passes)
        let ptb = try XCTUnwrap(small.training.first { $0.dataset == .ptb })
        XCTAssertFalse(try XCTUnwrap(s.runner.regimeCheck(ptb, optimizers: ["adai", "sgdm", "adam"])).passes)

        let smoke = context(.smoke, claims: ["5", "8"])
        for p in ReproductionScale.smoke.training {
            XCTAssertFalse(try XCTUnwrap(smoke.runner.regimeCheck(p, optimizers: ["adai", "sgdm"])).passes, p.name)
        }
    }

    /// The PTB plan of the small report of 7855a2f: 3 epochs of at most 150 steps = 450 steps against Adam's and Adai's 1,000.
    func testTheRegimeCheckFiresForA450StepPTBRun() throws {
        var scale = ReproductionScale.small
        let index = try XCTUnwrap(scale.training.firstIndex { $0.dataset == .ptb })
        scale.training[index].epochs = 3
        scale.training[index].maxSteps = 150
        let plan = scale.training[index]
        let c = context(scale, claims: ["8"])
        XCTAssertEqual(c.runner.plannedSteps(plan), 450)
        var e = evidence(plan.name, better: "adai", others: ["sgdm", "adam"], gap: 0.5, epochs: 12)
        e.dataset = .ptb
        c.trainingEvidence[plan.name] = e
        let v = try Claim.languageModel.judge(c)
        XCTAssertEqual(v.kind, .scaleTooSmall, v.notes.joined(separator: "\n"))
        XCTAssertTrue(v.notes.contains { $0.contains("450 optimizer steps") && $0.contains("5000 steps") }, v.notes.joined(separator: "\n"))
    }
}

/// Fair tuning: grids extend outward from an edge, an edge that stays gives "tuning not converged", and the
/// choice follows the validation split, never the test set.
final class FairTuningTests: XCTestCase {
    var root: String!

    override func setUpWithError() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("fair-tuning-\(getpid())-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: root) }

    /// 1,000 training images after 100 held out, batch 100, 600 epochs: 6,000 steps, past the regime check.
    var plan: TrainingPlan {
        TrainingPlan(name: "tuning", base: nil, dataset: .cifar10, synthetic: [1100, 100], model: "resnet-tiny", epochs: 600, batchSize: 100,
                     milestones: [], gamma: 0.1,
                     optimizers: [PlannedOptimizer("adai", lr: 1, weightDecay: 5e-4, lrGrid: [0.3, 1, 3]),
                                  PlannedOptimizer("sgdm", lr: 0.1, weightDecay: 5e-4, lrGrid: [0.03, 0.1, 0.3])],
                     selectionSeed: 1, seeds: [2, 3, 4, 5], maxSteps: nil, claims: ["6"], validation: 100)
    }

    func runner(_ plan: TrainingPlan) -> ReproductionRunner {
        var scale = ReproductionScale.smoke
        scale.training = [plan]
        return ReproductionRunner(scale: scale, out: "\(root!)/out", dataRoot: "\(root!)/data", repositoryRoot: "\(root!)/repo",
                                  executable: "/bin/true", threads: 1, claims: ["6"])
    }

    /// Writes a completed selection run with final validation and test errors.
    func plant(_ directory: String, optimizer: String, lr: Double, valid: Double, test: Double) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try "epoch,lr,train_loss,train_error,valid_loss,valid_error,test_loss,test_error,epoch_seconds,examples_per_second\n1,\(lr),1.5,50,1.6,\(valid),1.6,\(test),1,100\n"
            .write(toFile: "\(directory)/metrics.csv", atomically: true, encoding: .utf8)
        try """
            {"experiment": "tuning", "runId": "\(optimizer)-\(lr)", "dataset": "cifar10", "model": "resnet-tiny",
             "optimizer": "\(optimizer)", "lr": \(lr), "weightDecay": 0.0005, "seed": 1, "epochsPlanned": 1,
             "epochsCompleted": 1, "status": "completed", "metric": "test_error",
             "final": {"value": \(test), "epoch": 1}, "best": {"value": \(test), "epoch": 1},
             "startedAt": "2026-12-05T00:00:00Z", "endedAt": "2026-12-05T00:01:00Z",
             "provenance": {"gitCommit": "abc", "cpu": "test", "threads": 1, "versions": {"adai-bench": "0"}}, "config": {"name": "tuning", "dataset": {"name": "cifar10"}, "model": {"name": "resnet-tiny"}, "training": {"epochs": 1},
                        "optimizer": {"name": "\(optimizer)", "lr": \(lr), "weightDecay": 0.0005}}}
            """.write(toFile: "\(directory)/run.json", atomically: true, encoding: .utf8)
    }

    /// Plays the selection rounds, planting each run the current grids ask for from `score(optimizer, lr)`.
    func search(_ runner: ReproductionRunner, score: (String, Double) -> (valid: Double, test: Double)) throws -> [Tuning.Search] {
        for _ in 0...(Tuning.maxExtensions + 1) {
            let state = try runner.tuningState(plan)
            if state.finished { return state.searches }
            for spec in try runner.writeConfig(plan, selection: true, grids: state.grids).grid.runs {
                let directory = spec.directory(results: runner.runsDirectory)
                guard !FileManager.default.fileExists(atPath: "\(directory)/run.json") else { continue }
                let s = score(spec.optimizer.name, spec.optimizer.lr)
                try plant(directory, optimizer: spec.optimizer.name, lr: spec.optimizer.lr, valid: s.valid, test: s.test)
            }
        }
        XCTFail("the search did not finish in \(Tuning.maxExtensions + 1) rounds")
        return []
    }

    func testABestLrAtTheGridEdgeExtendsTheGrid() throws {
        // SGD-M's validation error falls up to lr 0.9 and rises after: 0.3 is at the edge of {0.03, 0.1, 0.3}.
        let found = try search(runner(plan)) { name, lr in
            let best = name == "adai" ? 1.0 : 0.9
            let v = 10 + 5 * abs(log(lr / best))
            return (v, v)
        }
        let sgdm = try XCTUnwrap(found.first { $0.optimizer == "sgdm" })
        XCTAssertEqual(sgdm.grid.count, 5, "0.3 at the edge → 0.9; 0.9 at the edge → 2.7; then 0.9 lies inside")
        XCTAssertEqual(sgdm.grid.max()!, 2.7)
        XCTAssertEqual(sgdm.extensions, 2)
        XCTAssertEqual(sgdm.best!, 0.9)
        XCTAssertTrue(sgdm.converged)
        let adai = try XCTUnwrap(found.first { $0.optimizer == "adai" })
        XCTAssertEqual(adai.grid, [0.3, 1, 3], "inside its grid from the start: no extension")
        XCTAssertTrue(adai.converged)
    }

    func testABestLrThatStaysAtTheEdgeGivesTuningNotConverged() throws {
        let r = runner(plan)
        // SGD-M's validation error keeps falling with lr: its best stays at the top edge after both extensions.
        let found = try search(r) { name, lr in name == "adai" ? (10 + abs(log(lr)), 10) : (20 - lr, 10) }
        let sgdm = try XCTUnwrap(found.first { $0.optimizer == "sgdm" })
        XCTAssertEqual(sgdm.extensions, Tuning.maxExtensions)
        XCTAssertEqual(sgdm.best!, 2.7, accuracy: 1e-9)
        XCTAssertFalse(sgdm.converged)
        // A clear planted advantage of Adai's is not judged while SGD-M's tuning has not converged.
        let context = ClaimContext(runner: r, paperTable: nil)
        var e = TrainingEvidence(experiment: plan.name, chosen: [:], selectionNotes: r.tuningNotes(plan, found))
        e.unconvergedTuning = found.filter { !$0.converged }.map(\.optimizer)
        for search in found { e.trials[search.optimizer] = search.trials }
        for (i, seed) in plan.seeds.enumerated() {
            e.finalMetric["adai", default: [:]][seed] = 5 + 0.1 * Double(i % 2)
            e.finalMetric["sgdm", default: [:]][seed] = 9
            e.epochs["adai"] = 600; e.epochs["sgdm"] = 600
        }
        context.trainingEvidence[plan.name] = e
        let v = try Claim.testError.judge(context)
        XCTAssertEqual(v.kind, .tuningNotConverged, v.notes.joined(separator: "\n"))
        XCTAssertTrue(v.notes.contains { $0.contains("STILL AT THE EDGE") }, v.notes.joined(separator: "\n"))
        XCTAssertTrue(v.notes.contains { $0.contains("would be supported") }, v.notes.joined(separator: "\n"))
        // The budget per optimizer is in the scope line.
        let scope = Claim.testError.scope(context)
        XCTAssertTrue(scope.contains("lr trials per optimizer adai 3, sgdm 5") && scope.contains("100 held-out training images"), scope)
    }

    /// Test-set numbers planted to pick other lrs: the choice follows the validation split.
    func testSelectionNeverReadsTheTestSet() throws {
        let found = try search(runner(plan)) { name, lr in
            let valid = name == "adai" ? [0.3: 30.0, 1: 20, 3: 25][lr]! : [0.03: 30.0, 0.1: 20, 0.3: 25][lr]!
            let test = name == "adai" ? [0.3: 5.0, 1: 40, 3: 40][lr]! : [0.03: 40.0, 0.1: 40, 0.3: 5][lr]!
            return (valid, test)
        }
        XCTAssertEqual(found.first { $0.optimizer == "adai" }?.best, 1)
        XCTAssertEqual(found.first { $0.optimizer == "sgdm" }?.best, 0.1)
        XCTAssertTrue(found.allSatisfy(\.converged))
    }

    func testUnequalGridsAndASelectionWithoutValidationAreRefused() {
        var unequal = plan
        unequal.optimizers[1].lrGrid = [0.1, 0.3]
        XCTAssertThrowsError(try Tuning.checkDesign(unequal)) { XCTAssertTrue("\($0)".contains("same size"), "\($0)") }
        var noValidation = plan
        noValidation.validation = nil
        XCTAssertThrowsError(try Tuning.checkDesign(noValidation)) { XCTAssertTrue("\($0)".contains("validation"), "\($0)") }
        XCTAssertNoThrow(try Tuning.checkDesign(plan))
        for scale in [ReproductionScale.smoke, .small] { for p in scale.training { XCTAssertNoThrow(try Tuning.checkDesign(p), p.name) } }
    }
}

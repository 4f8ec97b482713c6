import Foundation
@testable import Reproduction
import XCTest

/// Claim AM1 (the AdaMomentum paper's AWD-LSTM claim): planned only at the paper scale, with the base configs'
/// optimizer entries kept whole; scale too small below it, computed from the paper's plans; judged per depth.
final class ClaimAM1Tests: XCTestCase {
    var root: String!
    /// The repository root (this file is Tests/ReproductionTests/ClaimAM1Tests.swift).
    let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    override func setUpWithError() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("claim-am1-\(getpid())-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: "\(root!)/data/ptb", withIntermediateDirectories: true)
        // 50,000 tokens: 2,500 lines of 19 words + an end of sentence → 50,000 / 20 − 1 = 2,499 positions per stream,
        // ⌈2,499 / 70⌉ = 36 windows per epoch, 200 epochs = 7,200 steps.
        let line = Array(repeating: "w", count: 19).joined(separator: " ")
        try (Array(repeating: line, count: 2500).joined(separator: "\n") + "\n").write(toFile: "\(root!)/data/ptb/ptb.train.txt", atomically: true, encoding: .utf8)
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: root) }

    func context(_ scale: ReproductionScale) -> ClaimContext {
        ClaimContext(runner: ReproductionRunner(scale: scale, out: "\(root!)/out", dataRoot: "\(root!)/data", repositoryRoot: repository,
                                                executable: "/bin/true", threads: 1, claims: ["AM1"]), paperTable: nil)
    }

    func testOnlyThePaperScalePlansItWithTheConfigsOwnOptimizerEntries() throws {
        for scale in [ReproductionScale.smoke, .small, .medium] {
            XCTAssertFalse(scale.training.contains { $0.claims.contains("AM1") }, scale.name)
        }
        let plans = ReproductionScale.paper.training.filter { $0.claims.contains("AM1") }
        XCTAssertEqual(plans.map(\.name), ["ptb-awd-lstm-1layer", "ptb-awd-lstm-2layer", "ptb-awd-lstm-3layer"])
        let c = context(.paper)
        for (plan, adaBeliefLR) in zip(plans, [1e-3, 1e-2, 1e-2]) {
            let config = try c.runner.config(plan, selection: false)
            let optimizers = config.optimizers
            XCTAssertEqual(optimizers.map(\.name), ["adamomentum", "adam", "adabelief", "sgd"])
            XCTAssertEqual(optimizers[0].options["eps"], .number(1e-16), "the config's eps is kept")
            XCTAssertEqual(optimizers[2].lr, adaBeliefLR)
            XCTAssertEqual(optimizers[3].lr, 30)
            XCTAssertEqual(config.training.seeds, [0, 1, 2, 3, 4])
            XCTAssertEqual(c.runner.plannedSteps(plan), 200 * 36)
        }
        var bad = plans[1]
        bad.baseOptimizers = [BaseOptimizer("adabelief")]
        XCTAssertThrowsError(try c.runner.config(bad, selection: false)) { error in
            XCTAssertEqual("\(error)", "plan ptb-awd-lstm-2layer: configs/ptb-awd-lstm-2layer.json has 2 optimizer entries named adabelief; the plan must name exactly one")
        }
    }

    func testSmallerScalesReadScaleTooSmallFromThePaperPlans() throws {
        for scale in [ReproductionScale.smoke, .small] {
            let v = try Claim.awdLSTM.judge(context(scale))
            XCTAssertEqual(v.kind, .scaleTooSmall, v.notes.joined(separator: "\n"))
            XCTAssertTrue(v.notes[0].hasPrefix("the \(scale.name) scale trains no AWD-LSTM: regime check: 0 optimizer steps against adamomentum's time constant 1000 steps"), v.notes[0])
            XCTAssertEqual(v.notes.filter { $0.contains("the paper scale's ptb-awd-lstm-") && $0.contains("7200 optimizer steps") && $0.hasSuffix("→ passes") }.count, 3,
                           v.notes.joined(separator: "\n"))
            XCTAssertTrue(Claim.awdLSTM.scope(context(scale)).hasPrefix("the \(scale.name) scale trains no AWD-LSTM"))
        }
    }

    func testThePaperScaleJudgesEveryDepthAgainstEveryBaseline() throws {
        let c = context(.paper)
        for plan in ReproductionScale.paper.training where plan.claims.contains("AM1") {
            var e = TrainingEvidence(experiment: plan.name, chosen: [:], selectionNotes: [])
            e.dataset = .ptb; e.model = plan.name.replacingOccurrences(of: "ptb-", with: "")
            for (i, seed) in [0, 1, 2, 3, 4].enumerated() {
                let noise = [0.01, -0.02, 0.015, -0.005, 0][i]
                e.finalTestLoss["adamomentum", default: [:]][seed] = 4.2 + noise
                for b in ["adam", "adabelief", "sgd"] { e.finalTestLoss[b, default: [:]][seed] = 4.3 }
                for name in ["adamomentum", "adam", "adabelief", "sgd"] { e.epochs[name] = 200 }
            }
            c.trainingEvidence[plan.name] = e
        }
        let v = try Claim.awdLSTM.judge(c)
        XCTAssertEqual(v.kind, .supported, v.notes.joined(separator: "\n"))
        XCTAssertEqual(v.comparisons.count, 9)
        XCTAssertEqual(v.notes.filter { $0.contains("regime check: 7200 optimizer steps") }.count, 3)
        // AdaMomentum behind SGD on 3 layers: contradicted.
        c.trainingEvidence["ptb-awd-lstm-3layer"]!.finalTestLoss["sgd"] = [0: 4.0, 1: 4.01, 2: 3.99, 3: 4.0, 4: 4.02]
        XCTAssertEqual(try Claim.awdLSTM.judge(c).verdict, .contradicted)
    }
}

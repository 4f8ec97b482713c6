@testable import Analyses
import Engine
import Foundation
import XCTest
@testable import Reproduction

/// Planted outcomes: each kind of verdict comes out of the evidence that should produce it.
final class PlantedOutcomeTests: XCTestCase {
    /// Per-repeat values `base` and `base + effect + noise`, the noise of sd ≈ `noise` and exactly mean 0.
    func pair(effect: Double, noise: Double, repeats: Int = 200) -> (a: [Int: Double], b: [Int: Double]) {
        var rng = RandomGenerator(seed: 11).fork("planted")
        var a: [Int: Double] = [:], b: [Int: Double] = [:], shocks: [Double] = []
        for _ in 0..<repeats { shocks.append(noise * rng.nextNormal()) }
        let mean = shocks.reduce(0, +) / Double(repeats)
        for r in 0..<repeats {
            let base = rng.nextNormal()
            b[r] = base; a[r] = base + effect + shocks[r] - mean
        }
        return (a, b)
    }

    func compare(_ p: (a: [Int: Double], b: [Int: Double]), margin: Double = ClaimRules.saddleMargin) -> PairedComparison {
        PairedComparison(a: "A", b: "B", valuesA: p.a, valuesB: p.b, lowerIsBetter: false, margin: margin)
    }

    func testPlantedEffectAboveTheMarginIsSupported() {
        let c = compare(pair(effect: 0.5, noise: 0.3))
        XCTAssertEqual(c.kind, .supported)
        XCTAssertEqual(c.verdict, .supported)
    }

    func testPlantedNullIsContradictedEquivalent() {
        let c = compare(pair(effect: 0, noise: 0.3))
        XCTAssertEqual(c.kind, .equivalent, "interval [\(c.low), \(c.high)] inside ±\(c.margin)")
        XCTAssertEqual(c.verdict, .contradicted)
    }

    func testPlantedReversedEffectIsContradictedReversed() {
        let c = compare(pair(effect: -0.5, noise: 0.3))
        XCTAssertEqual(c.kind, .reversed)
        XCTAssertEqual(c.verdict, .contradicted)
    }

    func testPlantedEffectBelowTheMarginSaysSo() {
        // Real (the interval excludes 0) but under log 1.2 ≈ 0.18.
        let c = compare(pair(effect: 0.08, noise: 0.1))
        XCTAssertGreaterThan(c.low, 0)
        XCTAssertEqual(c.kind, .belowMargin)
        XCTAssertEqual(c.kind.rawValue, "effect real but below the margin")
    }

    func testNoisyPlantedEffectIsUnderpowered() {
        let c = compare(pair(effect: 0.2, noise: 3, repeats: 20))
        XCTAssertEqual(c.kind, .underpowered)
        XCTAssertEqual(c.verdict, .inconclusive)
    }

    func testSidedAndEquivalenceRules() {
        XCTAssertEqual(VerdictKind.sided(low: 0.5, high: 0.6, prediction: 0.56, alternative: 1), .supported)
        XCTAssertEqual(VerdictKind.sided(low: 0.9, high: 1.1, prediction: 0.56, alternative: 1), .alternative)
        XCTAssertEqual(VerdictKind.sided(low: 0.6, high: 0.9, prediction: 0.56, alternative: 1), .underpowered)
        XCTAssertEqual(VerdictKind.sided(low: 0.9, high: 1.1, prediction: 1, alternative: 0.56), .supported)
        XCTAssertEqual(VerdictKind.equivalence(low: 0.9, high: 1.1, center: 1, margin: 0.25), .supported)
        XCTAssertEqual(VerdictKind.equivalence(low: 0.5, high: 0.7, center: 1, margin: 0.25), .different)
        XCTAssertEqual(VerdictKind.equivalence(low: 0.6, high: 1.1, center: 1, margin: 0.25), .underpowered)
    }
}

/// Claims 1–4 judged on planted evidence, and designs refused before they run.
final class SyntheticClaimTests: XCTestCase {
    var directory = ""
    override func setUp() { directory = FileManager.default.temporaryDirectory.appendingPathComponent("claims-\(getpid())-\(UUID().uuidString)").path }
    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    func context(_ scale: ReproductionScale = .smoke, claims: Set<String> = Set(Claims.ids)) -> ClaimContext {
        ClaimContext(runner: ReproductionRunner(scale: scale, out: directory, dataRoot: "/data", repositoryRoot: "/repo",
                                                executable: "/bin/true", threads: 1, claims: claims), paperTable: nil)
    }

    /// Escape times from exponential laws with Γ(k) = Γ₀·k^S per optimizer.
    static func escapeEvidence(sensitivities: [String: Double], plan: EscapePlan, repeats: Int = 400) -> EscapeEvidence {
        var samples: [String: [EscapeSample]] = [:]
        for (name, s) in sensitivities {
            samples[name] = plan.ks.map { k in
                var rng = RandomGenerator(seed: 5).fork("k=\(k)")   // the same streams for every optimizer
                let rate = pow(k, s) / plan.targetSteps
                let times = (0..<repeats).map { _ in max(1, -log(1 - rng.nextDouble()) / rate) }
                return EscapeSample(k: k, times: times, escaped: Array(repeating: true, count: repeats))
            }
        }
        return EscapeEvidence(lrs: sensitivities.mapValues { _ in 0.001 }, calibration: [],
                              converged: sensitivities.mapValues { _ in true }, samples: samples)
    }

    /// Saddle evidence with a planted advantage of each optimizer over the reference (log distance).
    static func saddleEvidence(advantage: [String: Double], plan: SaddlePlan, repeats: Int = 300) -> SaddleEvidence {
        var rng = RandomGenerator(seed: 9).fork("saddle-planted")
        var e = SaddleEvidence(lrs: ["sgd": 0.1, "adam": 0.1, "sgdm": 0.01, "sgdm-cold": 0.01], search: ["planted"], searchConverged: true,
                               sharpSpread: ["sgd": 0.05, "adam": 0.05, "sgdm": 0.05], final: [:], early: [:], curves: [:],
                               steps: [0, plan.earlyStep, plan.steps])
        for (i, h) in plan.escapeCurvatures.enumerated() {
            let key = formatNumber(h)
            var base: [Int: Double] = [:]
            for r in 0..<repeats { base[r] = rng.nextNormal() }
            e.final[key] = ["sgd": base]; e.early[key] = ["sgd": base]
            for (name, d) in advantage {
                // The early advantage grows as |h| shrinks (by 1 per curvature) when `d` > 0, as the paper's scaling says.
                var final: [Int: Double] = [:], early: [Int: Double] = [:]
                for r in 0..<repeats {
                    let noise = 0.2 * rng.nextNormal()
                    final[r] = base[r]! + d + noise
                    early[r] = base[r]! + (d > 0 ? d + Double(i) : d) + noise
                }
                e.final[key]![name] = final; e.early[key]![name] = early
            }
            for name in ["sgd"] + advantage.keys.sorted() {
                e.curves[key, default: [:]][name] = SaddleCurve(escape: [0.01, 0.1, 1], sharp: [0.05, 0.05, 0.05])
            }
        }
        return e
    }

    func testClaimsOneAndTwoFollowThePlantedSaddle() throws {
        let c = context()
        c.saddleEvidence = Self.saddleEvidence(advantage: ["adam": 2, "sgdm": 0, "sgdm-cold": -0.05], plan: c.scale.saddle)
        let one = try Claim.saddleAdaptive.judge(c)
        XCTAssertEqual(one.kind, .supported, one.notes.joined(separator: "\n"))
        XCTAssertEqual(one.comparisons.count, c.scale.saddle.escapeCurvatures.count + 1, "each curvature on its own, and the scaling part")
        let two = try Claim.saddleMomentum.judge(c)
        XCTAssertEqual(two.kind, .equivalent, two.notes.joined(separator: "\n"))
        XCTAssertTrue(two.notes.contains { $0.contains("cold start") }, "the cold start is reported beside the rule")
        // A reversed Adam: contradicted, reversed; a search that missed: tuning not converged.
        c.saddleEvidence = Self.saddleEvidence(advantage: ["adam": -1, "sgdm": 0.5], plan: c.scale.saddle)
        XCTAssertEqual(try Claim.saddleAdaptive.judge(c).kind, .reversed)
        XCTAssertEqual(try Claim.saddleMomentum.judge(c).kind, .supported)
        c.saddleEvidence!.searchConverged = false
        XCTAssertEqual(try Claim.saddleAdaptive.judge(c).kind, .tuningNotConverged)
    }

    func testClaimsThreeAndFourFollowThePlantedSensitivities() throws {
        let c = context()
        let plan = c.scale.escape
        // The paper's laws: Adam at about half SGD's sensitivity, momentum and Adai at SGD's.
        c.escapeEvidence = Self.escapeEvidence(sensitivities: ["sgd": 8, "sgdm": 8, "adai": 8, "adam": 4.5], plan: plan)
        let three = try Claim.escapeSharpness.judge(c)
        XCTAssertEqual(three.kind, .supported, three.notes.joined(separator: "\n"))
        XCTAssertEqual(three.ratios["adam"]!.value, 4.5 / 8, accuracy: 0.1)
        let four = try Claim.escapeMomentum.judge(c)
        XCTAssertEqual(four.kind, .supported, four.notes.joined(separator: "\n"))
        // Adam as sensitive as SGD: the alternative fits; momentum at half: a difference beyond the margin.
        c.escapeEvidence = Self.escapeEvidence(sensitivities: ["sgd": 8, "sgdm": 4, "adai": 8, "adam": 8], plan: plan)
        XCTAssertEqual(try Claim.escapeSharpness.judge(c).kind, .alternative)
        XCTAssertEqual(try Claim.escapeMomentum.judge(c).kind, .different)
    }

    func testTheEscapeSensitivityIsTheSlopeOfLogRate() {
        let plan = ReproductionScale.small.escape
        let e = Self.escapeEvidence(sensitivities: ["sgd": 6, "adam": 3], plan: plan, repeats: 2000)
        let (s, ratios) = EscapeSensitivity.ratios(samples: e.samples, reference: "sgd", replicates: 200, seed: 1)
        XCTAssertEqual(s["sgd"]!, 6, accuracy: 0.3)
        XCTAssertEqual(s["adam"]!, 3, accuracy: 0.3)
        let r = ratios["adam"]!
        XCTAssertLessThan(r.low, 0.5); XCTAssertGreaterThan(r.high, 0.5)
        XCTAssertLessThan(r.high - r.low, 2 * 2 * EscapeSensitivity.expectedHalfWidth(ratio: 0.5, referenceSensitivity: 6, repeats: 2000, kFactor: plan.kFactor),
                          "the planned half-width is of the right size")
    }

    /// A design whose repeats cannot separate the prediction from the alternative is refused before it runs:
    /// the plan says so with its numbers, and `reproduce` writes a verdict without running the experiment.
    func testADesignThatCannotSeparateIsRefusedAtPlanTime() throws {
        var scale = ReproductionScale.smoke
        scale.saddle.repeats = 2
        scale.escape.repeats = 2
        let saddleChecks = Claim.saddleAdaptive.design(scale)
        XCTAssertFalse(saddleChecks.isEmpty)
        XCTAssertTrue(saddleChecks.allSatisfy { !$0.separable }, saddleChecks.map(\.line).joined(separator: "\n"))
        XCTAssertTrue(saddleChecks[0].line.contains("REFUSED"))
        XCTAssertTrue(Claim.escapeMomentum.design(scale).allSatisfy { !$0.separable }, "2 repeats cannot fit inside ±0.25")
        let runner = ReproductionRunner(scale: scale, out: directory, dataRoot: "/data", repositoryRoot: "/repo",
                                        executable: "/bin/true", threads: 1, claims: ["1", "4"])
        let (verdicts, _, _, _, _, _) = try runner.runAll(paperTable: nil)
        XCTAssertEqual(verdicts.map(\.kind), [.designCannotDiscriminate, .designCannotDiscriminate])
        XCTAssertTrue(verdicts[0].notes.contains { $0.contains("predicted") && $0.contains("half-width") }, "the refusal gives its numbers")
        XCTAssertFalse(FileManager.default.fileExists(atPath: runner.saddlePath), "a refused design is not run")
        XCTAssertFalse(FileManager.default.fileExists(atPath: runner.escapePath), "a refused design is not run")
        // The shipped scales' designs separate (claims 1–4 can be decided at every scale).
        for s in [ReproductionScale.smoke, .small, .paper] {
            for claim in Claims.all { XCTAssertTrue(claim.design(s).allSatisfy(\.separable), "\(s.name), claim \(claim.id)") }
        }
    }

    func testTheSaddleClosedFormMatchesTheSimulation() throws {
        // SGD at lr 0.1 along h = −0.01 for 400 steps: Var = η²σ²λ((1+ηλ)^{2T} − 1)/((1+ηλ)² − 1).
        let lr = 0.1, lambda = 0.01, t = 400.0
        let g = 1 + lr * lambda
        let exact = lr * lr * lambda * (pow(g, 2 * t) - 1) / (g * g - 1)
        let model = SaddleTheory.joint(.sgd(lr: lr), .sgd(lr: lr), curvature: -lambda, warm: 0, steps: Int(t))
        XCTAssertEqual(model.varianceA, exact, accuracy: 1e-9 * exact)
        XCTAssertEqual(model.correlation, 1, accuracy: 1e-12)
        var s = SaddleExperiment()
        s.curvatures = [1, -lambda]; s.steps = Int(t); s.every = Int(t); s.repeats = 400; s.threads = 1
        s.optimizers = [try OptimizerChoice(parsing: "sgd:lr=0.1")]
        let measured = try s.run().last!.escapeDisplacement
        XCTAssertEqual(measured / exact, 1, accuracy: 0.2, "400 repeats of a χ² mean: within 20%")
        // The sharp-direction spread: η/(2 − η).
        XCTAssertEqual(SaddleTheory.spread(.sgd(lr: lr), curvature: 1), lr / (2 - lr), accuracy: 1e-9)
    }
}

/// Every claim of the list has its docs section, its plan, its judge and its figure.
final class ClaimListTests: XCTestCase {
    func testEveryClaimHasItsDocsSectionPlanJudgeAndFigure() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let docs = try String(contentsOf: root.appendingPathComponent("docs/claims.md"), encoding: .utf8)
        XCTAssertEqual(Set(Claims.ids).count, Claims.all.count, "identifiers are unique")
        XCTAssertEqual(Set(Claims.all.map(\.figureFile)).count, Claims.all.count, "figure files are unique")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("claim-list-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let scale = ReproductionScale.smoke
        let context = ClaimContext(runner: ReproductionRunner(scale: scale, out: directory, dataRoot: "/data", repositoryRoot: "/repo",
                                                              executable: "/bin/true", threads: 1, claims: Set(Claims.ids)), paperTable: nil)
        context.saddleEvidence = SyntheticClaimTests.saddleEvidence(advantage: ["adam": 2, "sgdm": 0, "sgdm-cold": 0], plan: scale.saddle)
        context.escapeEvidence = SyntheticClaimTests.escapeEvidence(sensitivities: ["sgd": 8, "sgdm": 8, "adai": 8, "adam": 4.5], plan: scale.escape)
        context.noiseEvidence = NoiseClaimTests.report(slope: 1, batchExponent: -1, alphaMinibatches: 2, alphaParameters: 1.3)
        for plan in scale.training {
            context.trainingEvidence[plan.name] = TrainingEvidence(experiment: plan.name, chosen: [:], selectionNotes: [])
        }
        for claim in Claims.all {
            // Docs: its own section, which states its rule.
            XCTAssertTrue(docs.contains(claim.docsHeading + claim.title), "docs/claims.md lacks the section '\(claim.docsHeading)\(claim.title)'")
            // Plan: a design checked before running, training runs of the scale that serve it, (claims 11 and 12) what the
            // rule needs of the scale, counted from its plan, or, for a claim that only the paper scale trains (AM1),
            // "scale too small" here.
            let verdict = try claim.judge(context)
            let planned = !claim.design(scale).isEmpty || scale.training.contains { $0.claims.contains(claim.id) } || claim.needs.contains(.noise)
                || !claim.scaleChecks(context.runner).isEmpty
                || (verdict.kind == .scaleTooSmall && ReproductionScale.paper.training.contains { $0.claims.contains(claim.id) })
            XCTAssertTrue(planned, "claim \(claim.id): nothing in the smoke scale's plan runs it")
            XCTAssertFalse(claim.needs.isEmpty, "claim \(claim.id) needs nothing run")
            // Judge: a verdict for this claim, with its scope.
            XCTAssertEqual(verdict.claim, claim.id)
            XCTAssertFalse(claim.scope(context).isEmpty, "claim \(claim.id) has no scope line")
            // Figure: drawn from the planted evidence (the training claims' from their runs, which the planted evidence lacks).
            let chart = try? claim.figure(context, verdict)
            if claim.needs.contains(.training) {
                XCTAssertTrue(verdict.kind == .runsFailed || verdict.kind.verdict == .inconclusive, "claim \(claim.id): no runs, no decision")
            } else {
                XCTAssertFalse(try XCTUnwrap(chart ?? nil, "claim \(claim.id) draws no figure").series.isEmpty)
            }
        }
    }
}

/// Claim 7 on planted Hessian files: judged per seed, drawn as one marker per seed.
final class FlatnessClaimTests: XCTestCase {
    func testClaim7JudgesPerSeedAndDrawsSeedsAsMarkersWithoutLines() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("claim7-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let scale = ReproductionScale.smoke
        let context = ClaimContext(runner: ReproductionRunner(scale: scale, out: directory, dataRoot: "/data", repositoryRoot: "/repo",
                                                              executable: "/bin/true", threads: 1, claims: ["7"]), paperTable: nil)
        try FileManager.default.createDirectory(atPath: context.runner.analysesDirectory, withIntermediateDirectories: true)
        var evidence = TrainingEvidence(experiment: scale.hessian.experiment, chosen: [:], selectionNotes: [])
        let tops = ["adai": 5.0, "sgdm": 6.0, "adam": 20.0]
        for (name, top) in tops {
            for seed in [2, 3, 4] {
                evidence.runDirectories[name, default: [:]][seed] = "\(directory)/runs/\(name)-\(seed)"
                try "quantity,index,value,uncertainty\neigenvalue,1,\(top * (1 + 0.01 * Double(seed))),0.1\n"
                    .write(toFile: "\(context.runner.analysesDirectory)/hessian-\(name)-seed\(seed).csv", atomically: true, encoding: .utf8)
                try "sigma,samples,base_loss,expected_sharpness,std_error\n0.01,4,1.0,0.5,0.01\n"
                    .write(toFile: "\(context.runner.analysesDirectory)/sharpness-\(name)-seed\(seed).csv", atomically: true, encoding: .utf8)
            }
        }
        context.trainingEvidence[scale.hessian.experiment] = evidence
        let verdict = try Claim.flatness.judge(context)
        // The smoke runs are far under the regime check: the comparisons are made and reported, the verdict says so.
        XCTAssertEqual(verdict.kind, .scaleTooSmall, verdict.notes.joined(separator: "\n"))
        XCTAssertTrue(verdict.notes.contains { $0.contains("would be supported") }, verdict.notes.joined(separator: "\n"))
        XCTAssertEqual(verdict.comparisons["adai-vs-adam"]?.pairs, 3)
        XCTAssertEqual(verdict.comparisons["adai-vs-adam"]?.kind, .supported)
        // Fig. 7's second pair: Adai against SGD-M (log 6 − log 5 ≈ 0.18, at the margin log 1.2 ≈ 0.182).
        XCTAssertEqual(verdict.comparisons["adai-vs-sgdm"]?.pairs, 3)
        let chart = try XCTUnwrap(try Claim.flatness.figure(context, verdict))
        XCTAssertEqual(chart.series.map(\.name), ["adai", "adam", "sgdm"])
        XCTAssertTrue(chart.series.allSatisfy { !$0.connected }, "seeds are separate runs: no line joins them")
        XCTAssertEqual(chart.series[0].xs, [2, 3, 4])
    }
}


/// Claim 7's weight-norm-free sharpness, reported beside the rule: λ_max · Σ‖W_conv‖² per seed.
final class WeightNormFreeSharpnessTests: XCTestCase {
    /// Planted so that λ_max alone favours Adai (5 < 6 < 20) but Adai's kernels are 100× Adam's: the
    /// normalised statistic reverses the order, and the notes say so without touching the decisive verdict.
    func testTheNormalisedStatisticIsReportedBesideTheRuleWithItsOwnPairs() {
        var logTop: [String: [Int: Double]] = [:], norms: [String: [Int: Double]] = [:]
        for (name, top, norm) in [("adai", 5.0, 100.0), ("sgdm", 6.0, 10.0), ("adam", 20.0, 1.0)] {
            for seed in [2, 3, 4] {
                logTop[name, default: [:]][seed] = log(top * (1 + 0.01 * Double(seed)))
                norms[name, default: [:]][seed] = norm * (1 + 0.02 * Double(seed))
            }
        }
        let notes = weightNormFree(logTop: logTop, kernelNorms: norms, optimizers: ["adai", "sgdm", "adam"])
        let text = notes.joined(separator: "\n")
        XCTAssertTrue(notes[0].contains("adai 106, sgdm 10.6, adam 1.06"), text)  // the mean norms: 1.04, 1.06, 1.08 → 1.06 × the planted norm
        XCTAssertTrue(text.contains("weight-norm-free: adai vs adam:"), text)
        XCTAssertTrue(text.contains("weight-norm-free: adai vs sgdm:"), text)
        // log(5·100) − log(20·1) > 0: Adai's normalised sharpness is higher, the pair against Adam is reversed.
        XCTAssertTrue(notes.last!.contains("would say contradicted"), text)
    }

    /// Without any kernel norm the note says it was not computed (the decisive rule is unaffected).
    func testWithoutKernelNormsTheNoteSaysNotComputed() {
        let notes = weightNormFree(logTop: ["adai": [2: 1]], kernelNorms: [:], optimizers: ["adai", "adam"])
        XCTAssertEqual(notes.count, 1)
        XCTAssertTrue(notes[0].contains("not computed"), notes[0])
    }
}

/// Claim 8 at a scale that plans no PTB runs: scale too small, not "runs failed".
final class LanguageModelClaimTests: XCTestCase {
    func testTheMediumScaleLeavesClaim8ToALargerScale() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("claim8-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        XCTAssertFalse(ReproductionScale.medium.training.contains { $0.claims.contains("8") })
        let context = ClaimContext(runner: ReproductionRunner(scale: .medium, out: directory, dataRoot: "/data", repositoryRoot: "/repo",
                                                              executable: "/bin/true", threads: 1, claims: ["8"]), paperTable: nil)
        let verdict = try Claim.languageModel.judge(context)
        XCTAssertEqual(verdict.kind, .scaleTooSmall)
        XCTAssertEqual(verdict.notes, ["the medium scale runs no PTB LSTM (its budget goes to claims 1–7); claim 8 needs the paper scale's runs of 5 × 1,000 steps or more"])
    }

    /// `--plan` says so before anything runs.
    func testTheMediumPlanSaysClaim8WillReadScaleTooSmall() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("claim8-plan-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let runner = ReproductionRunner(scale: .medium, out: directory, dataRoot: "/data", repositoryRoot: "/repo", executable: "/bin/true",
                                        threads: 1, claims: ["8"])
        let text = try runner.planText(calibrationSteps: 1)
        XCTAssertTrue(text.contains("claim 8: Penn Treebank: Adai against SGD-M and Adam\n  no training runs for it at the medium scale: the claim will read \"scale too small\"\n"), text)
    }
}

/// Claims 9 and 10 on planted noise measurements, and once for real at the smoke scale.
final class NoiseClaimTests: XCTestCase {
    /// A noise report whose judged statistics scatter by ±`spread` around the planted values (4 replicates,
    /// 8 parameters, 8 minibatches); its figure data are a planted C = 0.5·H/B.
    static func report(slope: Double, batchExponent: Double, alphaMinibatches: Double, alphaParameters: Double,
                       spread: Double = 0.02) -> NoiseReport {
        var s = NoiseSettings()
        s.batchSizes = [8, 32]; s.replicates = 4; s.minibatches = 500
        let offsets = [-1.5, -0.5, 0.5, 1.5, -1, 1, -0.25, 0.25].map { $0 * spread }
        let lambdas = (0..<20).map { pow(10, -Double($0) / 4) }
        func fit(_ b: Int, _ r: Int) -> CovarianceFit {
            CovarianceFit(batch: b, diagonalExponent: slope + offsets[r], diagonalCorrelation: 0.9, diagonalRatio: 0.5,
                          diagonalRatioToH: 0.5 / Double(b), allSlope: 0.5, allCorrelation: 0.9, offDiagonalFraction: 0.1, directions: 20)
        }
        var rng = RandomGenerator(seed: 3).fork("planted-noise")
        let samples = (0..<500).map { _ in rng.nextNormal() }
        let checkpoint = { (name: String) in
            NoiseCheckpoint(name: name, loss: 2.3, trainSteps: 0, eigenvalues: lambdas, hessianAsymmetry: 1e-12, hessianExtrapolationChange: 1e-7,
                            fits: (0..<4).map { r in s.batchSizes.map { fit($0, r) } }, batchExponents: (0..<4).map { batchExponent + offsets[$0] },
                            perExampleFit: fit(1, 0), trackedIndices: Array(0..<8), alphaAcrossMinibatches: offsets.map { alphaMinibatches + 4 * $0 },
                            alphaAcrossParameters: offsets.map { alphaParameters + 4 * $0 }, gaussianAlphaMinibatches: Array(repeating: 2, count: 8),
                            gaussianAlphaParameters: Array(repeating: 2, count: 8),
                            diagonalPoints: s.batchSizes.map { b in lambdas.map { $0 / Double(b) } },
                            diagonalNoise: s.batchSizes.map { b in lambdas.map { 0.5 * $0 / Double(b) } },
                            elementH: lambdas.map { $0 / 8 }, elementC: lambdas.map { 0.5 * $0 / 8 }, parameterBasisSlope: 0.5,
                            parameterBasisCorrelation: 1, acrossMinibatchSample: samples, acrossParameterSample: Array(samples.prefix(100)))
        }
        return NoiseReport(settings: s, examples: 512, dimension: 100, data: "planted", checkpoints: [checkpoint("initialisation"), checkpoint("trained")])
    }

    func context(_ report: NoiseReport?) -> ClaimContext {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("noise-claims-\(getpid())-\(UUID().uuidString)").path
        let c = ClaimContext(runner: ReproductionRunner(scale: .smoke, out: directory, dataRoot: "/data", repositoryRoot: "/repo",
                                                        executable: "/bin/true", threads: 1, claims: ["9", "10"]), paperTable: nil)
        c.noiseEvidence = report
        return c
    }

    func testPlantedPremisesAreSupported() throws {
        let c = context(Self.report(slope: 1, batchExponent: -1, alphaMinibatches: 2, alphaParameters: 1.3))
        let nine = try Claim.noiseCovariance.judge(c), ten = try Claim.noiseTails.judge(c)
        XCTAssertEqual(nine.kind, .supported, nine.notes.joined(separator: "\n"))
        XCTAssertEqual(ten.kind, .supported, ten.notes.joined(separator: "\n"))
        let chart = try XCTUnwrap(try Claim.noiseCovariance.figure(c, nine))
        XCTAssertTrue(chart.logX && chart.logY, "the paper draws absolute values on log axes")
        XCTAssertEqual(chart.series.first?.fitXs?.isEmpty, false, "each batch size has its fitted line")
        XCTAssertEqual(try XCTUnwrap(try Claim.noiseTails.figure(c, ten)).series.count, 3, "two QQ series and the Gaussian line")
    }

    func testPlantedAlternativesAreContradicted() throws {
        // The noise ignores the curvature and does not shrink with B; Lévy across minibatches, Gaussian across parameters.
        var c = context(Self.report(slope: 0.1, batchExponent: -1, alphaMinibatches: 1.3, alphaParameters: 1.3))
        XCTAssertEqual(try Claim.noiseCovariance.judge(c).kind, .alternative)
        XCTAssertEqual(try Claim.noiseTails.judge(c).kind, .alternative)
        c = context(Self.report(slope: 1, batchExponent: 0, alphaMinibatches: 2, alphaParameters: 2))
        XCTAssertEqual(try Claim.noiseCovariance.judge(c).kind, .alternative, "part (b): no 1/B scaling")
        XCTAssertEqual(try Claim.noiseTails.judge(c).kind, .alternative, "part (b): Gaussian across parameters")
    }

    func testScatteredPlantedStatisticsAreUnderpowered() throws {
        let c = context(Self.report(slope: 0.5, batchExponent: -0.5, alphaMinibatches: 1.75, alphaParameters: 1.75, spread: 0.3))
        XCTAssertEqual(try Claim.noiseCovariance.judge(c).kind, .underpowered)
        XCTAssertEqual(try Claim.noiseTails.judge(c).kind, .underpowered)
    }

    /// The real measurement at the smoke scale (synthetic images): its files, figures and verdicts, in seconds.
    func testNoiseClaimsRunAtTheSmokeScale() throws {
        let c = context(nil)
        defer { try? FileManager.default.removeItem(atPath: c.runner.out) }
        // CPU time, not wall time, so that a busy machine does not fail the test (about 5 s on one core, debug build).
        let started = clock()
        let nine = try Claim.noiseCovariance.judge(c), ten = try Claim.noiseTails.judge(c)
        XCTAssertLessThan(Double(clock() - started) / Double(CLOCKS_PER_SEC), 60, "the premises must stay cheap at the smoke scale")
        XCTAssertNotEqual(nine.kind, .runsFailed); XCTAssertNotEqual(ten.kind, .runsFailed)
        for file in ["noise.json", "noise-fits.csv", "noise-eigenbasis.csv", "noise-tail-index.csv", "noise-summary.txt",
                     "noise-covariance-initialisation.png", "noise-qq-trained.png", "noise-elements-initialisation.png"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: "\(c.runner.analysesDirectory)/\(file)"), file)
        }
        let report = try c.noise()
        XCTAssertEqual(report.dimension, 194)
        XCTAssertLessThan(report.checkpoints[0].hessianAsymmetry, 1e-8)
        // Read back, not recomputed: a second context finds the same report.
        let again = ClaimContext(runner: c.runner, paperTable: nil)
        XCTAssertEqual(try again.noise(), report)
    }
}

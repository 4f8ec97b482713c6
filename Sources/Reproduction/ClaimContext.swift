import Analyses
import Engine
import Foundation
import Reports

/// What the claims' judges read: each experiment runs on first use (or is read back from `<out>/analyses/`
/// and the run directories) and is shared by the claims that need it. Tests fill the caches with planted evidence.
public final class ClaimContext {
    public let runner: ReproductionRunner
    public let paperTable: PaperTable?
    public var scale: ReproductionScale { runner.scale }

    public var saddleEvidence: SaddleEvidence?
    public var escapeEvidence: EscapeEvidence?
    public var noiseEvidence: NoiseReport?
    /// Training evidence by plan name.
    public var trainingEvidence: [String: TrainingEvidence] = [:]
    /// Claim 6's cells beside Table 2 (for the report).
    public var table2Cells: [Table2Cell] = []
    public var kendallTau: [String: Double] = [:]
    /// Claim 6: the seeds Table 2's own gaps need.
    public var paperGapPower: [PaperGapPower] = []
    /// The design checks of the claim being judged (parts refused here are not judged).
    public var checks: [DesignCheck] = []

    public init(runner: ReproductionRunner, paperTable: PaperTable?) {
        self.runner = runner; self.paperTable = paperTable
    }

    public func saddle() throws -> SaddleEvidence {
        if let e = saddleEvidence { return e }
        let e = try runner.runSaddle()
        saddleEvidence = e
        return e
    }

    public func escape() throws -> EscapeEvidence {
        if let e = escapeEvidence { return e }
        let e = try runner.runEscape()
        escapeEvidence = e
        return e
    }

    public func noise() throws -> NoiseReport {
        if let e = noiseEvidence { return e }
        let e = try runner.runNoise()
        noiseEvidence = e
        return e
    }

    /// The training plans of the scale that serve `claim`, run (or resumed) on first use.
    public func training(for claim: String) throws -> [TrainingEvidence] {
        try scale.training.filter { $0.claims.contains(claim) }.map { plan in
            if let e = trainingEvidence[plan.name] { return e }
            let e = try runner.runTraining(plan)
            trainingEvidence[plan.name] = e
            return e
        }
    }

    /// Whether the design refused a part (by its name) before running.
    public func refused(_ part: String) -> DesignCheck? { checks.first { $0.part == part && !$0.separable } }
}

/// A claim 1–2 saddle run, as the verdicts and figures read it.
public struct SaddleEvidence: Codable, Equatable {
    /// label → lr used (sgd, adam, sgdm, sgdm-cold).
    public var lrs: [String: Double]
    /// The adaptive optimizer's lr search, one line per try and its outcome.
    public var search: [String]
    public var searchConverged: Bool
    /// label → mean x² over the sharp directions in the second half of the run (at the first escape curvature).
    public var sharpSpread: [String: Double]
    /// curvature (as written by formatNumber) → label → repeat → log |x_esc| at the last step and at `earlyStep`.
    public var final: [String: [String: [Int: Double]]]
    public var early: [String: [String: [Int: Double]]]
    /// curvature → label → mean x² along the escape direction and over the sharp directions at `steps`.
    public var curves: [String: [String: SaddleCurve]]
    public var steps: [Int]
}

public struct SaddleCurve: Codable, Equatable {
    public var escape: [Double], sharp: [Double]
}

/// A claim 3–4 escape run.
public struct EscapeEvidence: Codable, Equatable {
    /// optimizer → lr found by the calibration.
    public var lrs: [String: Double]
    public var calibration: [String]
    public var converged: [String: Bool]
    /// optimizer → samples at k₋, 1, k₊.
    public var samples: [String: [EscapeSample]]
}

extension ReproductionRunner {
    public var saddlePath: String { "\(analysesDirectory)/saddle.json" }
    public var escapePath: String { "\(analysesDirectory)/escape.json" }

    func readJSON<T: Decodable>(_ type: T.Type, _ path: String) -> T? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return try? JSONDecoder().decode(type, from: data)
    }

    func writeJSON<T: Encodable>(_ value: T, _ path: String) throws {
        try FileManager.default.createDirectory(atPath: analysesDirectory, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        try AtomicFile.write(String(decoding: try encoder.encode(value), as: UTF8.self) + "\n", to: path)
    }

    static func lr(of choice: OptimizerChoice) -> Double? {
        if case let .number(x)? = choice.options["lr"] { return x }
        return nil
    }

    static func with(_ choice: OptimizerChoice, lr: Double, label: String? = nil) throws -> OptimizerChoice {
        var options = choice.options
        options["lr"] = .number(lr)
        return try OptimizerChoice(name: choice.name, label: label ?? choice.label, options: options)
    }

    /// The saddle's optimizers at the plan's budget: the reference as given, the momentum one at the reference's
    /// η/(1 − β), the adaptive one's lr from `adaptiveLR`.
    func saddleChoices(adaptiveLR: Double) throws -> (reference: OptimizerChoice, adaptive: OptimizerChoice, momentum: OptimizerChoice, cold: OptimizerChoice) {
        let p = scale.saddle
        let reference = try OptimizerChoice(parsing: p.reference)
        guard let lr = Self.lr(of: reference) else { throw ReproductionError("the saddle's reference \(p.reference) names no lr (write e.g. sgd:lr=0.1)") }
        let m = try OptimizerChoice(parsing: p.momentum)
        guard case let .number(beta)? = m.options["momentum"], beta > 0, beta < 1 else {
            throw ReproductionError("the saddle's momentum optimizer \(p.momentum) names no momentum in (0, 1) (write e.g. sgdm:momentum=0.9)")
        }
        let momentum = try Self.with(m, lr: lr * (1 - beta))
        return (reference, try Self.with(try OptimizerChoice(parsing: p.adaptive), lr: adaptiveLR), momentum,
                try Self.with(momentum, lr: lr * (1 - beta), label: "\(momentum.label)-cold"))
    }

    /// Mean x² over the sharp directions in the second half of a run of `steps`, over `repeats` warm repeats.
    func sharpSpread(_ choice: OptimizerChoice, repeats: Int, steps: Int) throws -> Double {
        let p = scale.saddle
        var s = SaddleExperiment()
        s.curvatures = p.sharpCurvatures + [p.escapeCurvatures[0]]
        s.steps = steps; s.every = max(1, steps / 20); s.repeats = repeats; s.warmSteps = p.warmSteps; s.threads = threads
        s.optimizers = [choice]
        let rows = try s.run().filter { $0.step > steps / 2 }
        return rows.map(\.otherDisplacement).reduce(0, +) / Double(max(1, rows.count))
    }

    /// The adaptive optimizer's lr whose sharp-direction spread equals the reference's: bisection in log lr on [1e-4, 10].
    func searchAdaptiveLR(target: Double, adaptive: OptimizerChoice) throws -> (lr: Double, lines: [String], converged: Bool) {
        let p = scale.saddle
        var lo = Foundation.log(1e-4), hi = Foundation.log(10.0), lines: [String] = [], best = (lr: exp(0.5 * (lo + hi)), error: Double.infinity)
        for _ in 0..<24 {
            let mid = 0.5 * (lo + hi), lr = exp(mid)
            let spread = try sharpSpread(try Self.with(adaptive, lr: lr), repeats: p.searchRepeats, steps: p.searchSteps)
            let error = spread / target - 1
            lines.append(String(format: "%@ lr %.4g: sharp spread %.4g (target %.4g, %+.1f%%)", adaptive.label, lr, spread, target, 100 * error))
            if abs(error) < abs(best.error) { best = (lr, error) }
            if abs(error) <= p.searchTolerance { break }
            if error > 0 { hi = mid } else { lo = mid }
        }
        return (best.lr, lines, abs(best.error) <= p.searchTolerance)
    }

    /// Claims 1–2: the spread search, then one saddle per escape curvature (warm starts, the momentum optimizer
    /// cold beside them); read back from `analyses/saddle.json` when it exists.
    public func runSaddle() throws -> SaddleEvidence {
        if let e = readJSON(SaddleEvidence.self, saddlePath) { return e }
        let p = scale.saddle
        let placeholder = try saddleChoices(adaptiveLR: 1e-3)
        let target = try sharpSpread(placeholder.reference, repeats: p.searchRepeats, steps: p.searchSteps)
        log("reproduce: saddle, searching the lr of \(placeholder.adaptive.label) for the sharp-direction spread of \(p.reference) (\(String(format: "%.4g", target)))")
        let (adaptiveLR, lines, converged) = try searchAdaptiveLR(target: target, adaptive: placeholder.adaptive)
        let c = try saddleChoices(adaptiveLR: adaptiveLR)
        var e = SaddleEvidence(lrs: [:], search: lines, searchConverged: converged, sharpSpread: [:], final: [:], early: [:], curves: [:], steps: [])
        for choice in [c.reference, c.adaptive, c.momentum, c.cold] { e.lrs[choice.label] = Self.lr(of: choice) }
        log("reproduce: saddle, \(p.escapeCurvatures.count) escape curvatures × 4 optimizers × \(p.repeats) repeats × \(p.steps) steps")
        for (index, h) in p.escapeCurvatures.enumerated() {
            var s = SaddleExperiment()
            s.curvatures = p.sharpCurvatures + [h]
            s.steps = p.steps; s.every = p.every; s.repeats = p.repeats; s.threads = threads
            let key = formatNumber(h), escape = s.curvatures.count - 1
            e.steps = s.recordedSteps
            guard let earlyIndex = e.steps.firstIndex(of: p.earlyStep) else {
                throw ReproductionError("the saddle's earlyStep \(p.earlyStep) is not a recorded step (a multiple of every = \(p.every))")
            }
            for (warm, choices) in [(p.warmSteps, [c.reference, c.adaptive, c.momentum]), (0, [c.cold])] {
                s.warmSteps = warm; s.optimizers = choices
                let records = try s.repeatRecords()
                for (o, choice) in choices.enumerated() {
                    var final: [Int: Double] = [:], early: [Int: Double] = [:]
                    for (r, rec) in records[o].enumerated() {
                        final[r] = 0.5 * Foundation.log(max(rec.last![escape], 1e-300))
                        early[r] = 0.5 * Foundation.log(max(rec[earlyIndex][escape], 1e-300))
                    }
                    e.final[key, default: [:]][choice.label] = final
                    e.early[key, default: [:]][choice.label] = early
                    let n = Double(records[o].count)
                    let curve = SaddleCurve(
                        escape: e.steps.indices.map { i in records[o].map { $0[i][escape] }.reduce(0, +) / n },
                        sharp: e.steps.indices.map { i in records[o].map { rec in (0..<escape).map { rec[i][$0] }.reduce(0, +) / Double(escape) }.reduce(0, +) / n })
                    e.curves[key, default: [:]][choice.label] = curve
                    if index == 0 {
                        let late = e.steps.indices.filter { e.steps[$0] > p.steps / 2 }
                        e.sharpSpread[choice.label] = late.map { curve.sharp[$0] }.reduce(0, +) / Double(max(1, late.count))
                    }
                }
            }
        }
        try writeJSON(e, saddlePath)
        return e
    }

    /// One try of the escape calibration: the mean escape time at k = 1 on seed 1.
    func meanEscapeTime(_ choice: OptimizerChoice) throws -> EscapeRateEstimate {
        let p = scale.escape
        var x = EscapeExperiment()
        x.dimension = p.dimension; x.samples = p.samples; x.noiseScale = p.noiseScale; x.repeats = p.calibrationRepeats
        x.maxSteps = Int(20 * p.targetSteps); x.ks = [1]; x.threads = threads; x.seed = 1
        x.optimizers = [choice]
        return try x.run().summaries[0].estimate
    }

    /// The lr at which `choice` escapes in `targetSteps` on average at k = 1: Newton steps on log τ̂ against log lr,
    /// the slope from the last two tries (at most a factor 3 per step).
    func calibrate(_ spec: String) throws -> (choice: OptimizerChoice, lines: [String], converged: Bool) {
        let p = scale.escape
        var choice = try OptimizerChoice(parsing: spec)
        guard var lr = Self.lr(of: choice) else { throw ReproductionError("the escape optimizer \(spec) names no starting lr (write e.g. sgd:lr=0.005)") }
        var slope = -8.0, previous: (x: Double, y: Double)?, lines: [String] = []
        for _ in 0..<p.calibrationTries {
            choice = try Self.with(choice, lr: lr)
            let e = try meanEscapeTime(choice)
            let y = e.escapes > 0 ? Foundation.log(e.meanTime / p.targetSteps) : Foundation.log(20.0) + 1
            lines.append(String(format: "%@ lr %.4g: mean escape %.4g steps at k = 1 (%d/%d escaped; target %.4g)",
                                choice.label, lr, e.meanTime, e.escapes, e.repeats, p.targetSteps))
            if abs(y) <= p.calibrationTolerance { return (choice, lines, true) }
            let x = Foundation.log(lr)
            if let previous, x != previous.x { let s = (y - previous.y) / (x - previous.x); if s < -0.5 { slope = s } }
            previous = (x, y)
            lr = exp(x - max(-Foundation.log(3.0), min(Foundation.log(3.0), y / slope)))
        }
        return (choice, lines, false)
    }

    /// Claims 3–4: each optimizer's lr calibrated, then escapes at k ∈ {1/f, 1, f} on shared noise streams;
    /// read back from `analyses/escape.json` when it exists.
    public func runEscape() throws -> EscapeEvidence {
        if let e = readJSON(EscapeEvidence.self, escapePath) { return e }
        let p = scale.escape
        var e = EscapeEvidence(lrs: [:], calibration: [], converged: [:], samples: [:])
        var choices: [OptimizerChoice] = []
        log("reproduce: escape, calibrating \(p.optimizers.count) learning rates to a mean escape of \(formatNumber(p.targetSteps)) steps at k = 1")
        for spec in p.optimizers {
            let (choice, lines, converged) = try calibrate(spec)
            choices.append(choice); e.calibration += lines; e.converged[choice.label] = converged
            e.lrs[choice.label] = Self.lr(of: choice)
        }
        var x = EscapeExperiment()
        x.dimension = p.dimension; x.samples = p.samples; x.noiseScale = p.noiseScale; x.repeats = p.repeats
        x.maxSteps = p.maxSteps; x.ks = p.ks; x.threads = threads; x.optimizers = choices
        log("reproduce: escape, \(choices.count) optimizers × k ∈ {\(p.ks.map(formatNumber).joined(separator: ", "))} × \(p.repeats) repeats (cap \(p.maxSteps) steps)")
        let result = try x.run()
        try FileManager.default.createDirectory(atPath: analysesDirectory, withIntermediateDirectories: true)
        try AtomicFile.write(result.summaryCSV, to: "\(analysesDirectory)/escape-summary.csv")
        try AtomicFile.write(result.timesCSV, to: "\(analysesDirectory)/escape-times.csv")
        for choice in choices {
            e.samples[choice.label] = p.ks.map { k in
                let rows = result.outcomes.filter { $0.optimizer == choice.label && $0.k == k }.sorted { $0.repeatIndex < $1.repeatIndex }
                return EscapeSample(k: k, times: rows.map { Double($0.time) }, escaped: rows.map(\.escaped))
            }
        }
        try writeJSON(e, escapePath)
        return e
    }
}

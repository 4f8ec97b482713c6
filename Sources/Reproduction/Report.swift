import Engine
import Experiments
import Datasets
import Foundation
import RunFormat
import Plot
import Reports

/// One row of the report's opening "paper vs this run" table.
public struct ScaleComparisonRow: Codable, Equatable {
    public var item: String, paper: String, thisRun: String
    /// thisRun / paper where both are numbers, else nil.
    public var ratio: Double?
}

/// Everything `report.json` holds; REPORT.md is written from it and nothing else.
public struct ReproductionReport: Codable {
    public var scale: String
    public var summary: String
    public var command: String
    public var commit: String
    public var writtenAt: String
    public var paperVsThisRun: [ScaleComparisonRow]
    public var reductions: [String]
    public var openPoints: [String]
    public var claims: [ClaimVerdict]
    public var training: [TrainingEvidence]
    public var table2Cells: [Table2Cell]
    public var kendallTau: [String: Double]
    public var paperGapPower: [PaperGapPower]
    public var figures: [String: String]
    public var ruleChangesAfterResults: [ClaimRules.Change] = ClaimRules.changesAfterResults

    public init(scale: String, summary: String, command: String, commit: String, writtenAt: String,
                paperVsThisRun: [ScaleComparisonRow], reductions: [String], openPoints: [String], claims: [ClaimVerdict],
                training: [TrainingEvidence], table2Cells: [Table2Cell], kendallTau: [String: Double],
                paperGapPower: [PaperGapPower], figures: [String: String]) {
        self.scale = scale; self.summary = summary; self.command = command; self.commit = commit; self.writtenAt = writtenAt
        self.paperVsThisRun = paperVsThisRun; self.reductions = reductions; self.openPoints = openPoints; self.claims = claims
        self.training = training; self.table2Cells = table2Cells; self.kendallTau = kendallTau
        self.paperGapPower = paperGapPower; self.figures = figures
    }
}

extension ReproductionRunner {
    /// Runs what the selected claims need and returns their verdicts with the evidence. Each claim's design is
    /// checked first: a claim whose every part is refused is not run.
    public func runAll(paperTable: PaperTable?) throws -> (verdicts: [ClaimVerdict], training: [TrainingEvidence], cells: [Table2Cell], tau: [String: Double], power: [PaperGapPower], figures: [String: String]) {
        var verdicts: [ClaimVerdict] = [], figures: [String: String] = [:]
        let figureDirectory = "\(out)/figures"
        try FileManager.default.createDirectory(atPath: figureDirectory, withIntermediateDirectories: true)
        let context = ClaimContext(runner: self, paperTable: paperTable)
        for claim in selectedClaims {
            let checks = claim.design(scale)
            for check in checks where !check.separable { log("reproduce: claim \(claim.id): \(check.line)") }
            if !checks.isEmpty && !checks.contains(where: \.separable) {
                var v = ClaimVerdict.refused(claim.id, checks)
                v.scope = claim.scope(context)
                verdicts.append(v)
                continue
            }
            context.checks = checks
            var v = try claim.judge(context)
            v.design = checks
            v.scope = claim.scope(context)
            verdicts.append(v)
            do {
                if let chart = try claim.figure(context, v) {
                    _ = try chart.figure().write(to: "\(figureDirectory)/\(claim.figureFile)")
                    figures[claim.id] = "figures/\(claim.figureFile)"
                }
            } catch {
                log("reproduce: the figure of claim \(claim.id) is not drawn: \(error)")
            }
        }
        // The report names run directories relative to its own directory, so it reads the same wherever it is copied.
        let relative = scale.training.compactMap { context.trainingEvidence[$0.name] }.map { e -> TrainingEvidence in
            var e = e
            e.runDirectories = e.runDirectories.mapValues { $0.mapValues { $0.hasPrefix(out + "/") ? String($0.dropFirst(out.count + 1)) : $0 } }
            return e
        }
        return (verdicts, relative, context.table2Cells, context.kendallTau, context.paperGapPower, figures)
    }

    func withFailures(_ v: ClaimVerdict, _ evidence: [TrainingEvidence]) -> ClaimVerdict {
        var v = v
        let failed = evidence.flatMap(\.failedRuns)
        if !failed.isEmpty { v.notes.append("runs that did not complete (left out of the pairs): " + failed.joined(separator: "; ")) }
        v.notes += evidence.flatMap(\.selectionNotes).map { "selection: " + $0 }
        return v
    }

    /// The "paper vs this run" rows from the comparison configs this scale writes, for the selected claims' needs.
    public func paperComparison() throws -> [ScaleComparisonRow] {
        var rows: [ScaleComparisonRow] = []
        let plans = trainingPlans.filter { !$0.dataset.isText }
        if !plans.isEmpty {
            var epochs: [Int] = [], steps: [Int] = [], seeds: [String] = [], compared: [Int] = []
            var optimizers = Set<String>(), models = Set<String>(), schedules = Set<String>()
            var realImages = 0, synthetic = false, grid = 0
            for plan in plans {
                let config = try ExperimentConfig.load(path: try writeConfig(plan, selection: false).path)
                epochs.append(config.training.epochs)
                compared.append(plan.seeds.count)
                seeds.append("\(plan.seeds.count) compared" + (plan.needsSelection ? " (+1 lr-selection seed, not compared)" : ""))
                optimizers.formUnion(config.optimizers.map(\.name)); models.insert(config.model.name)
                schedules.insert("\(config.training.schedule)")
                grid = max(grid, plan.optimizers.compactMap { $0.lrGrid?.count }.max() ?? 1)
                if plan.synthetic != nil { synthetic = true } else { realImages = max(realImages, trainImages(plan) ?? 0) }
                if let images = trainImages(plan) { steps.append(config.training.epochs * ((images + config.training.batchSize - 1) / config.training.batchSize)) }
            }
            rows.append(ScaleComparisonRow(item: "CIFAR training data", paper: "50,000 real images",
                                           thisRun: synthetic ? "synthetic images" : "\(realImages) real images",
                                           ratio: synthetic ? nil : Double(realImages) / 50_000))
            rows.append(ScaleComparisonRow(item: "epochs", paper: "200", thisRun: epochs.map(String.init).joined(separator: ", "),
                                           ratio: epochs.max().map { Double($0) / 200 }))
            rows.append(ScaleComparisonRow(item: "training steps (epochs × steps per epoch)", paper: "78,200 (200 × 391 at batch 128)",
                                           thisRun: steps.isEmpty ? "unknown (no data files)" : steps.map(String.init).joined(separator: ", "),
                                           ratio: steps.max().map { Double($0) / Double(TrainingScope.paperCIFARSteps) }))
            rows.append(ScaleComparisonRow(item: "models", paper: "5 (ResNet18, VGG16, ResNet34, DenseNet121, GoogLeNet)",
                                           thisRun: "\(models.count) (\(models.sorted().joined(separator: ", ")))", ratio: Double(models.count) / 5))
            rows.append(ScaleComparisonRow(item: "optimizers", paper: "11", thisRun: "\(optimizers.count) (\(optimizers.sorted().joined(separator: ", ")))",
                                           ratio: Double(optimizers.count) / 11))
            rows.append(ScaleComparisonRow(item: "lr grid per optimizer", paper: "not published (one lr per adaptive method)",
                                           thisRun: grid > 1 ? "\(grid) values, chosen on a selection seed" : "1 value", ratio: nil))
            rows.append(ScaleComparisonRow(item: "seeds compared per setting", paper: "3", thisRun: seeds.joined(separator: "; "),
                                           ratio: compared.min().map { Double($0) / 3 }))
            rows.append(ScaleComparisonRow(item: "schedule", paper: "lr ÷10 at epochs 80 and 160 (CIFAR-10)",
                                           thisRun: schedules.sorted().joined(separator: "; "), ratio: nil))
        }
        if needs.contains(.escape) {
            let e = scale.escape
            rows.append(ScaleComparisonRow(item: "escape repeats per k", paper: "100", thisRun: "\(e.repeats)", ratio: Double(e.repeats) / 100))
            rows.append(ScaleComparisonRow(item: "escape k values", paper: "not legible", thisRun: "{\(e.ks.map { String(format: "%.3g", $0) }.joined(separator: ", "))} at a matched rate",
                                           ratio: nil))
        }
        if needs.contains(.noise) {
            rows.append(ScaleComparisonRow(item: "gradient-noise measurement (Fig. 1, App. C)", paper: "a randomly initialised network; model and settings not stated",
                                           thisRun: scale.noise.description, ratio: nil))
        }
        if needs.contains(.saddle) {
            let p = scale.saddle
            rows.append(ScaleComparisonRow(item: "saddle experiment", paper: "none numeric (§4 is analytic)",
                                           thisRun: "\(p.escapeCurvatures.count) curvatures × \(p.repeats) repeats × \(p.steps) steps", ratio: nil))
        }
        return rows
    }
}

public enum ReportWriter {
    public static func markdown(_ r: ReproductionReport) -> String {
        func f(_ x: Double) -> String { x.isFinite ? String(format: "%.4g", x) : "—" }
        var md = "# adai-bench reproduce: \(r.scale) scale\n\n"
        md += "Written by `\(r.command)` at commit `\(r.commit)` on \(r.writtenAt); every number below is in `report.json` beside this file and was computed from the results files, none typed by hand. "
        md += "The claims, statistics and decision rules are those of docs/claims.md. Verdicts at a reduced scale are verdicts of that scale, judged against this run's own baselines.\n\n"
        md += "Scale: \(r.summary).\n\n## Paper vs this run\n\n| item | paper | this run | ratio |\n| --- | --- | --- | --- |\n"
        for row in r.paperVsThisRun { md += "| \(row.item) | \(row.paper) | \(row.thisRun) | \(row.ratio.map { f($0) } ?? "—") |\n" }
        md += "\nReductions against the paper's protocol:\n\n" + r.reductions.map { "- \($0)\n" }.joined()
        if !r.openPoints.isEmpty { md += "\nOpen points of this scale's design:\n\n" + r.openPoints.map { "- \($0)\n" }.joined() }
        md += "\n## Changes to the rules after results\n\n" + (r.ruleChangesAfterResults.isEmpty ? "None.\n" : r.ruleChangesAfterResults.map { "- \($0.line)\n" }.joined())
        md += "\n## Verdicts\n\n| claim | verdict | kind | scope |\n| --- | --- | --- | --- |\n"
        for c in r.claims {
            md += "| \(c.claim). \(Claims.named(c.claim)?.title ?? "") | **\(c.verdict.rawValue)** | \(c.kind.rawValue) | \(c.scope.isEmpty ? "—" : "see below") |\n"
        }
        for c in r.claims {
            let claim = Claims.named(c.claim)
            md += "\n## Claim \(c.claim): \(claim?.title ?? "")\n\n"
            md += "- Scope: \(c.scope).\n"
            if let claim {
                md += "- The paper: \(claim.paper); it predicts \(claim.prediction).\n"
                md += "- Test and rule: \(claim.rule) (docs/claims.md).\n"
            }
            md += "- Verdict: **\(c.verdict.rawValue)** (\(c.kind.rawValue)), at the \(r.scale) scale.\n"
            if let claim { md += "- What the paper scale would add: \(claim.paperScaleGain).\n" }
            if !c.design.isEmpty { md += "- Design, checked before running:\n" + c.design.map { "  - \($0.line)\n" }.joined() }
            md += "\nWhat the rule read:\n\n" + c.notes.map { "- \($0)\n" }.joined()
            if let figure = r.figures[c.claim] { md += "\n![Claim \(c.claim)](\(figure))\n" }
        }
        if !r.training.isEmpty {
            // Each experiment's own metric (test error for CIFAR, perplexity for PTB), named in its row.
            md += "\n## Training runs\n\n| experiment | model | optimizer | lr | seeds | metric | final (mean) | best over epochs (the paper's statistic, mean) |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n"
            for e in r.training {
                for name in e.finalMetric.keys.sorted() {
                    let finals = inSeedOrder(e.finalMetric[name]!), bests = inSeedOrder(e.bestMetric[name] ?? [:])
                    md += "| \(e.experiment) | \(e.model) | \(name) | \(e.chosen[name].map(formatNumber) ?? "—") | \(finals.count) | \(e.metric) | \(f(finals.reduce(0, +) / Double(max(1, finals.count)))) | \(f(bests.reduce(0, +) / Double(max(1, bests.count)))) |\n"
                }
            }
        }
        if !r.table2Cells.isEmpty {
            md += "\n## Beside Table 2 (best test error over epochs, the paper's statistic)\n\nThe difference is in units of the paper's std; it is meaningful only at the paper scale.\n\n| model | optimizer | ours | paper | (ours − paper)/std |\n| --- | --- | --- | --- | --- |\n"
            for c in r.table2Cells { md += "| \(c.model) | \(c.optimizer) | \(f(c.ours)) | \(f(c.paper)) ± \(f(c.paperStd)) | \(f(c.differenceInPaperStd)) |\n" }
            md += "\nKendall's τ between our ordering and Table 2's: " + r.kendallTau.sorted { $0.key < $1.key }.map { "\($0.key) \(f($0.value))" }.joined(separator: ", ") + ".\n"
        }
        if !r.paperGapPower.isEmpty {
            md += "\n## Seeds the paper's own gaps need (Table 2 means and stds, 95% confidence, 80% power)\n\n| model | pair | gap (pp) | combined std | seeds needed |\n| --- | --- | --- | --- | --- |\n"
            for g in r.paperGapPower where ["sgdm", "adam"].contains(g.b) {
                md += "| \(g.model) | \(g.a) vs \(g.b) | \(f(g.gap)) | \(f(g.combinedStd)) | \(g.seedsNeeded.map(String.init) ?? "gap ≤ 0") |\n"
            }
        }
        return md
    }

    public static func write(_ r: ReproductionReport, to directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        try AtomicFile.write(String(decoding: try encoder.encode(r), as: UTF8.self) + "\n", to: "\(directory)/report.json")
        try AtomicFile.write(markdown(r), to: "\(directory)/REPORT.md")
    }
}

/// A seed → value map's values in seed order, so that their sum (and its last digit) is the same in every process:
/// a dictionary's own order changes from run to run.
func inSeedOrder(_ values: [Int: Double]) -> [Double] { values.keys.sorted().map { values[$0]! } }

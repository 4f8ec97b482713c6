import Engine
import Experiments
import Foundation
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
    /// Per claim, what was run for it (scale, data, model, epochs, seeds; or the analysis settings).
    public var runsPerClaim: [String: String] = [:]
    public var ruleChangesAfterResults: [String] = ClaimRules.changesAfterResults

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

/// The claims' titles, as docs/claims.md states them.
public let claimTitles: [Int: String] = [
    1: "An adaptive learning rate escapes saddle points faster than SGD",
    2: "Momentum adds a drift that helps pass saddle points",
    3: "−log Γ grows like 1/k for SGD, SGD-M and Adai and like 1/√k for Adam",
    4: "Momentum hardly changes flat-minima selection",
    5: "Adai trains faster than SGD with momentum",
    6: "Adai and AdaiW reach lower test error than SGD-M and the Adam family",
    7: "The solutions of Adai and SGD-M are flatter than Adam's",
    8: "Penn Treebank: Adai against SGD-M and Adam",
]

public let claimDesigns: [Int: String] = [
    1: "saddle repeats, Adam vs SGD paired by repeat; log distance along the escape direction at the last step; margin log 1.2",
    2: "saddle repeats, SGD-M vs SGD paired by repeat; same statistic and margin",
    3: "escape times per k; fit −log Γ = a + b·k^(−p), 95% bootstrap interval of p; k must span two decades",
    4: "escape fits of SGD and SGD-M; 95% bootstrap interval of p_sgdm − p_sgd inside ±0.25",
    5: "CIFAR runs paired by seed; mean over epochs of log training loss, SGD-M − Adai; margin 0.05; ≥ 10 epochs",
    6: "CIFAR runs paired by seed; final test error, baseline − Adai(W), per model and pair; margin 0.1 pp; ≥ 10 epochs",
    7: "top Hessian eigenvalue of the final checkpoints, paired by seed; log λ_Adam − log λ; margin log 1.2",
    8: "PTB runs paired by seed; final test loss, baseline − Adai; margin 0.01 nats",
]

public let paperScaleGains: [Int: String] = [
    1: "more repeats and steps narrow the interval; the saddle experiment is synthetic at every scale",
    2: "as claim 1",
    3: "more repeats and a longer step cap keep the slow (flat) k values uncensored",
    4: "as claim 3",
    5: "the real networks and 200 epochs: the regime of the paper's curves",
    6: "all five Table 2 rows, eleven optimizers, full data; cells comparable with the paper in its std units",
    7: "Hessians of ResNet18 trained for 200 epochs",
    8: "the 2-layer 512-unit LSTM with the full schedule",
]

extension ReproductionRunner {
    /// Runs what the chosen claims need and returns their verdicts with the evidence.
    public func runAll(paperTable: PaperTable?) throws -> (verdicts: [ClaimVerdict], training: [TrainingEvidence], cells: [Table2Cell], tau: [String: Double], figures: [String: String]) {
        var verdicts: [ClaimVerdict] = [], figures: [String: String] = [:]
        let figureDirectory = "\(out)/figures"
        try FileManager.default.createDirectory(atPath: figureDirectory, withIntermediateDirectories: true)
        func draw(_ claim: Int, _ chart: () throws -> LineChart) {
            let path = "\(figureDirectory)/claim-\(claim).png"
            do { _ = try chart().figure().write(to: path); figures[String(claim)] = "figures/claim-\(claim).png" } catch {
                log("reproduce: the figure of claim \(claim) is not drawn: \(error)")
            }
        }
        if wantsSaddle {
            let d = try runSaddle()
            if claims.contains(1) { verdicts.append(Verdicts.saddle(claim: 1, a: "adam", b: "sgd", logDistance: d)) }
            if claims.contains(2) { verdicts.append(Verdicts.saddle(claim: 2, a: "sgdm", b: "sgd", logDistance: d)) }
            for claim in [1, 2] where claims.contains(claim) {
                draw(claim) {
                    let series = d.keys.sorted().map { name -> Series in
                        let values = d[name]!.values.sorted()
                        return Series(name: name, xs: values.indices.map { Double($0 + 1) / Double(values.count) }, ys: values)
                    }
                    return LineChart(title: "Claims 1–2: distance along the escape direction (quantiles over repeats)",
                                     xLabel: "quantile", yLabel: "log |x_escape| at the last step", series: series)
                }
            }
        }
        if wantsEscape {
            let samples = try runEscape()
            let (c3, c4) = Verdicts.escape(samples: samples, replicates: scale.escape.bootstrapReplicates, seed: 0)
            if claims.contains(3) { verdicts.append(c3) }
            if claims.contains(4) { verdicts.append(c4) }
            draw(3) {
                var series: [Series] = []
                for name in samples.keys.sorted() {
                    let usable = samples[name]!.filter { $0.rate != nil }
                    var s = Series(name: name, xs: usable.map(\.k), ys: usable.map { -Foundation.log($0.rate!) })
                    if let e = c3.exponents[name] {
                        let ks = (0...40).map { usable.first!.k * pow(usable.last!.k / usable.first!.k, Double($0) / 40) }
                        s.fitXs = ks; s.fitYs = ks.map { e.fit.a + e.fit.b * pow($0, -e.fit.p) }
                    }
                    series.append(s)
                }
                var chart = LineChart(title: "Claim 3: −log Γ against k with fits a + b·k^(−p)", xLabel: "k (sharpness)",
                                      yLabel: "−log Γ", series: series, logX: true)
                chart.markers = true
                return chart
            }
        }
        var training: [TrainingEvidence] = []
        for plan in trainingPlans { training.append(try runTraining(plan)) }
        let cifar = training.filter { $0.dataset != "ptb" }
        var cells: [Table2Cell] = [], tau: [String: Double] = [:]
        if claims.contains(5) {
            let parts = cifar.map { e in
                Verdicts.pairs(claim: 5, a: ["adai"], baselines: ["sgdm"], values: e.meanLogTrainLoss, lowerIsBetter: true,
                               margin: ClaimRules.trainingLossMargin, unit: "mean log loss", epochs: e.epochs, label: "\(e.model): ")
            }
            verdicts.append(withFailures(Verdicts.merge(claim: 5, parts), cifar))
            if let first = cifar.first { draw(5) { try Plots.loss(runs: try first.comparisonRuns(), optimizers: ["adai", "sgdm"], title: "Claim 5: training loss (\(first.model))") } }
        }
        if claims.contains(6) {
            let power = paperTable.map(PaperTable2.power) ?? []
            let parts = cifar.map { e -> ClaimVerdict in
                let ours = ["adai", "adaiw"].filter { e.finalMetric[$0] != nil }
                let baselines = (["sgdm"] + ReproductionScale.cifarAdamFamily).filter { e.finalMetric[$0] != nil }
                var effects: [String: Double] = [:]
                for g in power where g.model == e.model && g.gap > 0 { effects["\(g.a)-vs-\(g.b)"] = g.gap }
                return Verdicts.pairs(claim: 6, a: ours.isEmpty ? ["adai"] : ours, baselines: baselines.isEmpty ? ["sgdm"] : baselines,
                                      values: e.finalMetric, lowerIsBetter: true, margin: ClaimRules.testErrorMargin, unit: "pp",
                                      epochs: e.epochs, effects: effects, label: "\(e.model): ")
            }
            verdicts.append(withFailures(Verdicts.merge(claim: 6, parts), cifar))
            if let paperTable {
                var ours: [String: [String: Double]] = [:]
                for e in cifar { ours[e.model] = e.bestMetric.mapValues { v in inSeedOrder(v).reduce(0, +) / Double(v.count) } }
                (cells, tau) = PaperTable2.cells(ours: ours, table: paperTable)
            }
            if let first = cifar.first { draw(6) { try Plots.curves(runs: try first.comparisonRuns(), title: "Claim 6: test error (\(first.model))") } }
        }
        if claims.contains(7) {
            if let e = training.first(where: { $0.experiment == scale.hessian.experiment }) {
                let logTop = try runHessian(e)
                var v = Verdicts.pairs(claim: 7, a: ["adai", "sgdm"], baselines: ["adam"], values: logTop, lowerIsBetter: true,
                                       margin: ClaimRules.sharpnessMargin, unit: "log λ_max")
                let sharpness = try runSharpness(e)
                v.notes.append("expected sharpness at σ = \(formatNumber(scale.hessian.sigma)) (reported beside the rule, not decisive): "
                               + sharpness.keys.sorted().map { name in
                                   let values = inSeedOrder(sharpness[name]!)
                                   return "\(name) \(formatNumber(values.reduce(0, +) / Double(values.count))) (mean of \(values.count))"
                               }.joined(separator: ", "))
                verdicts.append(withFailures(v, [e]))
                draw(7) {
                    let series = logTop.keys.sorted().map { name in
                        Series(name: name, xs: logTop[name]!.keys.sorted().map(Double.init), ys: logTop[name]!.keys.sorted().map { logTop[name]![$0]! })
                    }
                    var chart = LineChart(title: "Claim 7: top Hessian eigenvalue per seed", xLabel: "seed", yLabel: "log λ_max", series: series)
                    chart.markers = true
                    return chart
                }
            } else {
                verdicts.append(ClaimVerdict(claim: 7, verdict: .inconclusive, reason: .runsFailed, notes: ["the training runs of \(scale.hessian.experiment) were not run (pass --claims with 6 or 7)"]))
            }
        }
        if claims.contains(8) {
            if let e = training.first(where: { $0.dataset == "ptb" }) {
                verdicts.append(withFailures(Verdicts.pairs(claim: 8, a: ["adai"], baselines: ["sgdm", "adam"], values: e.finalTestLoss,
                                                            lowerIsBetter: true, margin: ClaimRules.perplexityMargin, unit: "nats"), [e]))
                draw(8) { try Plots.curves(runs: try e.comparisonRuns(), column: "test_ppl", title: "Claim 8: test perplexity (\(e.model))") }
            }
        }
        // The report names run directories relative to its own directory, so it reads the same wherever it is copied.
        let relative = training.map { e -> TrainingEvidence in
            var e = e
            e.runDirectories = e.runDirectories.mapValues { $0.mapValues { $0.hasPrefix(out + "/") ? String($0.dropFirst(out.count + 1)) : $0 } }
            return e
        }
        return (verdicts.sorted { $0.claim < $1.claim }, relative, cells, tau, figures)
    }

    /// What the scale runs for a claim, in one line.
    public func runDescription(claim: Int) -> String {
        switch claim {
        case 1, 2:
            let p = scale.saddle
            return "saddle with curvatures \(p.curvatures.map(formatNumber).joined(separator: ", ")), \(p.repeats) repeats × \(p.steps) steps, optimizers \(p.optimizers.joined(separator: ", "))"
        case 3, 4:
            let p = scale.escape
            return "escape in \(p.dimension) dimensions with \(p.samples) samples, k ∈ {\(p.ks.map(formatNumber).joined(separator: ", "))}, \(p.repeats) repeats, cap \(p.maxSteps) steps, optimizers \(p.optimizers.joined(separator: ", ")), \(p.bootstrapReplicates) bootstrap replicates"
        default:
            var parts = scale.training.filter { $0.claims.contains(claim) }.map { plan -> String in
                let data = plan.synthetic.map { "synthetic \(plan.dataset) (\($0[0]) train / \($0[1]) test)" } ?? "\(plan.dataset) from \(dataLabel.map { dataDirectory(plan.dataset).replacingOccurrences(of: dataRoot, with: $0) } ?? dataDirectory(plan.dataset))"
                let selection = plan.needsSelection ? ", lr chosen on seed \(plan.selectionSeed!) from each optimizer's grid" : ""
                return "\(plan.name): \(data), model \(plan.model ?? "of configs/\(plan.base ?? "").json"), \(plan.epochs.map { "\($0) epochs" } ?? "the config's epochs")\(plan.maxSteps.map { " of at most \($0) steps" } ?? ""), seeds \(plan.seeds.map(String.init).joined(separator: ","))\(selection)"
            }
            if claim == 7 {
                let h = scale.hessian
                parts.append("top Hessian eigenvalue (\(h.iterations) Lanczos iterations) and expected sharpness (σ \(formatNumber(h.sigma)), \(h.sharpnessSamples) draws) on \(h.batches) × \(h.batchSize) training examples of the final checkpoints of \(h.optimizers.joined(separator: ", "))")
            }
            return parts.joined(separator: "; ")
        }
    }

    func withFailures(_ v: ClaimVerdict, _ evidence: [TrainingEvidence]) -> ClaimVerdict {
        var v = v
        let failed = evidence.flatMap(\.failedRuns)
        if !failed.isEmpty { v.notes.append("runs that did not complete (left out of the pairs): " + failed.joined(separator: "; ")) }
        v.notes += evidence.flatMap(\.selectionNotes).map { "selection: " + $0 }
        return v
    }

    /// The "paper vs this run" rows from the comparison configs this scale writes.
    public func paperComparison() throws -> [ScaleComparisonRow] {
        var rows: [ScaleComparisonRow] = []
        let plans = scale.training.filter { $0.dataset != "ptb" }
        var epochs: [Int] = [], seeds: [Int] = [], optimizers = Set<String>(), models = Set<String>(), schedules = Set<String>()
        var realImages = 0.0, synthetic = false, grid = 0
        for plan in plans {
            let config = try ExperimentConfig.load(path: try writeConfig(plan, selection: false).path)
            epochs.append(config.training.epochs); seeds.append(plan.seeds.count + (plan.needsSelection ? 1 : 0))
            optimizers.formUnion(config.optimizers.map(\.name)); models.insert(config.model.name)
            schedules.insert("\(config.training.schedule)")
            grid = max(grid, plan.optimizers.compactMap { $0.lrGrid?.count }.max() ?? 1)
            if plan.synthetic != nil { synthetic = true } else {
                let dir = dataDirectory(plan.dataset)
                let files = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
                let bytes = files.filter { $0.hasPrefix("data_batch") || $0 == "train.bin" }
                    .compactMap { (try? FileManager.default.attributesOfItem(atPath: "\(dir)/\($0)"))?[.size] as? Int }.reduce(0, +)
                realImages = max(realImages, Double(bytes) / Double(plan.dataset == "cifar100" ? 3074 : 3073))
            }
        }
        rows.append(ScaleComparisonRow(item: "CIFAR training data", paper: "50,000 real images",
                                       thisRun: synthetic ? "synthetic images" : String(format: "%.0f real images", realImages),
                                       ratio: synthetic ? 0 : realImages / 50_000))
        rows.append(ScaleComparisonRow(item: "epochs", paper: "200", thisRun: epochs.map(String.init).joined(separator: ", "),
                                       ratio: epochs.max().map { Double($0) / 200 }))
        rows.append(ScaleComparisonRow(item: "models", paper: "5 (ResNet18, VGG16, ResNet34, DenseNet121, GoogLeNet)",
                                       thisRun: "\(models.count) (\(models.sorted().joined(separator: ", ")))", ratio: Double(models.count) / 5))
        rows.append(ScaleComparisonRow(item: "optimizers", paper: "11", thisRun: "\(optimizers.count) (\(optimizers.sorted().joined(separator: ", ")))",
                                       ratio: Double(optimizers.count) / 11))
        rows.append(ScaleComparisonRow(item: "lr grid per optimizer", paper: "not published (one lr per adaptive method)",
                                       thisRun: grid > 1 ? "\(grid) values, chosen on a selection seed" : "1 value", ratio: nil))
        rows.append(ScaleComparisonRow(item: "seeds per setting", paper: "3", thisRun: seeds.map(String.init).joined(separator: ", "),
                                       ratio: seeds.max().map { Double($0) / 3 }))
        rows.append(ScaleComparisonRow(item: "schedule", paper: "lr ÷10 at epochs 80 and 160 (CIFAR-10)",
                                       thisRun: schedules.sorted().joined(separator: "; "), ratio: nil))
        rows.append(ScaleComparisonRow(item: "escape repeats × k values (k range)", paper: "100 × not legible",
                                       thisRun: "\(scale.escape.repeats) × \(scale.escape.ks.count) (\(formatNumber(scale.escape.ks.min()!))–\(formatNumber(scale.escape.ks.max()!)))",
                                       ratio: Double(scale.escape.repeats) / 100))
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
        md += "\nDecision rules changed after seeing results: " + (r.ruleChangesAfterResults.isEmpty ? "none.\n" : "\n\n" + r.ruleChangesAfterResults.map { "- \($0)\n" }.joined())
        md += "\n## Verdicts\n\n| claim | verdict | reason |\n| --- | --- | --- |\n"
        for c in r.claims { md += "| \(c.claim). \(claimTitles[c.claim] ?? "") | **\(c.verdict.rawValue)** | \(c.reason.rawValue) |\n" }
        for c in r.claims {
            md += "\n## Claim \(c.claim): \(claimTitles[c.claim] ?? "")\n\n"
            if let runs = r.runsPerClaim[String(c.claim)] { md += "- What was run: \(runs).\n" }
            md += "- Test and rule: \(claimDesigns[c.claim] ?? "") (docs/claims.md).\n"
            md += "- Verdict: **\(c.verdict.rawValue)** (\(c.reason.rawValue)), at the \(r.scale) scale.\n"
            md += "- What the paper scale would add: \(paperScaleGains[c.claim] ?? "").\n\n"
            md += c.notes.map { "  - \($0)\n" }.joined()
            if let figure = r.figures[String(c.claim)] { md += "\n![Claim \(c.claim)](\(figure))\n" }
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

import Analyses
import Engine
import Experiments
import Datasets
import Foundation
import RunFormat

/// `reproduce --plan`: the runs and estimated CPU-hours per claim; `--backend slurm --dry-run`: the job arrays.
extension ReproductionRunner {
    struct StageCost { var label: String; var runs: Int; var left: Int; var cpuHours: Double; var cpuHoursLeft: Double }

    func trainingCost(_ plan: TrainingPlan, calibrationSteps: Int) throws -> [StageCost] {
        let (_, comparison) = try writeConfig(plan, selection: false)
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("adai-reproduce-calibration-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let calibration = try comparison.calibrate(steps: calibrationSteps, scratch: scratch)
        var stages: [(String, SweepGrid)] = []
        if plan.needsSelection {
            stages.append(("lr selection on seed \(plan.selectionSeed ?? 0), planned grids (each edge extension adds one run of its optimizer, at most \(Tuning.maxExtensions))",
                           try writeConfig(plan, selection: true).grid))
        }
        let seeds = plan.seeds.map(String.init).joined(separator: ",")
        stages.append((plan.basin.map { "every cell of \($0.lrPoints) lrs × \($0.weightDecayPoints) weight decays per optimizer on seeds \(seeds)" }
                        ?? "comparison on seeds \(seeds)", comparison))
        return stages.map { label, grid in
            let states = grid.states(results: runsDirectory)
            let e = grid.estimate(calibration, states: states, maxSteps: plan.maxSteps)
            let hours = e.secondsTotal / 3600 * Double(calibration.threads), left = e.secondsLeft / 3600 * Double(calibration.threads)
            return StageCost(label: "\(plan.name): \(label) (\(grid.config.model.name), \(grid.config.training.epochs) epochs, "
                             + String(format: "%.0f s per epoch on %d thread%@", e.secondsPerEpoch, calibration.threads, calibration.threads == 1 ? "" : "s") + ")",
                             runs: grid.runs.count, left: states.filter { !$0.isDone }.count, cpuHours: hours, cpuHoursLeft: left)
        }
    }

    /// A plan on real data that is not there yet: the run would stop before its first step, and the estimate
    /// assumes the full data set (50,000 CIFAR training images), so the plan says both.
    func missingDataWarning(_ plan: TrainingPlan) throws -> String? {
        guard plan.synthetic == nil else { return nil }
        do { try checkData(plan) } catch { return "warning: \(error); until then the estimate assumes the full data set" }
        guard !plan.dataset.isText, try writeConfig(plan, selection: false).grid.cifarRecordsPresent() == nil else { return nil }
        return "warning: the \(scale.name) scale trains \(plan.name) on \(plan.dataset), but \(dataDirectory(plan.dataset)) holds none of its "
            + "files; until then the estimate assumes the full data set (scripts/download-data.sh \(plan.dataset) fetches it)"
    }

    /// Seconds per optimizer step of the escape and saddle experiments, timed on a short probe.
    func analysisStepSeconds() throws -> (escape: Double, saddle: Double) {
        // The landscape's setup is timed apart (a run of one step) and subtracted.
        var e = EscapeExperiment()
        e.dimension = scale.escape.dimension; e.samples = min(scale.escape.samples, 5000); e.repeats = 1; e.maxSteps = 1
        e.ks = [1]; e.threads = 1
        e.optimizers = [try OptimizerChoice(parsing: scale.escape.optimizers[0])]
        var start = Date()
        _ = try e.run()
        let setup = Date().timeIntervalSince(start)
        e.repeats = 8; e.maxSteps = 5000
        start = Date()
        let result = try e.run()
        let escapeSteps = max(1, result.outcomes.map(\.time).reduce(0, +))
        let escape = max(0, Date().timeIntervalSince(start) - setup) / Double(escapeSteps)
        var s = SaddleExperiment()
        s.curvatures = scale.saddle.sharpCurvatures + [scale.saddle.escapeCurvatures[0]]; s.steps = 500; s.every = 50; s.repeats = 1; s.threads = 1
        s.optimizers = [try OptimizerChoice(parsing: scale.saddle.reference)]
        start = Date()
        _ = try s.runRepeat(s.optimizers[0], repeatIndex: 0)
        return (escape, Date().timeIntervalSince(start) / 500)
    }

    /// Optimizer steps the escape experiment is expected to take: the calibration tries at the target, then every
    /// repeat at each k with the mean escape τ(k) = target · k^(−S), S the planned S_SGD (capped).
    func escapeSteps() -> Double {
        let p = scale.escape
        let s = EscapeSensitivity.plannedReferenceSensitivity(targetSteps: p.targetSteps)
        let perRepeat = p.ks.map { min(Double(p.maxSteps), p.targetSteps * pow($0, -s)) }.reduce(0, +)
        let calibration = Double(p.calibrationTries * p.calibrationRepeats) * p.targetSteps
        return Double(p.optimizers.count) * (Double(p.repeats) * perRepeat + calibration)
    }

    /// Optimizer steps of the saddle: the lr search (at most 24 tries), then 3 warm optimizers and 1 cold per curvature.
    func saddleSteps() -> Double {
        let p = scale.saddle
        let search = Double(25 * p.searchRepeats * (p.searchSteps + p.warmSteps))
        return search + Double(p.escapeCurvatures.count * p.repeats) * Double(3 * (p.steps + p.warmSteps) + p.steps)
    }

    /// The plan as text: per claim what it runs and its design checks, then the CPU-hours (a run shared by claims
    /// counts under each, once in the total).
    public func planText(calibrationSteps: Int) throws -> String {
        var lines = ["reproduce --scale \(scale.name): \(scale.summary)", "results in \(out)", ""]
        var costs: [String: [StageCost]] = [:]
        var total = 0.0, totalLeft = 0.0, totalRuns = 0
        var warnings: [String] = []
        for plan in trainingPlans {
            if let w = try missingDataWarning(plan) { warnings.append(w) }
            let c = try trainingCost(plan, calibrationSteps: calibrationSteps)
            costs[plan.name] = c
            total += c.map(\.cpuHours).reduce(0, +); totalLeft += c.map(\.cpuHoursLeft).reduce(0, +); totalRuns += c.map(\.runs).reduce(0, +)
        }
        let analyses = needs.contains(.escape) || needs.contains(.saddle)
        let seconds: (escape: Double, saddle: Double) = analyses ? try analysisStepSeconds() : (0, 0)
        let escapeHours = escapeSteps() * seconds.escape / 3600, saddleHours = saddleSteps() * seconds.saddle / 3600
        for claim in selectedClaims {
            lines.append("claim \(claim.id): \(claim.title)")
            let sharing = { (need: ClaimNeed) in
                self.selectedClaims.filter { $0.id != claim.id && $0.needs.contains(need) }.map(\.id)
            }
            for need in claim.needs {
                let others = sharing(need)
                let shared = others.isEmpty ? "" : " (shared with claim\(others.count > 1 ? "s" : "") \(others.joined(separator: ",")))"
                switch need {
                case .saddle:
                    let p = scale.saddle
                    lines.append(String(format: "  saddle: lr search, then %d curvatures × 4 optimizers × %d repeats × %d steps ≈ %.3g CPU-hours",
                                        p.escapeCurvatures.count, p.repeats, p.steps, saddleHours) + shared)
                case .escape:
                    let p = scale.escape
                    lines.append(String(format: "  escape: lr calibration, then %d optimizers × k ∈ {%@} × %d repeats, cap %d steps ≈ %.3g CPU-hours (expected escape times)",
                                        p.optimizers.count, p.ks.map { String(format: "%.3g", $0) }.joined(separator: ", "), p.repeats, p.maxSteps, escapeHours) + shared)
                case .training:
                    // Claims whose rule states what it needs of the scale (11, 12) say it below, with the numbers.
                    if !trainingPlans.contains(where: { $0.claims.contains(claim.id) }) && claim.scaleChecks(self).isEmpty {
                        lines.append("  no training runs for it at the \(scale.name) scale: the claim will read \"scale too small\"")
                    }
                    for plan in trainingPlans where plan.claims.contains(claim.id) {
                        for c in costs[plan.name] ?? [] {
                            lines.append(String(format: "  %@: %d runs (%d left), %.2f CPU-hours (%.2f left)", c.label, c.runs, c.left, c.cpuHours, c.cpuHoursLeft)
                                         + (plan.claims.count > 1 ? " — shared with claims \(plan.claims.filter { $0 != claim.id }.joined(separator: ","))" : ""))
                        }
                        let names = Array(Set(try writeConfig(plan, selection: false).grid.runs.map(\.optimizer.name))).sorted()
                        lines.append("  \(plan.name): " + (regimeCheck(plan, optimizers: names)?.line ?? "regime check: steps per run unknown (no data to count them from)"))
                        if let trials = plan.optimizers.first(where: { $0.lrGrid != nil })?.lrGrid?.count {
                            lines.append("  \(plan.name): tuning budget per optimizer: \(trials) lr trials on seed \(plan.selectionSeed ?? 0), up to \(trials + Tuning.maxExtensions) with extensions, chosen on "
                                         + (plan.dataset.isText ? "the PTB validation text" : "\(plan.validation ?? 0) held-out training images") + "; compared on \(plan.seeds.count) fresh seeds")
                        }
                    }
                case .hessian:
                    let h = scale.hessian
                    let seeds = scale.training.first { $0.name == h.experiment }?.seeds.count ?? 0
                    lines.append("  hessian: \(h.optimizers.count) optimizers × \(seeds) seeds, top eigenvalue by \(h.iterations) Lanczos iterations on \(h.batches) × \(h.batchSize) examples (≈ \(4 * h.iterations * h.batches) forward-backward passes each; small beside the training)")
                case .noise:
                    lines.append("  noise: \(scale.noise.description) (seconds to minutes on one core)" + shared)
                }
            }
            let requirements = claim.scaleChecks(self)
            if !requirements.isEmpty {
                lines.append("  what the rule needs of the scale, counted from the plan" + (requirements.allSatisfy(\.passes) ? ":" : " — the claim will read \"scale too small\" and is not run:"))
                lines += requirements.map { "    " + $0.line }
            }
            let checks = claim.design(scale)
            if !checks.isEmpty {
                lines.append("  design, checked before running" + (checks.contains(where: \.separable) ? ":" : " — REFUSED, the claim will not run:"))
                lines += checks.map { "    " + $0.line }
            }
        }
        if needs.contains(.saddle) { total += saddleHours; totalLeft += saddleHours }
        if needs.contains(.escape) { total += escapeHours; totalLeft += escapeHours }
        lines.append("")
        lines += warnings
        lines.append(String(format: "total: %d training runs, %.2f CPU-hours (%.2f left, analyses counted in full), estimated from timed steps on this machine",
                            totalRuns, total, totalLeft))
        return lines.joined(separator: "\n") + "\n"
    }

    /// The sbatch scripts the Slurm backend would submit now: one job array per training stage that can start.
    public func slurmArrays(settings: SlurmSettings?) throws -> [(plan: String, sweep: SlurmSweep, indices: [Int], note: String)] {
        var out: [(String, SlurmSweep, [Int], String)] = []
        for plan in trainingPlans {
            // The selection stage goes first until all its runs are done; then the comparison at the chosen lrs.
            try Tuning.checkDesign(plan)
            var selection = false, chosen: [String: Double] = [:], grids: [String: [Double]] = [:]
            if plan.needsSelection {
                let state = try tuningState(plan)
                selection = !state.finished
                grids = state.grids
                for s in state.searches { if let best = s.best { chosen[s.optimizer] = best } }
            }
            let (path, grid) = try writeConfig(plan, selection: selection, chosen: chosen, grids: grids)
            let states = grid.states(results: runsDirectory)
            let indices = states.indices.filter { !states[$0].isDone && !states[$0].isRunning }
            var slurm = SlurmSweep(grid: grid, settings: settings ?? grid.slurm, executable: executable, configPath: path,
                                   results: runsDirectory, workingDirectory: FileManager.default.currentDirectoryPath)
            slurm.workerArguments = plan.maxSteps.map { ["--max-steps", String($0)] } ?? []
            let note = selection ? "the lr selection stage (its grids extended outward from an edge, at most \(Tuning.maxExtensions) times, by running reproduce again); the comparison on seeds \(plan.seeds.map(String.init).joined(separator: ",")) is submitted by running reproduce again once it has finished"
                : "the comparison stage"
            out.append((plan.name, slurm, indices, note))
        }
        return out
    }
}

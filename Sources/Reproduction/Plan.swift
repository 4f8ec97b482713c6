import Analyses
import Engine
import Experiments
import Foundation

/// `reproduce --plan`: the runs and estimated CPU-hours per claim; `--backend slurm --dry-run`: the job arrays.
extension ReproductionRunner {
    struct StageCost { var label: String; var runs: Int; var left: Int; var cpuHours: Double; var cpuHoursLeft: Double }

    func trainingCost(_ plan: TrainingPlan, calibrationSteps: Int) throws -> [StageCost] {
        let (_, comparison) = try writeConfig(plan, selection: false)
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("adai-reproduce-calibration-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let calibration = try comparison.calibrate(steps: calibrationSteps, scratch: scratch)
        var stages: [(String, SweepGrid)] = []
        if plan.needsSelection { stages.append(("lr selection on seed \(plan.selectionSeed ?? 0)", try writeConfig(plan, selection: true).grid)) }
        stages.append(("comparison on seeds \(plan.seeds.map(String.init).joined(separator: ","))", comparison))
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
        guard plan.dataset != "ptb", try writeConfig(plan, selection: false).grid.cifarRecordsPresent() == nil else { return nil }
        return "warning: the \(scale.name) scale trains \(plan.name) on \(plan.dataset), but \(dataDirectory(plan.dataset)) holds none of its "
            + "files; until then the estimate assumes the full data set (scripts/download-data.sh \(plan.dataset) fetches it)"
    }

    /// Seconds per optimizer step of the escape and saddle experiments, timed on a short probe.
    func analysisStepSeconds() throws -> (escape: Double, saddle: Double) {
        var e = EscapeExperiment()
        e.dimension = scale.escape.dimension; e.samples = min(scale.escape.samples, 5000); e.repeats = 1; e.maxSteps = 2000
        e.ks = [scale.escape.ks.min()!]; e.threads = 1
        e.optimizers = [try OptimizerChoice(parsing: scale.escape.optimizers[0])]
        var start = Date()
        let result = try e.run()
        let escapeSteps = max(1, result.outcomes.map(\.time).reduce(0, +))
        let escape = Date().timeIntervalSince(start) / Double(escapeSteps)
        var s = SaddleExperiment()
        s.curvatures = scale.saddle.curvatures; s.steps = 500; s.every = 50; s.repeats = 1; s.threads = 1
        s.optimizers = [try OptimizerChoice(parsing: scale.saddle.optimizers[0])]
        start = Date()
        _ = try s.runRepeat(s.optimizers[0], repeatIndex: 0)
        return (escape, Date().timeIntervalSince(start) / 500)
    }

    /// The plan as text: per claim the runs and CPU-hours (a run shared by claims counts under each, once in the total).
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
        let steps: (escape: Double, saddle: Double) = (wantsEscape || wantsSaddle) ? try analysisStepSeconds() : (0, 0)
        let escapeHours = Double(scale.escape.optimizers.count * scale.escape.ks.count * scale.escape.repeats * scale.escape.maxSteps) * steps.escape / 3600
        let saddleHours = Double(scale.saddle.optimizers.count * scale.saddle.repeats * scale.saddle.steps) * steps.saddle / 3600
        for claim in claims.sorted() {
            lines.append("claim \(claim): \(claimTitles[claim] ?? "")")
            switch claim {
            case 1, 2:
                lines.append(String(format: "  saddle: %d optimizers × %d repeats × %d steps ≈ %.3g CPU-hours (shared by claims 1 and 2)",
                                    scale.saddle.optimizers.count, scale.saddle.repeats, scale.saddle.steps, saddleHours))
            case 3, 4:
                lines.append(String(format: "  escape: %d optimizers × %d k (%@–%@) × %d repeats, cap %d steps: at most %.3g CPU-hours (every repeat to the cap; shared by claims 3 and 4)",
                                    scale.escape.optimizers.count, scale.escape.ks.count, formatNumber(scale.escape.ks.min()!), formatNumber(scale.escape.ks.max()!),
                                    scale.escape.repeats, scale.escape.maxSteps, escapeHours))
            default:
                for plan in trainingPlans where plan.claims.contains(claim) {
                    for c in costs[plan.name] ?? [] {
                        lines.append(String(format: "  %@: %d runs (%d left), %.2f CPU-hours (%.2f left)", c.label, c.runs, c.left, c.cpuHours, c.cpuHoursLeft)
                                     + (plan.claims.count > 1 ? " — shared with claims \(plan.claims.filter { $0 != claim }.map(String.init).joined(separator: ","))" : ""))
                    }
                }
                if claim == 7 {
                    let h = scale.hessian
                    let seeds = scale.training.first { $0.name == h.experiment }?.seeds.count ?? 0
                    lines.append("  hessian: \(h.optimizers.count) optimizers × \(seeds) seeds, top eigenvalue by \(h.iterations) Lanczos iterations on \(h.batches) × \(h.batchSize) examples (≈ \(4 * h.iterations * h.batches) forward-backward passes each; small beside the training)")
                }
            }
        }
        if wantsSaddle { total += saddleHours; totalLeft += saddleHours }
        if wantsEscape { total += escapeHours; totalLeft += escapeHours }
        lines.append("")
        lines += warnings
        lines.append(String(format: "total: %d training runs, %.1f CPU-hours (%.1f left, analyses counted in full), estimated from timed training steps on this machine",
                            totalRuns, total, totalLeft))
        return lines.joined(separator: "\n") + "\n"
    }

    /// The sbatch scripts the Slurm backend would submit now: one job array per training stage that can start.
    public func slurmArrays(settings: SlurmSettings?) throws -> [(plan: String, sweep: SlurmSweep, indices: [Int], note: String)] {
        var out: [(String, SlurmSweep, [Int], String)] = []
        for plan in trainingPlans {
            // The selection stage goes first until all its runs are done; then the comparison at the chosen lrs.
            var selection = false
            if plan.needsSelection {
                let selectionGrid = try writeConfig(plan, selection: true).grid
                selection = !selectionGrid.states(results: runsDirectory).allSatisfy(\.isDone)
            }
            let chosen = plan.needsSelection && !selection ? try select(plan).chosen : [:]
            let (path, grid) = try writeConfig(plan, selection: selection, chosen: chosen)
            let states = grid.states(results: runsDirectory)
            let indices = states.indices.filter { !states[$0].isDone && !states[$0].isRunning }
            var slurm = SlurmSweep(grid: grid, settings: settings ?? grid.slurm, executable: executable, configPath: path,
                                   results: runsDirectory, workingDirectory: FileManager.default.currentDirectoryPath)
            slurm.workerArguments = plan.maxSteps.map { ["--max-steps", String($0)] } ?? []
            let note = selection ? "the lr selection stage; the comparison on seeds \(plan.seeds.map(String.init).joined(separator: ",")) is submitted by running reproduce again once it has finished"
                : "the comparison stage"
            out.append((plan.name, slurm, indices, note))
        }
        return out
    }
}

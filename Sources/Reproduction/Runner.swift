import Analyses
import Datasets
import Engine
import Experiments
import Foundation
import Optim
import Reports
import RunFormat

/// A problem that stops `reproduce`, with what to do.
public struct ReproductionError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The per-seed numbers of one training plan after its runs, as the verdicts read them.
public struct TrainingEvidence: Codable, Equatable {
    public var experiment: String
    /// The lr each optimizer was run with, and where it came from.
    public var chosen: [String: Double]
    public var selectionNotes: [String]
    /// optimizer → seed → value (final test metric, best test metric over epochs, mean log train loss, final test loss).
    public var finalMetric: [String: [Int: Double]] = [:]
    public var bestMetric: [String: [Int: Double]] = [:]
    public var meanLogTrainLoss: [String: [Int: Double]] = [:]
    /// Claim 12: the mean of log training loss over the last `ClaimRules.longRunTail` of the epochs run.
    public var tailLogTrainLoss: [String: [Int: Double]] = [:]
    public var finalTestLoss: [String: [Int: Double]] = [:]
    public var epochs: [String: Int] = [:]
    /// Fair tuning: the optimizers whose best lr stayed at an edge of its grid, and the lr trials per optimizer.
    public var unconvergedTuning: [String] = []
    public var trials: [String: Int] = [:]
    /// optimizer → the lr of its last epoch (after the schedule), from the comparison runs' metrics.
    public var finalLR: [String: Double] = [:]
    /// optimizer → seed → run directory (for the Hessian and the figures; relative to the report's directory in report.json).
    public var runDirectories: [String: [Int: String]] = [:]
    public var failedRuns: [String] = []
    public var metric: String = ""
    public var model: String = ""
    public var dataset: DatasetKind = .cifar10
}

extension TrainingEvidence {
    /// The completed comparison runs, for the figures: the lr-selection runs that share the experiment's directory
    /// (other learning rates, and the selection seed) stay out, as they stay out of the verdicts.
    public func comparisonRuns() throws -> [Run] {
        try runDirectories.values.flatMap(\.values).sorted().map { try RunLoader.loadRun(runJSON: "\($0)/\(RunDirectory.runJSONName)") }
    }
}

/// Builds the configs of a scale, runs them through the sweep machinery and the analyses, and collects the evidence.
public struct ReproductionRunner {
    public var scale: ReproductionScale
    public var out: String
    /// Where `cifar-10-batches-bin`, `cifar-100-binary` and `ptb` are.
    public var dataRoot: String
    /// The data directory as the user wrote it (the report shows this, not the absolute path).
    public var dataLabel: String?
    /// Where `configs/` is (the repository root).
    public var repositoryRoot: String
    public var executable: String
    public var threads: Int
    /// The selected claims' identifiers (docs/claims.md).
    public var claims: Set<String>
    public var log: (String) -> Void = { print($0); fflush(stdout) }

    public init(scale: ReproductionScale, out: String, dataRoot: String, repositoryRoot: String, executable: String, threads: Int, claims: Set<String>) {
        self.scale = scale; self.out = out; self.dataRoot = dataRoot; self.repositoryRoot = repositoryRoot
        self.executable = executable; self.threads = threads; self.claims = claims
    }

    public var runsDirectory: String { "\(out)/runs" }
    public var configsDirectory: String { "\(out)/configs" }
    public var analysesDirectory: String { "\(out)/analyses" }

    /// The selected claims, in the order of `Claims.all`.
    public var selectedClaims: [Claim] { Claims.all.filter { claims.contains($0.id) } }
    /// What the selected claims need run.
    public var needs: Set<ClaimNeed> { Set(selectedClaims.flatMap(\.needs)) }
    /// The scale's reductions that concern what the selected claims run (the Hessian runs on the training runs).
    public var reductions: [String] {
        scale.reductions.filter { needs.contains($0.need) || ($0.need == .training && needs.contains(.hessian)) }.map(\.text)
    }
    public var trainingPlans: [TrainingPlan] { scale.training.filter { !claims.isDisjoint(with: $0.claims) } }

    /// Training images of a CIFAR plan: the synthetic count, else the records in the data files at hand.
    func trainImages(_ plan: TrainingPlan) -> Int? {
        if let synthetic = plan.synthetic { return synthetic[0] }
        guard let variant = plan.dataset.cifarVariant else { return nil }
        let dir = dataDirectory(plan.dataset)
        let files = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        let bytes = files.filter { $0.hasPrefix("data_batch") || $0 == "train.bin" }
            .compactMap { (try? FileManager.default.attributesOfItem(atPath: "\(dir)/\($0)"))?[.size] as? Int }.reduce(0, +)
        return bytes > 0 ? bytes / variant.recordSize : nil
    }

    // MARK: configs

    func dataDirectory(_ dataset: DatasetKind) -> String { dataset.directory(under: dataRoot) }

    /// The config of a plan's stage: `selection` tries each lr grid on the selection seed; `comparison`
    /// trains each optimizer at `chosen` (else its planned lr) on the fresh seeds. A plan with a `base` starts
    /// from that paper config; one without is built from the plan alone, with the config reader's defaults.
    public func config(_ plan: TrainingPlan, selection: Bool, chosen: [String: Double] = [:], grids: [String: [Double]] = [:]) throws -> ExperimentConfig {
        var config: ExperimentConfig
        if let base = plan.base {
            let path = "\(repositoryRoot)/configs/\(base).json"
            guard FileManager.default.isReadableFile(atPath: path) else {
                throw ReproductionError("\(path): cannot read the paper's config that the \(scale.name) scale starts from; run reproduce from the repository root or pass --repository")
            }
            config = try ExperimentConfig.load(path: path)
        } else {
            let lm = plan.dataset.isText
            config = ExperimentConfig(
                name: plan.name, notes: nil, dataset: DatasetSpec(kind: plan.dataset), model: ModelSpec(name: plan.model ?? ""),
                training: try TrainingSpec(epochs: plan.epochs ?? 1, batchSize: TrainingSpec.defaultBatchSize(languageModel: lm),
                                           evalBatchSize: TrainingSpec.defaultEvalBatchSize(languageModel: lm),
                                           clipNorm: lm ? TrainingSpec.defaultClipNorm(languageModel: true) : nil),
                optimizers: [], sweep: nil)
        }
        config.name = plan.name
        config.notes = "Written by `adai-bench reproduce --scale \(scale.name)` (\(selection ? "lr selection on seed \(plan.selectionSeed ?? 0)" : "comparison on fresh seeds")); the scale is defined in Sources/Reproduction/Scales.swift."
        config.dataset.kind = plan.dataset
        if let synthetic = plan.synthetic {
            config.dataset.synthetic = .init(train: synthetic[0], test: synthetic[1], seed: 0)
        } else {
            config.dataset.dir = dataDirectory(plan.dataset)
        }
        if plan.allowPartialData == true { config.dataset.allowPartial = true }
        if let validation = plan.validation, !plan.dataset.isText { config.dataset.validation = validation }
        if let name = plan.model { config.model.name = name }
        if let epochs = plan.epochs { config.training.epochs = epochs }
        if let batch = plan.batchSize { config.training.batchSize = batch }
        if let milestones = plan.milestones {
            try config.training.setSchedule("multistep", ["milestones": .list(milestones.map(Double.init)), "gamma": .number(plan.gamma ?? 0.1)])
        }
        config.training.seeds = selection ? [plan.selectionSeed ?? 1] : plan.seeds
        if !plan.optimizers.isEmpty {
            let entries = selection ? plan.optimizers.filter { $0.lrGrid != nil } : plan.optimizers
            config.optimizers = entries.map { o in
                OptimizerSpec(name: o.name, options: ["lr": .number(chosen[o.name] ?? o.lr), "weightDecay": .number(o.weightDecay)])
            }
            var sweep = SweepSpec(seeds: selection ? [plan.selectionSeed ?? 1] : plan.seeds)
            if selection {
                sweep.lists["lr"] = .byName(Dictionary(uniqueKeysWithValues: entries.map { ($0.name, grids[$0.name] ?? $0.lrGrid!) }))
            } else if let basin = plan.basin {
                // Claim 11: every cell of every optimizer's lr × weight-decay grid on every seed.
                sweep.lists["lr"] = .byName(Dictionary(uniqueKeysWithValues: entries.map { ($0.name, basin.lrs(around: $0.lr)) }))
                sweep.lists["weightDecay"] = .values(basin.weightDecays)
            }
            config.sweep = sweep
        } else {
            config.sweep = SweepSpec(seeds: plan.seeds)
        }
        if let keep = plan.baseOptimizers {
            let entries = config.optimizers
            config.optimizers = try keep.map { k in
                let matches = entries.filter { e in e.name == k.name && k.lr.map { lr in abs(e.lr - lr) <= 1e-12 * lr } ?? true }
                guard matches.count == 1 else {
                    throw ReproductionError("plan \(plan.name): configs/\(plan.base ?? "?").json has \(matches.count) optimizer entries named \(k.name)"
                                            + (k.lr.map { " at lr \($0)" } ?? "") + "; the plan must name exactly one")
                }
                return matches[0]
            }
        }
        return config
    }

    /// Writes a stage's config under `configs/` and returns its path and grid.
    public func writeConfig(_ plan: TrainingPlan, selection: Bool, chosen: [String: Double] = [:], grids: [String: [Double]] = [:]) throws -> (path: String, grid: SweepGrid) {
        try FileManager.default.createDirectory(atPath: configsDirectory, withIntermediateDirectories: true)
        let path = "\(configsDirectory)/\(plan.name)-\(selection ? "selection" : "comparison").json"
        try AtomicFile.write(try config(plan, selection: selection, chosen: chosen, grids: grids).fileText(), to: path)
        let grid = try ExperimentConfig.load(path: path).sweepGrid()
        return (path, grid)
    }

    func workerArguments(_ plan: TrainingPlan, configPath: String) -> [String] {
        ["sweep", "--config", configPath, "--results", runsDirectory] + (plan.maxSteps.map { ["--max-steps", String($0)] } ?? [])
    }

    // MARK: training

    func sweep(_ plan: TrainingPlan, path: String, grid: SweepGrid) throws {
        let workers = max(1, min(threads, grid.runs.count))
        var local = LocalSweep(grid: grid, results: runsDirectory, workers: workers, threadsPerWorker: max(1, threads / workers),
                               executable: executable, workerArguments: workerArguments(plan, configPath: path))
        local.log = log
        _ = try local.run()
    }

    /// Fails, naming --data, when a plan on real data finds no directory for its data set.
    public func checkData(_ plan: TrainingPlan) throws {
        guard plan.synthetic == nil else { return }
        let dir = dataDirectory(plan.dataset)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ReproductionError("the \(scale.name) scale trains \(plan.name) on \(plan.dataset), but \(dir) does not exist; pass --data DIR with the directory that holds cifar-10-batches-bin, cifar-100-binary and ptb (scripts/download-data.sh fetches them)")
        }
    }

    /// Runs (or resumes) a plan's stages and reads its evidence.
    public func runTraining(_ plan: TrainingPlan) throws -> TrainingEvidence {
        try checkData(plan)
        try Tuning.checkDesign(plan)
        var chosen: [String: Double] = [:], notes: [String] = [], searches: [Tuning.Search] = []
        if plan.needsSelection {
            // One sweep per round: the planned grids, then at most maxExtensions extensions.
            for round in 0...(Tuning.maxExtensions + 1) {
                let state = try tuningState(plan)
                if state.finished { searches = state.searches; break }
                if round == Tuning.maxExtensions + 1 {
                    throw ReproductionError("\(plan.name): the lr selection runs did not all end (interrupted?); run reproduce again to resume them")
                }
                let (path, grid) = try writeConfig(plan, selection: true, grids: state.grids)
                log("reproduce: \(plan.name): lr selection round \(round + 1), \(grid.runs.count) runs on seed \(plan.selectionSeed ?? 0) (a best lr at an edge extends its grid ×\(formatNumber(Tuning.factor)) outward, at most \(Tuning.maxExtensions) times)")
                try sweep(plan, path: path, grid: grid)
            }
            for s in searches { if let best = s.best { chosen[s.optimizer] = best } }
            notes = tuningNotes(plan, searches)
        }
        let (path, grid) = try writeConfig(plan, selection: false, chosen: chosen)
        log("reproduce: \(plan.name): comparison, \(grid.runs.count) runs on seeds \(plan.seeds.map(String.init).joined(separator: ","))")
        try sweep(plan, path: path, grid: grid)
        var evidence = try readEvidence(plan, grid: grid)
        evidence.selectionNotes = notes
        evidence.unconvergedTuning = searches.filter { !$0.converged }.map(\.optimizer)
        for s in searches { evidence.trials[s.optimizer] = s.trials }
        for spec in grid.runs { evidence.chosen[spec.optimizer.name] = spec.optimizer.lr }
        return evidence
    }

    /// Reads the comparison runs of a plan (only the grid's own runs: the selection seed never enters).
    public func readEvidence(_ plan: TrainingPlan, grid: SweepGrid) throws -> TrainingEvidence {
        var e = TrainingEvidence(experiment: plan.name, chosen: [:], selectionNotes: [])
        e.dataset = grid.config.dataset.kind
        e.model = grid.config.model.name
        for spec in grid.runs {
            let directory = spec.directory(results: runsDirectory)
            guard let run = try? RunLoader.loadRun(runJSON: "\(directory)/\(RunDirectory.runJSONName)") else {
                e.failedRuns.append("\(spec.id): no run.json"); continue
            }
            e.metric = run.record.metric
            let name = spec.optimizer.name, seed = spec.seed
            // The rule's minimum is about the scale's design (planned epochs); a run that stopped early is a failed run.
            e.epochs[name] = min(e.epochs[name] ?? Int.max, run.record.epochsPlanned)
            guard run.record.status == .completed, let (final, best) = try run.finalAndBest() else {
                e.failedRuns.append("\(spec.id): \(run.record.status.rawValue)\(run.record.error.map { " (\($0))" } ?? "")"); continue
            }
            // A basin plan (claim 11) trains many cells per optimizer and seed: `basins(_:)` (Claim11Basin.swift) reads them per cell.
            guard plan.basin == nil else { continue }
            e.finalMetric[name, default: [:]][seed] = final
            e.bestMetric[name, default: [:]][seed] = best
            let losses = try run.series("train_loss").map(\.value)
            if !losses.isEmpty { e.meanLogTrainLoss[name, default: [:]][seed] = losses.map { Foundation.log(max($0, 1e-12)) }.reduce(0, +) / Double(losses.count) }
            let tail = losses.suffix(max(1, Int((ClaimRules.longRunTail * Double(losses.count)).rounded(.up))))
            if !tail.isEmpty { e.tailLogTrainLoss[name, default: [:]][seed] = tail.map { Foundation.log(max($0, 1e-12)) }.reduce(0, +) / Double(tail.count) }
            if let testLoss = try? run.series("test_loss").last?.value { e.finalTestLoss[name, default: [:]][seed] = testLoss }
            e.runDirectories[name, default: [:]][seed] = directory
            if let lr = try? run.series("lr").last?.value { e.finalLR[name] = lr }
        }
        return e
    }

    // MARK: analyses

    /// Top Hessian eigenvalue (log) per optimizer and seed, by `adai-bench hessian` on each final checkpoint.
    public func runHessian(_ evidence: TrainingEvidence) throws -> [String: [Int: Double]] {
        let p = scale.hessian
        var out: [String: [Int: Double]] = [:]
        try FileManager.default.createDirectory(atPath: analysesDirectory, withIntermediateDirectories: true)
        for name in p.optimizers {
            for (seed, directory) in (evidence.runDirectories[name] ?? [:]).sorted(by: { $0.key < $1.key }) {
                let file = "\(analysesDirectory)/hessian-\(name)-seed\(seed).csv"
                if !FileManager.default.fileExists(atPath: file) {
                    let pid = try ChildProcess.spawn(executable, ["hessian", "--run", directory, "--batches", String(p.batches),
                                                                  "--batch-size", String(p.batchSize), "--top", "1",
                                                                  "--iterations", String(p.iterations), "--out", file])
                    let ending = ChildProcess.wait(pid)
                    guard ending == .exited(0) else { log("reproduce: hessian of \(directory) ended with \(ending)"); continue }
                }
                if let top = try? Plots.readHessian(file).eigenvalues.first, top > 0 { out[name, default: [:]][seed] = Foundation.log(top) }
            }
        }
        return out
    }

    /// Σ‖W‖² of the convolution kernels (each feeding a batch-norm layer) of each final checkpoint, per optimizer
    /// and seed: the weight norm that claim 7's weight-norm-free sharpness multiplies λ_max by (BatchNormScale).
    /// Read in this process from the checkpoint; a run whose model cannot be read is logged and left out.
    public func runKernelNorms(_ evidence: TrainingEvidence) -> [String: [Int: Double]] {
        var out: [String: [Int: Double]] = [:]
        for name in scale.hessian.optimizers {
            for (seed, directory) in (evidence.runDirectories[name] ?? [:]).sorted(by: { $0.key < $1.key }) {
                do {
                    let source = try ModelSource.run(directory: directory)
                    out[name, default: [:]][seed] = try BatchNormScale.kernelNormSquared(source.model.module, description: source.description).value
                } catch {
                    log("reproduce: the kernel norm of \(directory): \(error)")
                }
            }
        }
        return out
    }

    /// Expected sharpness at the plan's σ per optimizer and seed, by `adai-bench sharpness` on each final checkpoint.
    public func runSharpness(_ evidence: TrainingEvidence) throws -> [String: [Int: Double]] {
        let p = scale.hessian
        var out: [String: [Int: Double]] = [:]
        for name in p.optimizers {
            for (seed, directory) in (evidence.runDirectories[name] ?? [:]).sorted(by: { $0.key < $1.key }) {
                let file = "\(analysesDirectory)/sharpness-\(name)-seed\(seed).csv"
                if !FileManager.default.fileExists(atPath: file) {
                    let pid = try ChildProcess.spawn(executable, ["sharpness", "--run", directory, "--batches", String(p.batches),
                                                                  "--batch-size", String(p.batchSize), "--sigma", String(p.sigma),
                                                                  "--samples", String(p.sharpnessSamples), "--out", file])
                    let ending = ChildProcess.wait(pid)
                    guard ending == .exited(0) else { log("reproduce: sharpness of \(directory) ended with \(ending)"); continue }
                }
                if let row = try? Plots.readSharpness(file).first { out[name, default: [:]][seed] = row.sharpness }
            }
        }
        return out
    }
}

func formatNumber(_ x: Double) -> String { NumberFormat.g(6).string(x) }

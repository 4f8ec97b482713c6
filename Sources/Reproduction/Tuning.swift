import Datasets
import Foundation
import Reports

/// Fair tuning of the training claims (docs/claims.md, "Fair tuning"): every compared optimizer gets a grid of the
/// same size, tried on the selection seed and chosen by the final validation metric (never the test set); a
/// best lr at an edge of its grid extends the grid outward by `factor`, at most `maxExtensions` times, and one
/// still at an edge leaves its tuning not converged.
public enum Tuning {
    public static let factor = 3.0
    public static let maxExtensions = 2

    /// One optimizer's lr search on the selection seed.
    public struct Search: Codable, Equatable {
        public var optimizer: String
        public var grid: [Double]
        /// lr → final validation metric of the completed selection runs.
        public var scores: [Double: Double]
        public var extensions: Int
        public var best: Double? { scores.min { $0.value < $1.value || ($0.value == $1.value && $0.key < $1.key) }?.key }
        /// The best lr lies at the lowest or highest point of the grid (a grid of one point is an edge both ways).
        public var atEdge: Bool { best.map { $0 == grid.min() || $0 == grid.max() } ?? false }
        /// The next grid point outward from an edge, nil when the best lies inside.
        public var outward: Double? {
            guard let best, atEdge else { return nil }
            // Six significant digits, so that the run directories and configs read 0.9, not 0.8999999999999999.
            return Double(formatNumber(best == grid.max() ? best * Tuning.factor : best / Tuning.factor))!
        }
        public var converged: Bool { best != nil && !atEdge }
        public var trials: Int { grid.count }
    }

    /// The selection metric: the final value of the validation column (lower is better).
    public static func validationColumn(dataset: DatasetKind) -> String { dataset.isText ? "valid_loss" : "valid_error" }

    /// Checks a plan's tuning design before it runs: every compared optimizer has a grid, all of one size; a CIFAR
    /// plan holds out a validation split; the selection seed is not a comparison seed.
    public static func checkDesign(_ plan: TrainingPlan) throws {
        if plan.basin != nil && (plan.optimizers.isEmpty || plan.optimizers.contains { $0.lrGrid != nil }) {
            throw ReproductionError("\(plan.name): a basin plan (claim 11) trains every cell of its lr × weight-decay grid on every seed around each optimizer's planned lr; list its optimizers, each without an lr grid to select from (Sources/Reproduction/Scales.swift)")
        }
        guard plan.optimizers.contains(where: { $0.lrGrid != nil }) else { return }
        let sizes = Set(plan.optimizers.map { $0.lrGrid?.count ?? 0 })
        guard sizes.count == 1, let size = sizes.first, size > 0 else {
            throw ReproductionError("\(plan.name): fair tuning needs an lr grid of the same size for every compared optimizer; the plan has "
                                    + plan.optimizers.map { "\($0.name) \($0.lrGrid?.count ?? 0)" }.joined(separator: ", ") + " points (Sources/Reproduction/Scales.swift)")
        }
        guard let seed = plan.selectionSeed, !plan.seeds.contains(seed) else {
            throw ReproductionError("\(plan.name): lr grids need a selection seed outside the comparison seeds \(plan.seeds)")
        }
        if !plan.dataset.isText && (plan.validation ?? 0) <= 0 {
            throw ReproductionError("\(plan.name): lr selection reads a validation split held out of the training images; set the plan's validation (e.g. 500)")
        }
    }
}

extension ReproductionRunner {
    /// Each grid optimizer's search on the selection runs at hand under `grids`, scored by the final validation metric.
    public func searches(_ plan: TrainingPlan, grids: [String: [Double]], extensions: [String: Int]) throws -> [Tuning.Search] {
        let runs = try RunLoader.load(experiment: "\(runsDirectory)/\(plan.name)")
        let column = Tuning.validationColumn(dataset: plan.dataset)
        return try plan.optimizers.compactMap { o -> Tuning.Search? in
            guard let grid = grids[o.name] else { return nil }
            var scores: [Double: Double] = [:]
            for run in runs where run.record.optimizer == o.name && run.record.seed == plan.selectionSeed
                && run.record.weightDecay == o.weightDecay && run.record.status == .completed && grid.contains(run.record.lr) {
                guard run.metrics.header.contains(column) else {
                    throw ReproductionError("\(run.record.runId ?? o.name): its metrics.csv has no \(column) column; the selection reads the validation split only (a CIFAR plan needs validation > 0; delete the selection runs made without it)")
                }
                if let final = try run.series(column).last?.value, final.isFinite { scores[run.record.lr] = final }
            }
            return Tuning.Search(optimizer: o.name, grid: grid.sorted(), scores: scores, extensions: extensions[o.name] ?? 0)
        }
    }

    /// Replays the lr search over the selection runs at hand: from the planned grids, each round whose runs have all
    /// ended extends the grids whose best lies at an edge (at most `Tuning.maxExtensions` times). Returns the grids
    /// to run now and whether the search has finished.
    public func tuningState(_ plan: TrainingPlan) throws -> (grids: [String: [Double]], searches: [Tuning.Search], finished: Bool) {
        var grids: [String: [Double]] = [:], extensions: [String: Int] = [:]
        for o in plan.optimizers { if let g = o.lrGrid { grids[o.name] = g } }
        while true {
            let grid = try writeConfig(plan, selection: true, grids: grids).grid
            // A run that failed has ended too (it scores nothing); one left or running has not.
            let ended = grid.states(results: runsDirectory).allSatisfy { state in
                if case .left = state { return false }
                return !state.isRunning
            }
            guard ended else { return (grids, [], false) }
            let found = try searches(plan, grids: grids, extensions: extensions)
            var extended = false
            for s in found where s.extensions < Tuning.maxExtensions {
                if let next = s.outward {
                    grids[s.optimizer] = (grids[s.optimizer] ?? []) + [next]
                    extensions[s.optimizer, default: 0] += 1
                    extended = true
                }
            }
            if !extended { return (grids, found, true) }
        }
    }

    /// The notes of a finished search: per optimizer its grid, trials, choice and whether it converged.
    func tuningNotes(_ plan: TrainingPlan, _ searches: [Tuning.Search]) -> [String] {
        let column = Tuning.validationColumn(dataset: plan.dataset)
        let split = plan.dataset.isText ? "the PTB validation text" : "the \(plan.validation ?? 0) training images held out for validation"
        return searches.map { s in
            let grid = "{" + s.grid.map(formatNumber).joined(separator: ", ") + "}"
            guard let best = s.best else {
                return "\(s.optimizer): no completed selection run in \(grid); trained at its planned lr — tuning not converged"
            }
            return "\(s.optimizer): lr \(formatNumber(best)) chosen on seed \(plan.selectionSeed ?? 0) from \(grid) (\(s.trials) trials, \(s.extensions) extension\(s.extensions == 1 ? "" : "s")) by final \(column) \(formatNumber(s.scores[best]!)) on \(split)"
                + (s.converged ? "" : " — STILL AT THE EDGE of its grid after \(s.extensions) extension\(s.extensions == 1 ? "" : "s"): tuning not converged")
        }
    }
}

extension ClaimContext {
    /// A training verdict of `experiment` with fair tuning's and the regime's checks applied: an optimizer compared
    /// whose tuning did not converge makes it "tuning not converged"; a run under the regime's steps makes it
    /// "scale too small" (that reason comes first: no tuning decides a run too short).
    func trainingChecked(_ verdict: ClaimVerdict, experiment: String, optimizers: [String], label: String = "") -> ClaimVerdict {
        var v = verdict
        if let e = trainingEvidence[experiment] {
            let unconverged = optimizers.filter { e.unconvergedTuning.contains($0) }
            if !unconverged.isEmpty && v.kind != .runsFailed && v.kind != .scaleTooSmall {
                v.notes.append("\(label)the verdict would be \(v.kind.rawValue), but the lr of \(unconverged.joined(separator: ", ")) is still at the edge of its grid: tuning not converged")
                v.kind = .tuningNotConverged
            }
        }
        let check = scale.training.first { $0.name == experiment }.flatMap { runner.regimeCheck($0, optimizers: optimizers) }
        TrainingRegime.apply(check, label: label, to: &v)
        return v
    }
}

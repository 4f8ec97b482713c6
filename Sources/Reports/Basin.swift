import enum Engine.NumberFormat
import Foundation
import RunFormat

/// One cell of an optimizer's lr × weight-decay grid: the final metric of each seed's run. A diverged run counts as
/// +∞ (worse than any finished run); a run that failed, was interrupted or is still running has no value.
public struct BasinCell: Equatable {
    public var lr: Double, weightDecay: Double
    /// seed → final metric (+∞ for a diverged run).
    public var values: [Int: Double]
    public init(lr: Double, weightDecay: Double, values: [Int: Double]) {
        self.lr = lr; self.weightDecay = weightDecay; self.values = values
    }

    /// The mean over the seeds present: +∞ when one of them diverged, NaN when none is present.
    public var mean: Double {
        guard !values.isEmpty else { return .nan }
        return values.values.reduce(0, +) / Double(values.count)
    }
}

/// Figure 5's basin (docs/claims.md, claim 11): the cells of one optimizer's grid whose final test error lies within
/// `distance` (in the metric's units, percentage points for test error) of that optimizer's best cell.
public struct OptimizerBasin: Equatable {
    public var optimizer: String
    public var distance: Double
    /// The grid, sorted by weight decay, then lr.
    public var cells: [BasinCell]
    /// Per cell (in `cells` order): in the basin of the grid of means over seeds.
    public var inBasin: [Bool]
    /// seed → the size of that seed's own basin (its cells within `distance` of its best cell), for the seeds that have
    /// a value in every cell.
    public var perSeed: [Int: Int]
    /// Cells without a value for some seed that another cell has (failed or unfinished runs).
    public var incomplete: [BasinCell]

    /// The number of cells in the basin of the grid of means.
    public var size: Int { inBasin.filter { $0 }.count }
    /// The cell with the lowest mean (ties: the first in grid order); nil when no cell has a finite mean.
    public var best: BasinCell? {
        cells.filter { $0.mean.isFinite }.min { $0.mean < $1.mean }
    }

    /// One line: the basin of the mean grid, the best cell, and the per-seed sizes.
    public var line: String {
        var s = "\(optimizer): \(size) of \(cells.count) cells within \(Basin.format(distance)) of the best cell"
        if let best { s += " (lr \(Basin.format(best.lr)), wd \(Basin.format(best.weightDecay)): \(Basin.format(best.mean)), mean of \(best.values.count))" }
        s += perSeed.isEmpty ? "; no seed has every cell" : "; per seed " + perSeed.keys.sorted().map { "\($0): \(perSeed[$0]!)" }.joined(separator: ", ")
        if !incomplete.isEmpty { s += "; \(incomplete.count) cell\(incomplete.count == 1 ? "" : "s") lack a seed" }
        return s
    }
}

public enum Basin {
    /// Which values (lower is better) lie within `distance` of the lowest finite one; non-finite values are outside.
    public static func members(_ values: [Double], distance: Double) -> [Bool] {
        guard let best = values.filter(\.isFinite).min() else { return values.map { _ in false } }
        return values.map { $0.isFinite && $0 <= best + distance }
    }

    /// The basin of one optimizer's cells.
    public static func of(optimizer: String, cells unsorted: [BasinCell], distance: Double) -> OptimizerBasin {
        let cells = unsorted.sorted { ($0.weightDecay, $0.lr) < ($1.weightDecay, $1.lr) }
        let allSeeds = Set(cells.flatMap(\.values.keys))
        let complete = allSeeds.filter { seed in cells.allSatisfy { $0.values[seed] != nil } }
        var perSeed: [Int: Int] = [:]
        for seed in complete {
            perSeed[seed] = members(cells.map { $0.values[seed]! }, distance: distance).filter { $0 }.count
        }
        return OptimizerBasin(optimizer: optimizer, distance: distance, cells: cells,
                              inBasin: members(cells.map(\.mean), distance: distance), perSeed: perSeed,
                              incomplete: cells.filter { Set($0.values.keys) != allSeeds })
    }

    /// Every optimizer's basin over the runs of a sweep: completed runs give their final metric, diverged runs +∞.
    /// `expected` names the cells planned, so that a cell with no run at all is counted as lacking its seeds.
    public static func of(runs: [Run], distance: Double, expected: [Setting] = []) throws -> [OptimizerBasin] {
        var cells: [Setting: [Int: Double]] = [:]
        for setting in expected { cells[setting] = [:] }
        for run in runs {
            switch run.record.status {
            case .completed:
                guard let (final, _) = try run.finalAndBest() else { continue }
                cells[run.setting, default: [:]][run.record.seed] = final.isFinite ? final : .infinity
            case .diverged:
                cells[run.setting, default: [:]][run.record.seed] = .infinity
            default:
                // Failed, interrupted or running: the cell exists but this seed has no value.
                if cells[run.setting] == nil { cells[run.setting] = [:] }
            }
        }
        return Set(cells.keys.map(\.optimizer)).sorted().map { optimizer in
            of(optimizer: optimizer, cells: cells.filter { $0.key.optimizer == optimizer }.map {
                BasinCell(lr: $0.key.lr, weightDecay: $0.key.weightDecay, values: $0.value)
            }, distance: distance)
        }
    }

    /// basin.csv: `optimizer,cells,basin_cells,distance,best_lr,best_weight_decay,best_mean,seeds_complete,basin_cells_by_seed,cells_lacking_a_seed`.
    public static func csv(_ basins: [OptimizerBasin]) -> String {
        var lines = ["optimizer,cells,basin_cells,distance,best_lr,best_weight_decay,best_mean,seeds_complete,basin_cells_by_seed,cells_lacking_a_seed"]
        for b in basins {
            var fields: [String] = [b.optimizer, String(b.cells.count), String(b.size), format(b.distance)]
            if let best = b.best {
                fields += [format(best.lr), format(best.weightDecay), format(best.mean)]
            } else {
                fields += ["", "", ""]
            }
            let bySeed: [String] = b.perSeed.keys.sorted().map { "\($0):\(b.perSeed[$0]!)" }
            fields += [String(b.perSeed.count), bySeed.joined(separator: " "), String(b.incomplete.count)]
            lines.append(fields.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func format(_ x: Double) -> String { NumberFormat.g(6).string(x) }
}

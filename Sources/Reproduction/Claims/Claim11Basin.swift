import Experiments
import Foundation
import Plot
import Reports
import RunFormat

extension Claim {
    /// Claim 11: Adai's test-error basin over lr × weight decay is wider than SGD-M's and Adam's (Fig. 5).
    public static let basinWidth = Claim(
        id: "11",
        title: "Adai's test-error basin over lr × weight decay is wider than SGD-M's and Adam's",
        paper: "§6, Fig. 5: Adai is \"more robust to the choices of learning rate and weight decay\"",
        prediction: "on grids of the same size and spacing around each default lr, more of Adai's cells lie within 1 pp of its best test error than SGD-M's and Adam's",
        rule: "per seed, the cells of a 5 × 5 lr × wd grid within 1 pp of that seed's best final test error; Adai − baseline, paired by seed; margin 2 cells; composed over SGD-M and Adam",
        paperScaleGain: "ResNet18 for 200 epochs on every cell, the regime of the paper's Fig. 5",
        needs: [.training],
        design: { _ in [] },
        judge: { context in
            let requirements = ScaleRequirement.basin(context.runner)
            if let v = ScaleRequirement.tooSmall(claim: "11", scale: context.scale.name, requirements) { return v }
            let evidence = try context.training(for: "11")
            let parts = try evidence.compactMap { e -> ClaimVerdict? in
                guard let plan = context.scale.training.first(where: { $0.name == e.experiment && $0.basin != nil }) else { return nil }
                let basins = try context.runner.basins(plan)
                let label = "\(plan.name): "
                var v = Verdicts.pairs(claim: "11", a: ["adai"], baselines: ["sgdm", "adam"], values: basins.mapValues { $0.perSeed.mapValues(Double.init) },
                                       lowerIsBetter: false, margin: ClaimRules.basinMargin, unit: "cells", epochs: e.epochs, label: label)
                v.notes += basins.keys.sorted().map { "\(label)basin of the grid of means over seeds (reported beside the rule): " + basins[$0]!.line }
                let diverged = basins.values.flatMap(\.cells).flatMap(\.values.values).filter { $0 == .infinity }.count
                if diverged > 0 {
                    v.notes.append("\(label)diverged runs (or non-finite final test errors), \(diverged) here, count as cells outside the basin on their seed, not left out; only failed or unfinished runs leave their seed out")
                }
                v.notes += try context.runner.drawBasins(plan, optimizers: basins.keys.sorted()).map { "\(label)heatmap with the basin outlined: \($0)" }
                return context.trainingChecked(v, experiment: plan.name, optimizers: plan.optimizers.map(\.name), label: label)
            }
            var v = context.runner.withFailures(Verdicts.merge(claim: "11", parts), evidence)
            v.notes = requirements.map(\.line) + v.notes
            return v
        },
        figure: { context, _ in
            guard ScaleRequirement.basin(context.runner).allSatisfy(\.passes),
                  let plan = context.scale.training.first(where: { $0.claims.contains("11") && $0.basin != nil }) else { return nil }
            let basins = try context.runner.basins(plan)
            // One marker per seed: the seeds are separate grids, not a sequence.
            let series = basins.keys.sorted().map { name -> Series in
                let seeds = basins[name]!.perSeed.keys.sorted()
                var s = Series(name: name, xs: seeds.map(Double.init), ys: seeds.map { Double(basins[name]!.perSeed[$0]!) })
                s.connected = false
                return s
            }
            var chart = LineChart(title: "Claim 11: basin size per seed (\(plan.name))", xLabel: "seed",
                                  yLabel: "cells within \(formatNumber(ClaimRules.basinDistance)) pp of the best", series: series)
            chart.markers = true
            return chart
        },
        scope: { context in
            let line = TrainingScope.line(context, claim: "11")
            return line.isEmpty ? "nothing run at the \(context.scale.name) scale; " + ScaleRequirement.basin(context.runner).map(\.line).joined(separator: "; ") : line
        },
        scaleChecks: ScaleRequirement.basin)
}

extension ReproductionRunner {
    /// Each optimizer's basin over a basin plan's grid (docs/claims.md, claim 11), from the runs at hand; a planned
    /// cell with no finished run counts as lacking its seeds.
    public func basins(_ plan: TrainingPlan) throws -> [String: OptimizerBasin] {
        let grid = try writeConfig(plan, selection: false).grid
        let runs = grid.runs.compactMap { spec in
            try? RunLoader.loadRun(runJSON: "\(spec.directory(results: runsDirectory))/\(RunDirectory.runJSONName)")
        }
        let expected = grid.runs.map { Setting(optimizer: $0.optimizer.name, lr: $0.optimizer.lr, weightDecay: $0.optimizer.weightDecay) }
        let basins = try Basin.of(runs: runs, distance: ClaimRules.basinDistance, expected: expected)
        return Dictionary(uniqueKeysWithValues: basins.map { ($0.optimizer, $0) })
    }

    /// The heatmap of each optimizer's grid with its basin outlined, under `analyses/`; returns the files written.
    func drawBasins(_ plan: TrainingPlan, optimizers: [String]) throws -> [String] {
        try FileManager.default.createDirectory(atPath: analysesDirectory, withIntermediateDirectories: true)
        return try optimizers.compactMap { name in
            guard let map = try? Plots.heatmap(experiment: "\(runsDirectory)/\(plan.name)", optimizer: name,
                                               title: "Claim 11: \(name), final test error (\(plan.name))", basinDistance: ClaimRules.basinDistance) else { return nil }
            let path = "\(analysesDirectory)/basin-\(plan.name)-\(name).png"
            _ = try map.figure().write(to: path)
            return path
        }
    }
}

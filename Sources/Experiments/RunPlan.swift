import Foundation
import Engine
import Optim
import RunFormat

/// Command-line settings that replace the config's (`train --lr ...`).
public struct TrainOverrides {
    public var optimizer: String?
    public var lr: Double?
    public var weightDecay: Double?
    public var epochs: Int?
    public var seed: Int?
    public var dataDir: String?
    public var allowPartialData = false
    public init() {}
}

/// One training run: an optimizer entry with one seed.
public struct RunSpec {
    public let experiment: ExperimentConfig
    public let optimizer: OptimizerSpec
    public let seed: Int
    /// Optimizer keys other than lr and weight decay that a sweep varies; each joins the setting's name
    /// as `-<key><value>` so that every point of the grid has its own directory.
    public var sweptKeys: [String] = []

    /// `<optimizer>-lr<lr>-wd<wd>` (plus `-<key><value>` for each swept key), the setting's directory.
    public var setting: String {
        var name = "\(optimizer.name)-lr\(formatValue(optimizer.lr))-wd\(formatValue(optimizer.weightDecay))"
        for key in sweptKeys {
            if case .number(let x)? = optimizer.options[key] { name += "-\(key)\(formatValue(x))" }
        }
        return name
    }

    /// `<optimizer>-lr<lr>-wd<wd>/seed-<seed>`, the run's directory under the experiment's.
    public var id: String { "\(setting)/seed-\(seed)" }

    public func directory(results: String) -> String { "\(results)/\(experiment.name)/\(id)" }

    /// The run's directory and its files.
    public func runDirectory(results: String) -> RunDirectory { RunDirectory(directory(results: results)) }
}

extension ExperimentConfig {
    /// Every (optimizer × seed) run, in config order.
    public var runs: [RunSpec] {
        optimizers.flatMap { o in training.seeds.map { RunSpec(experiment: self, optimizer: o, seed: $0) } }
    }

    /// The config with command-line overrides applied (and checked).
    public func applying(_ o: TrainOverrides) throws -> ExperimentConfig {
        var c = self
        var problems: [String] = []
        if let name = o.optimizer {
            c.optimizers = optimizers.filter { $0.name == name }
            if c.optimizers.isEmpty {
                problems.append("--optimizer \(name): the config has no such optimizer; it lists \(optimizers.map(\.name).joined(separator: ", "))")
            }
        }
        if let lr = o.lr {
            if lr > 0 { for i in c.optimizers.indices { c.optimizers[i].options["lr"] = .number(lr) } } else {
                problems.append("--lr must be > 0, got \(formatValue(lr))")
            }
        }
        if let wd = o.weightDecay {
            if wd >= 0 { for i in c.optimizers.indices { c.optimizers[i].options["weightDecay"] = .number(wd) } } else {
                problems.append("--weight-decay must be >= 0, got \(formatValue(wd))")
            }
        }
        if let epochs = o.epochs {
            if epochs >= 1 { c.training.epochs = epochs } else { problems.append("--epochs must be >= 1, got \(epochs)") }
        }
        if let seed = o.seed {
            if seed >= 0 { c.training.seeds = [seed] } else { problems.append("--seed must be >= 0, got \(seed)") }
        }
        if let dir = o.dataDir {
            c.dataset.dir = dir
            c.dataset.synthetic = nil
        }
        if o.allowPartialData { c.dataset.allowPartial = true }
        // Re-validate the optimizer entries with their new settings.
        for (i, spec) in c.optimizers.enumerated() {
            do {
                try validateOptimizerOptions(spec.name, spec.options)
            } catch {
                problems.append("optimizers[\(i)] with the command-line settings: \(error)")
            }
        }
        guard problems.isEmpty else { throw ConfigError(file: "command line", problems: problems) }
        return c
    }
}

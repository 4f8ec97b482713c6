import Engine
import Foundation
import Optim

/// `run.json`: the run's resolved settings, status, results and provenance (see docs/RESULTS.md).
struct RunRecordFile {
    let run: RunSpec
    let directory: String
    let metricName: String

    /// The status recorded in `directory/run.json`, if there is one.
    static func status(runDirectory: String) -> String? {
        guard let data = FileManager.default.contents(atPath: "\(runDirectory)/run.json"),
              let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        return json["status"] as? String
    }

    func write(status: RunStatus, state: TrainerState, metrics: MetricsTable, diverged: (epoch: Int, step: Int)? = nil,
               error: String? = nil) throws {
        let c = run.experiment
        var json: [String: Any] = [
            "experiment": c.name, "runId": run.id, "dataset": c.dataset.kind.rawValue, "model": c.model.name,
            "optimizer": run.optimizer.name, "lr": run.optimizer.lr, "weightDecay": run.optimizer.weightDecay,
            "seed": run.seed, "epochsPlanned": c.training.epochs, "epochsCompleted": metrics.rows.count,
            "status": status.rawValue, "metric": metricName, "startedAt": state.startedAt,
            "provenance": Provenance.json(threads: Parallel.threadCount), "config": resolvedConfig(),
        ]
        if status != .running { json["endedAt"] = timestamp() }
        if let diverged { json["diverged"] = ["epoch": diverged.epoch, "step": diverged.step] }
        if let error { json["error"] = error }
        if let values = metrics.column(metricName), let epochs = metrics.column("epoch"), !values.isEmpty {
            json["final"] = ["value": values.last!, "epoch": Int(epochs.last!)]
            let best = values.indices.min { values[$0] < values[$1] }!
            json["best"] = ["value": values[best], "epoch": Int(epochs[best])]
        }
        let data = try JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        try AtomicFile.write(data, to: "\(directory)/run.json")
    }

    /// The experiment's settings for this run with every default filled in.
    func resolvedConfig() -> [String: Any] {
        let c = run.experiment
        var dataset: [String: Any] = ["name": c.dataset.kind.rawValue, "dir": c.dataset.dir, "allowPartial": c.dataset.allowPartial]
        if c.dataset.kind == .cifar100 { dataset["labels"] = c.dataset.labels }
        if let mean = c.dataset.mean, let std = c.dataset.std { dataset["mean"] = mean.map(Double.init); dataset["std"] = std.map(Double.init) }
        if let s = c.dataset.synthetic { dataset["synthetic"] = ["train": s.train, "test": s.test, "seed": s.seed] }
        var model: [String: Any] = ["name": c.model.name, "googLeNetEpsQuirk": c.model.googLeNetEpsQuirk, "tiedWeights": c.model.tiedWeights]
        if let p = c.model.dropout { model["dropout"] = p }
        var schedule: [String: Any] = ["kind": c.training.scheduleKind]
        for (k, v) in c.training.scheduleOptions { schedule[k] = jsonValue(v) }
        var training: [String: Any] = ["epochs": c.training.epochs, "batchSize": c.training.batchSize,
                                       "evalBatchSize": c.training.evalBatchSize, "seed": run.seed, "schedule": schedule]
        if c.isLanguageModel { training["bptt"] = c.training.bptt; training["clipNorm"] = c.training.clipNorm ?? 0 }
        var optimizer: [String: Any] = ["name": run.optimizer.name]
        for (k, v) in run.optimizer.options { optimizer[k] = jsonValue(v) }
        var out: [String: Any] = ["name": c.name, "dataset": dataset, "model": model, "training": training, "optimizer": optimizer]
        if let notes = c.notes { out["notes"] = notes }
        return out
    }

    private func jsonValue(_ v: OptionValue) -> Any {
        switch v {
        case .number(let x): return x
        case .bool(let b): return b
        case .list(let xs): return xs
        }
    }
}

/// `curves.csv`: every run of an experiment in long form, rebuilt from the runs' files.
enum CurvesFile {
    static func rebuild(experimentDirectory: String) throws {
        let fm = FileManager.default
        var header: [String]?
        var lines: [String] = []
        for configuration in ((try? fm.contentsOfDirectory(atPath: experimentDirectory)) ?? []).sorted() {
            let configurationDir = "\(experimentDirectory)/\(configuration)"
            for seedDir in ((try? fm.contentsOfDirectory(atPath: configurationDir)) ?? []).sorted() where seedDir.hasPrefix("seed-") {
                let dir = "\(configurationDir)/\(seedDir)"
                guard let data = fm.contents(atPath: "\(dir)/run.json"),
                      let record = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                      fm.fileExists(atPath: "\(dir)/metrics.csv") else { continue }
                let metrics = try MetricsTable.read(path: "\(dir)/metrics.csv")
                // The run's configured lr is `lr`; the lr of each epoch (after the schedule) is `epoch_lr`.
                let metricColumns = metrics.columns.map { $0 == "lr" ? "epoch_lr" : $0 }
                if header == nil { header = ["optimizer", "lr", "weight_decay", "seed"] + metricColumns }
                guard metricColumns == Array(header!.dropFirst(4)) else { continue }
                let prefix = [record["optimizer"] as? String ?? configuration,
                              MetricsTable.format((record["lr"] as? Double) ?? .nan),
                              MetricsTable.format((record["weightDecay"] as? Double) ?? .nan),
                              String((record["seed"] as? Int) ?? 0)]
                for row in metrics.rows { lines.append((prefix + row.map(MetricsTable.format)).joined(separator: ",")) }
            }
        }
        guard let header else { return }
        try AtomicFile.write(([header.joined(separator: ",")] + lines).joined(separator: "\n") + "\n",
                             to: "\(experimentDirectory)/curves.csv")
    }
}

import Datasets
import Engine
import Foundation
import NN
import Optim
import RunFormat

// The config types are RunFormat's (one typed shape for config files and run.json); this is the reader that
// checks a config file and reports every problem with its JSON path.

extension ExperimentConfig {
    /// Reads and validates a config file; every problem is reported at once with its JSON path.
    public static func load(path: String) throws -> ExperimentConfig {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError(file: path, problems: ["cannot read the file; check the path (configs/ holds the paper's experiments, configs/quickstart.json the quick start)"])
        }
        return try parse(data, file: path)
    }

    public static func parse(_ data: Data, file: String) throws -> ExperimentConfig {
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw ConfigError(file: file, problems: ["not valid JSON (\(jsonErrorDetail(error)))"])
        }
        guard let root = json as? [String: Any] else {
            throw ConfigError(file: file, problems: ["the top level must be an object with \"name\", \"dataset\", \"model\", \"training\" and \"optimizers\""])
        }
        let sink = JSONObjectReader.ProblemSink()
        let r = JSONObjectReader(root, path: "", sink: sink)
        let name = r.string("name") ?? ""
        if !name.isEmpty && name.range(of: "^[A-Za-z0-9._-]+$", options: .regularExpression) == nil {
            r.problem("name", "must use only letters, digits, '.', '_' and '-' (it names the results directory), got \"\(name)\"")
        }
        let notes = r.string("notes", default: "")
        let dataset = readDataset(r.object("dataset"))
        let model = readModel(r.object("model"), dataset: dataset)
        let training = readTraining(r.object("training"), dataset: dataset, model: model?.name ?? "")
        let optimizers = readOptimizers(r.array("optimizers"), sink: sink)
        let sweepReader = r.object("sweep", required: false)
        if let sweepReader { validateSweep(sweepReader) }
        r.rejectUnknownKeys(valid: keys)
        guard sink.problems.isEmpty, let dataset, let model, let training else {
            throw ConfigError(file: file, problems: sink.problems)
        }
        // Its shapes checked above, the section is read into its type.
        struct SweepOnly: Decodable { var sweep: SweepSpec? }
        var sweep: SweepSpec?
        if sweepReader != nil {
            do {
                sweep = try JSONDecoder().decode(SweepOnly.self, from: data).sweep
            } catch {
                throw ConfigError(file: file, problems: ["sweep: \(RunDirectory.describe(error))"])
            }
        }
        return ExperimentConfig(name: name, notes: notes?.isEmpty == true ? nil : notes, dataset: dataset, model: model,
                                training: training, optimizers: optimizers, sweep: sweep)
    }

    private static func readDataset(_ r: JSONObjectReader?) -> DatasetSpec? {
        guard let r else { return nil }
        let kindName = r.string("name") ?? ""
        let kind = DatasetSpec.Kind(rawValue: kindName)
        if kind == nil && r.has("name") {
            r.problem("name", "unknown data set \"\(kindName)\"; known: \(DatasetSpec.Kind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let defaultDir = (kind ?? .cifar10).defaultDirectory
        let dir = r.string("dir", default: defaultDir) ?? defaultDir
        let allowPartial = r.bool("allowPartial", default: false)
        let labels = r.string("labels", default: "fine") ?? "fine"
        if labels != "fine" && labels != "coarse" { r.problem("labels", "must be \"fine\" or \"coarse\", got \"\(labels)\"") }
        let mean = r.numbers("mean"), std = r.numbers("std")
        for (key, values) in [("mean", mean), ("std", std)] {
            if let values, values.count != 3 { r.problem(key, "must list 3 numbers (red, green, blue), got \(values.count)") }
        }
        if let std, std.contains(where: { $0 <= 0 }) { r.problem("std", "every value must be > 0") }
        var synthetic: DatasetSpec.SyntheticSpec?
        if let s = r.object("synthetic", required: false) {
            let train = s.integer("train", minimum: 1), test = s.integer("test", minimum: 1)
            let seed = s.integer("seed", default: 0, minimum: 0)
            s.rejectUnknownKeys(valid: ["train", "test", "seed"])
            if let train, let test, let seed { synthetic = .init(train: train, test: test, seed: seed) }
        }
        let validation = r.integer("validation", default: 0, minimum: 0) ?? 0
        if kind == .ptb && validation > 0 {
            r.problem("validation", "applies to CIFAR only: Penn Treebank has its own validation split (ptb.valid.txt); remove the key")
        }
        r.rejectUnknownKeys(valid: DatasetSpec.keys)
        guard let kind else { return nil }
        return DatasetSpec(kind: kind, dir: dir, allowPartial: allowPartial, labels: labels, mean: mean?.map(Float.init),
                           std: std?.map(Float.init), synthetic: synthetic, validation: validation)
    }

    private static func readModel(_ r: JSONObjectReader?, dataset: DatasetSpec?) -> ModelSpec? {
        guard let r else { return nil }
        let name = r.string("name") ?? ""
        let known = ModelZoo.allNames
        if !name.isEmpty && !known.contains(name) {
            let guess = closestName(to: name, in: known).map { "; did you mean \"\($0)\"?" } ?? ""
            r.problem("name", "unknown model \"\(name)\"\(guess) (known: \(known.joined(separator: ", ")))")
        } else if let dataset, !name.isEmpty, ModelZoo.isLanguageModel(name) != (dataset.kind == .ptb) {
            r.problem("name", "model \"\(name)\" does not fit data set \"\(dataset.kind.rawValue)\" (the LSTM language models go with ptb, the image models with cifar10/cifar100)")
        }
        let dropout = r.number("dropout", default: .nan) { ($0 >= 0 && $0 < 1) ? nil : "must be in [0, 1), got \(formatValue($0))" }
        let quirk = r.bool("googLeNetEpsQuirk", default: true)
        let tied = r.bool("tiedWeights", default: false)
        var weightDrop = AWDLSTMWeightDrop.authors
        if ModelZoo.isAWDLSTM(name) {
            // The AWD-LSTM's five dropouts and its tying are the authors' (main.py); only the weight-drop variant is a choice.
            if r.has("dropout") {
                r.problem("dropout", "\(name) has five dropouts with the authors' values (output 0.4, between layers 0.25, input 0.4, "
                          + "embedding 0.1, weight drop 0.5); leave `dropout` out")
            }
            if r.has("tiedWeights") { r.problem("tiedWeights", "\(name) is always tied, as the authors' main.py; leave `tiedWeights` out") }
            if let variant = r.string("weightDrop", default: AWDLSTMWeightDrop.authors.rawValue) {
                if let v = AWDLSTMWeightDrop(rawValue: variant) { weightDrop = v } else {
                    r.problem("weightDrop", "must be \"authors\" (their weight_drop.py as it behaves: the raw hidden-to-hidden "
                              + "matrices get no gradient) or \"correct\", got \"\(variant)\"")
                }
            }
        } else if r.has("weightDrop") {
            _ = r.string("weightDrop", default: "")  // consumed: the problem is the key's place, not its spelling
            r.problem("weightDrop", "applies to the AWD-LSTMs (awd-lstm-1layer, -2layer, -3layer) only, not to \"\(name)\"")
        }
        r.rejectUnknownKeys(valid: ModelSpec.keys)
        return ModelSpec(name: name, dropout: dropout.flatMap { $0.isNaN ? nil : $0 }, googLeNetEpsQuirk: quirk, tiedWeights: tied,
                         weightDrop: weightDrop)
    }

    private static func readTraining(_ r: JSONObjectReader?, dataset: DatasetSpec?, model: String) -> TrainingSpec? {
        guard let r else { return nil }
        let lm = dataset?.kind == .ptb
        let epochs = r.integer("epochs", minimum: 1)
        let batch = r.integer("batchSize", default: TrainingSpec.defaultBatchSize(languageModel: lm), minimum: 1)
        let evalBatch = r.integer("evalBatchSize", default: TrainingSpec.defaultEvalBatchSize(languageModel: lm), minimum: 1)
        var seeds = [1]
        if r.has("seeds") {
            if let list = r.numbers("seeds") {
                if list.isEmpty { r.problem("seeds", "must list at least one seed") }
                for (i, s) in list.enumerated() where s != s.rounded() || s < 0 {
                    r.sink.add("\(r.keyPath("seeds"))[\(i)]", "must be a whole number >= 0, got \(formatValue(s))")
                }
                seeds = list.map { Int($0) }
            }
        }
        let bptt = r.integer("bptt", default: 35, minimum: 1)
        let clip = r.number("clipNorm", default: TrainingSpec.defaultClipNorm(languageModel: lm)) { $0 >= 0 ? nil : "must be >= 0 (0 turns clipping off), got \(formatValue($0))" }
        var nonmono = 5, logInterval = 200
        for key in ["nonmono", "logInterval"] where r.has(key) && !ModelZoo.isAWDLSTM(model) {
            _ = r.number(key, default: 0)  // consumed: the problem is the key's place
            r.problem(key, "belongs to the AWD-LSTM recipe (models awd-lstm-1layer, -2layer, -3layer, -tiny), not to \"\(model)\"")
        }
        if ModelZoo.isAWDLSTM(model) {
            nonmono = r.integer("nonmono", default: 5, minimum: 1) ?? 5
            logInterval = r.integer("logInterval", default: 200, minimum: 1) ?? 200
        }
        var scheduleKind = "constant"
        var scheduleOptions: OptimizerOptions = [:]
        if let s = r.object("schedule", required: false) {
            scheduleKind = s.string("kind", default: "constant") ?? "constant"
            for (key, value) in s.object where key != "kind" {
                if let option = optionValue(value) { scheduleOptions[key] = option } else {
                    s.problem(key, "must be a number, true/false or a list of numbers, got \(describe(value))")
                }
            }
            s.markConsumed(Array(s.object.keys))
            do {
                _ = try LRSchedule(name: scheduleKind, options: scheduleOptions)
            } catch {
                r.problem("schedule", "\(error)")
            }
        }
        r.rejectUnknownKeys(valid: TrainingSpec.keys)
        guard let epochs, let batch, let evalBatch, let bptt else { return nil }
        if ModelZoo.isAWDLSTM(model), scheduleKind != "constant" && scheduleKind != "multistep" {
            r.problem("schedule", "the AWD-LSTM recipe divides the lr at fixed epochs (main.py --when): use \"multistep\" or \"constant\", not \"\(scheduleKind)\"")
        }
        guard var spec = try? TrainingSpec(epochs: epochs, batchSize: batch, evalBatchSize: evalBatch, seeds: seeds,
                                           scheduleKind: scheduleKind, scheduleOptions: scheduleOptions, bptt: bptt,
                                           clipNorm: (clip ?? 0) > 0 ? clip : nil) else { return nil }  // the schedule's problem is reported above
        spec.nonmono = nonmono
        spec.logInterval = logInterval
        return spec
    }

    private static func readOptimizers(_ list: [Any]?, sink: JSONObjectReader.ProblemSink) -> [OptimizerSpec] {
        guard let list else { return [] }
        if list.isEmpty { sink.add("optimizers", "must list at least one optimizer") }
        var specs: [OptimizerSpec] = []
        for (i, item) in list.enumerated() {
            let path = "optimizers[\(i)]"
            guard let dict = item as? [String: Any] else {
                sink.add(path, "must be an object like {\"name\": \"adai\", \"lr\": 1, \"weightDecay\": 5e-4}, got \(describe(item))")
                continue
            }
            let r = JSONObjectReader(dict, path: path, sink: sink)
            let name = r.string("name") ?? ""
            var options: OptimizerOptions = [:]
            for (key, value) in dict where key != "name" {
                guard let option = optionValue(value) else {
                    r.problem(key, "must be a number, true/false or a list of numbers, got \(describe(value))")
                    continue
                }
                options[key] = option
            }
            let problemsBefore = sink.problems.count
            guard !name.isEmpty, sink.problems.count == problemsBefore else { continue }
            guard optimizerNames.contains(name) else {
                let guess = closestName(to: name, in: optimizerNames).map { "; did you mean \"\($0)\"?" } ?? ""
                r.problem("name", "unknown optimizer \"\(name)\"\(guess) (known: \(optimizerNames.joined(separator: ", ")))")
                continue
            }
            // The Optim module validates every key and value of the entry (the same reader the optimizer
            // uses when it is built), with the reference code's defaults.
            do {
                try validateOptimizerOptions(name, options)
                if options["lr"] == nil, let lr = try defaultLearningRate(name) { options["lr"] = .number(lr) }
                if options["weightDecay"] == nil { options["weightDecay"] = .number(0) }
                specs.append(OptimizerSpec(name: name, options: options))
            } catch {
                sink.add(path, "\(error)")
            }
        }
        return specs
    }

    /// `lr`, `weightDecay` (and any other optimizer key) are a list for every optimizer or an object of
    /// lists by optimizer name; an optimizer's name as a key holds lists that override the global ones for it;
    /// `seeds` is a list, `optimizers` a list of names, `slurm` the job-array settings. `adai-bench sweep`
    /// expands them (Sweep.swift); here only their shapes are checked.
    private static func validateSweep(_ s: JSONObjectReader) {
        func isNumberList(_ value: Any) -> Bool {
            guard let values = value as? [Any], !values.isEmpty else { return false }
            return values.allSatisfy { numericValue($0) != nil && !isBoolean($0) }
        }
        for (key, value) in s.object.sorted(by: { $0.key < $1.key }) {
            switch key {
            case "seeds":
                guard let list = value as? [Any], !list.isEmpty,
                      list.allSatisfy({ numericValue($0).map { $0 >= 0 && $0 == $0.rounded() } ?? false }) else {
                    s.problem(key, "must be a non-empty list of whole numbers >= 0, got \(describe(value))")
                    continue
                }
            case "optimizers":
                guard let names = value as? [Any], !names.isEmpty, names.allSatisfy({ $0 is String }) else {
                    s.problem(key, "must be a non-empty list of optimizer names, e.g. [\"adai\", \"sgdm\"], got \(describe(value))")
                    continue
                }
                for case let name as String in names where !optimizerNames.contains(name) {
                    let guess = closestName(to: name, in: optimizerNames).map { "; did you mean \"\($0)\"?" } ?? ""
                    s.problem(key, "unknown optimizer \"\(name)\"\(guess)")
                }
            case "slurm":
                guard let settings = s.object(key, required: true) else { continue }
                _ = settings.integer("cpusPerTask", default: 1, minimum: 1)
                _ = settings.integer("concurrency", default: 1, minimum: 1)
                for name in ["mem", "time", "partition", "account"] { _ = settings.string(name, default: "") }
                settings.markConsumed(["options"])
                if settings.has("options") {
                    if !((settings.object["options"] as? [Any])?.allSatisfy({ $0 is String }) ?? false) {
                        settings.problem("options", "must be a list of sbatch options such as [\"--qos=long\"], got \(describe(settings.object["options"]!))")
                    }
                }
                settings.rejectUnknownKeys(valid: SlurmSettings.keys)
            default:
                if let byOptimizer = value as? [String: Any] {
                    let overridesForOne = optimizerNames.contains(key)
                    for (name, list) in byOptimizer.sorted(by: { $0.key < $1.key }) {
                        let path = "\(s.keyPath(key)).\(name)"
                        if !overridesForOne && !optimizerNames.contains(name) {
                            let guess = closestName(to: name, in: optimizerNames).map { "; did you mean \"\($0)\"?" } ?? ""
                            s.sink.add(path, "unknown optimizer \"\(name)\"\(guess)")
                        }
                        if overridesForOne && (name == "seeds" || name == "optimizers" || name == "slurm") {
                            s.sink.add(path, "\"\(name)\" belongs at the top of \"sweep\", not under an optimizer")
                        } else if !isNumberList(list) {
                            s.sink.add(path, "must be a non-empty list of numbers, got \(describe(list))")
                        }
                    }
                } else if !isNumberList(value) {
                    s.problem(key, "must be a non-empty list of numbers or an object of such lists by optimizer name, got \(describe(value))")
                }
            }
        }
        s.markConsumed(Array(s.object.keys))
    }
}

/// A JSON value as an optimizer or schedule setting.
func optionValue(_ value: Any) -> OptionValue? {
    if isBoolean(value) { return .bool(value as! Bool) }
    if let x = numericValue(value) { return .number(x) }
    if let list = value as? [Any] {
        let numbers = list.compactMap(numericValue)
        return numbers.count == list.count ? .list(numbers) : nil
    }
    return nil
}

func jsonErrorDetail(_ error: Error) -> String {
    let ns = error as NSError
    return (ns.userInfo[NSDebugDescriptionErrorKey] as? String) ?? ns.localizedDescription
}

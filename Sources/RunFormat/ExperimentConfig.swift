import Datasets
import Foundation
import NN
import Optim

// The experiment config, one typed shape for everything that reads or writes it: the config files under
// configs/ (read and checked by Experiments' `ExperimentConfig.load`, which reports every problem with its
// JSON path), the configs `reproduce` writes (encoded from values), and each run's resolved settings in
// run.json (`RunConfig`, embedded in `RunRecord`). Decoding fills an absent key with the default the
// config reader gives it, so run.json files written before a key existed still read.

/// The data set of an experiment.
public struct DatasetSpec: Equatable, Sendable {
    public typealias Kind = DatasetKind
    public var kind: Kind
    /// Directory holding the data (or the folder the official archive unpacks into).
    public var dir: String
    /// Use the CIFAR files present even if some are missing (a warning names them).
    public var allowPartial: Bool = false
    /// CIFAR-100 labels: "fine" (100 classes) or "coarse" (20).
    public var labels: String = "fine"
    /// Per-channel normalisation; nil means the data set's defaults.
    public var mean: [Float]?, std: [Float]?
    /// When set, synthetic data in the real format is generated under the results directory and used instead of `dir`.
    public var synthetic: SyntheticSpec?
    /// CIFAR: the last this many training images are held out of training and evaluated each epoch as the
    /// validation split (`valid_loss`, `valid_error`); 0 trains on all of them.
    public var validation: Int = 0

    public struct SyntheticSpec: Codable, Equatable, Sendable {
        public var train: Int, test: Int, seed: Int
        public init(train: Int, test: Int, seed: Int) { self.train = train; self.test = test; self.seed = seed }
    }

    public init(kind: Kind, dir: String? = nil, allowPartial: Bool = false, labels: String = "fine", mean: [Float]? = nil,
                std: [Float]? = nil, synthetic: SyntheticSpec? = nil, validation: Int = 0) {
        self.kind = kind; self.dir = dir ?? kind.defaultDirectory; self.allowPartial = allowPartial; self.labels = labels
        self.mean = mean; self.std = std; self.synthetic = synthetic; self.validation = validation
    }

    public enum CodingKeys: String, CodingKey, CaseIterable {
        case name, dir, allowPartial, labels, mean, std, synthetic, validation
    }
    /// The keys of a config's `dataset` object.
    public static let keys = CodingKeys.allCases.map(\.rawValue)
}

public struct ModelSpec: Equatable, Sendable {
    public var name: String
    /// Dropout probability (GoogLeNet's head, the LSTM); nil means the model's default.
    public var dropout: Double?
    /// GoogLeNet: reproduce the reference's BatchNorm2d(n, n) (eps = n) in the 5×5 branch.
    public var googLeNetEpsQuirk: Bool = true
    /// LSTM: tie the decoder weight to the embedding.
    public var tiedWeights: Bool = false
    /// AWD-LSTM: the weight drop, the authors' behaviour (default) or a correct one.
    public var weightDrop: AWDLSTMWeightDrop = .authors

    public init(name: String, dropout: Double? = nil, googLeNetEpsQuirk: Bool = true, tiedWeights: Bool = false,
                weightDrop: AWDLSTMWeightDrop = .authors) {
        self.name = name; self.dropout = dropout; self.googLeNetEpsQuirk = googLeNetEpsQuirk; self.tiedWeights = tiedWeights
        self.weightDrop = weightDrop
    }

    public enum CodingKeys: String, CodingKey, CaseIterable { case name, dropout, googLeNetEpsQuirk, tiedWeights, weightDrop }
    /// The keys of a config's `model` object.
    public static let keys = CodingKeys.allCases.map(\.rawValue)

    /// The model's configuration for the zoo, with the classes (image models) or vocabulary (language models)
    /// that the data decide: training and the analyses build their models through this one function.
    public func configuration(classes: Int = 10, vocabulary: Int = 10_000) -> ModelConfiguration {
        ModelConfiguration(name: name, classes: classes, vocabulary: vocabulary, dropout: dropout.map(Float.init),
                           googLeNetEpsQuirk: googLeNetEpsQuirk, tiedWeights: tiedWeights, weightDrop: weightDrop)
    }
}

public struct TrainingSpec: Equatable, Sendable {
    public var epochs: Int
    public var batchSize: Int
    public var evalBatchSize: Int
    public var seeds: [Int] = [1]
    public private(set) var schedule: LRSchedule = .constant
    /// The schedule as written (kind and settings), for run.json.
    public private(set) var scheduleOptions: OptimizerOptions = [:]
    public private(set) var scheduleKind: String = "constant"
    /// Language models: truncated-BPTT window length.
    public var bptt: Int = 35
    /// Global gradient-norm clip; nil means none.
    public var clipNorm: Double?
    /// AWD-LSTM recipe (main.py `--nonmono`): SGD switches to ASGD when the monitored loss is above the
    /// best of all but the last `nonmono` epochs.
    public var nonmono: Int = 5
    /// AWD-LSTM recipe (main.py `--log-interval`): the logged train loss is that of the epoch's last
    /// complete window of this many batches.
    public var logInterval: Int = 200

    public init(epochs: Int, batchSize: Int, evalBatchSize: Int, seeds: [Int] = [1], scheduleKind: String = "constant",
                scheduleOptions: OptimizerOptions = [:], bptt: Int = 35, clipNorm: Double? = nil) throws {
        self.epochs = epochs; self.batchSize = batchSize; self.evalBatchSize = evalBatchSize; self.seeds = seeds
        try setSchedule(scheduleKind, scheduleOptions)
        self.bptt = bptt; self.clipNorm = clipNorm
    }

    /// Sets the schedule as written (`kind` and its settings) and the schedule they make, together, so the
    /// two never disagree.
    public mutating func setSchedule(_ kind: String, _ options: OptimizerOptions) throws {
        schedule = try LRSchedule(name: kind, options: options)
        scheduleKind = kind
        scheduleOptions = options
    }

    /// Batch sizes when the config gives none: the LSTM's 20 and 10 sequences, the image models' 128 and 500 images.
    public static func defaultBatchSize(languageModel: Bool) -> Int { languageModel ? 20 : 128 }
    public static func defaultEvalBatchSize(languageModel: Bool) -> Int { languageModel ? 10 : 500 }
    /// The LSTM recipe clips the gradient norm at 0.25 unless the config says otherwise.
    public static func defaultClipNorm(languageModel: Bool) -> Double { languageModel ? 0.25 : 0 }

    /// `seed` is run.json's form: a run's resolved config has its one seed.
    public enum CodingKeys: String, CodingKey, CaseIterable {
        case epochs, batchSize, evalBatchSize, seeds, schedule, bptt, clipNorm, nonmono, logInterval, seed
    }
    /// The keys of a config's `training` object.
    public static let keys = CodingKeys.allCases.map(\.rawValue).filter { $0 != "seed" }
}

public struct OptimizerSpec: Equatable, Sendable {
    public var name: String
    /// Every setting of the entry, `lr` and `weightDecay` included, as the Optim module reads them.
    public var options: OptimizerOptions
    public var lr: Double { if case .number(let x) = options["lr"] { return x }; return .nan }
    public var weightDecay: Double { if case .number(let x) = options["weightDecay"] { return x }; return 0 }
    public init(name: String, options: OptimizerOptions) { self.name = name; self.options = options }
}

/// Job-array settings from the config's `sweep.slurm`; the `sweep --backend slurm` flags replace them.
public struct SlurmSettings: Codable, Equatable, Sendable {
    public var cpusPerTask: Int?
    public var mem: String?
    public var time: String?
    public var partition: String?
    public var account: String?
    /// The `%P` of `--array=…%P`: how many tasks may run at once.
    public var concurrency: Int?
    /// Further `#SBATCH` options, written as given (`--qos=long`).
    public var options: [String] = []

    public enum CodingKeys: String, CodingKey, CaseIterable { case cpusPerTask, mem, time, partition, account, concurrency, options }
    public static let keys = CodingKeys.allCases.map(\.rawValue)
    public init() {}

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        cpusPerTask = try c.decodeIfPresent(Int.self, forKey: .cpusPerTask)
        mem = try c.decodeIfPresent(String.self, forKey: .mem)
        time = try c.decodeIfPresent(String.self, forKey: .time)
        partition = try c.decodeIfPresent(String.self, forKey: .partition)
        account = try c.decodeIfPresent(String.self, forKey: .account)
        concurrency = try c.decodeIfPresent(Int.self, forKey: .concurrency)
        options = try c.decodeIfPresent([String].self, forKey: .options) ?? []
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(cpusPerTask, forKey: .cpusPerTask)
        try c.encodeIfPresent(mem, forKey: .mem)
        try c.encodeIfPresent(time, forKey: .time)
        try c.encodeIfPresent(partition, forKey: .partition)
        try c.encodeIfPresent(account, forKey: .account)
        try c.encodeIfPresent(concurrency, forKey: .concurrency)
        if !options.isEmpty { try c.encode(options, forKey: .options) }
    }
}

/// A config's `sweep` section (docs/CONFIG.md): `seeds`, `optimizers` (which entries take part), `slurm`, and
/// for any other key (`lr`, `weightDecay`, an optimizer setting) either a list for every optimizer or lists by
/// optimizer name; a key that is an optimizer's name holds lists that override the global ones for it.
/// Which keys name optimizers is the Optim registry's to say, so `Sweep.swift` interprets `lists`.
public struct SweepSpec: Codable, Equatable, Sendable {
    public enum Lists: Codable, Equatable, Sendable {
        case values([Double])
        case byName([String: [Double]])

        public init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let values = try? c.decode([Double].self) { self = .values(values) } else {
                self = .byName(try c.decode([String: [Double]].self))
            }
        }
        public func encode(to encoder: Encoder) throws {
            var c = encoder.singleValueContainer()
            switch self {
            case .values(let values): try c.encode(values.map(JSONValue.number))
            case .byName(let lists): try c.encode(lists.mapValues { $0.map(JSONValue.number) })
            }
        }
    }

    public var seeds: [Int]?
    public var optimizers: [String]?
    public var slurm: SlurmSettings?
    public var lists: [String: Lists] = [:]

    public init(seeds: [Int]? = nil, optimizers: [String]? = nil, slurm: SlurmSettings? = nil, lists: [String: Lists] = [:]) {
        self.seeds = seeds; self.optimizers = optimizers; self.slurm = slurm; self.lists = lists
    }

    /// The keys with a fixed meaning; every other key is a swept setting or an optimizer's overrides.
    public static let reserved: Set<String> = ["seeds", "optimizers", "slurm"]

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: AnyKey.self)
        for key in c.allKeys {
            switch key.stringValue {
            case "seeds": seeds = try c.decode([Double].self, forKey: key).map { Int($0) }  // 1 or 1.0 alike, as the reader accepts
            case "optimizers": optimizers = try c.decode([String].self, forKey: key)
            case "slurm": slurm = try c.decode(SlurmSettings.self, forKey: key)
            default: lists[key.stringValue] = try c.decode(Lists.self, forKey: key)
            }
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: AnyKey.self)
        try c.encodeIfPresent(seeds, forKey: AnyKey("seeds"))
        try c.encodeIfPresent(optimizers, forKey: AnyKey("optimizers"))
        try c.encodeIfPresent(slurm, forKey: AnyKey("slurm"))
        for (key, value) in lists { try c.encode(value, forKey: AnyKey(key)) }
    }
}

/// A validated experiment: a data set, a model, a schedule and a list of optimizers.
public struct ExperimentConfig: Equatable, Sendable {
    public var name: String
    public var notes: String?
    public var dataset: DatasetSpec
    public var model: ModelSpec
    public var training: TrainingSpec
    public var optimizers: [OptimizerSpec]
    /// The `sweep` section for `adai-bench sweep`; `train` does not use it.
    public var sweep: SweepSpec?

    public init(name: String, notes: String?, dataset: DatasetSpec, model: ModelSpec, training: TrainingSpec,
                optimizers: [OptimizerSpec], sweep: SweepSpec?) {
        self.name = name; self.notes = notes; self.dataset = dataset; self.model = model; self.training = training
        self.optimizers = optimizers; self.sweep = sweep
    }

    public enum CodingKeys: String, CodingKey, CaseIterable { case name, notes, dataset, model, training, optimizers, sweep }
    /// The keys of a config's top level.
    public static let keys = CodingKeys.allCases.map(\.rawValue)

    public var isLanguageModel: Bool { dataset.kind.isText }

    /// The run of one optimizer entry and seed, as run.json records it.
    public func runConfig(optimizer: OptimizerSpec, seed: Int) -> RunConfig {
        var training = self.training
        training.seeds = [seed]
        return RunConfig(name: name, notes: notes, dataset: dataset, model: model, training: training, optimizer: optimizer)
    }
}

/// A run's resolved settings (run.json's `config`): the experiment's with every default filled in, its one
/// optimizer entry (`optimizer`) and its one seed (`training.seed`).
public struct RunConfig: Equatable, Sendable {
    public var name: String
    public var notes: String?
    public var dataset: DatasetSpec
    public var model: ModelSpec
    public var training: TrainingSpec
    public var optimizer: OptimizerSpec
    public var seed: Int { training.seeds.first ?? 1 }

    public init(name: String, notes: String?, dataset: DatasetSpec, model: ModelSpec, training: TrainingSpec, optimizer: OptimizerSpec) {
        self.name = name; self.notes = notes; self.dataset = dataset; self.model = model; self.training = training; self.optimizer = optimizer
    }

    /// The key of its own; the others are `SharedSections`'.
    enum CodingKeys: String, CodingKey { case optimizer }
}

// MARK: - Coding

/// A key read from the data (optimizer settings, sweep lists).
struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ string: String) { stringValue = string }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

/// Which file a section is written into: a config file (what the config reader accepts) or run.json (every
/// setting the run used, the seed as `training.seed`).
enum ConfigForm { case file, run }

extension OptionValue {
    /// run.json's form: whole numbers are written without a fraction (`1`, not `1.0`).
    var json: JSONValue {
        switch self {
        case .number(let x): return .number(x)
        case .bool(let b): return .bool(b)
        case .list(let xs): return .array(xs.map(JSONValue.number))
        }
    }
}

private func encodeOptions(_ options: OptimizerOptions, name key: String?, value name: String?, to encoder: Encoder) throws {
    var c = encoder.container(keyedBy: AnyKey.self)
    if let key, let name { try c.encode(name, forKey: AnyKey(key)) }
    for (k, v) in options { try c.encode(v.json, forKey: AnyKey(k)) }
}

private func decodeOptions(from decoder: Decoder, excluding key: String) throws -> (String?, OptimizerOptions) {
    let c = try decoder.container(keyedBy: AnyKey.self)
    var options: OptimizerOptions = [:]
    var name: String?
    for k in c.allKeys {
        if k.stringValue == key { name = try c.decode(String.self, forKey: k) } else {
            options[k.stringValue] = try c.decode(OptionValue.self, forKey: k)
        }
    }
    return (name, options)
}

extension OptimizerSpec: Codable {
    public init(from decoder: Decoder) throws {
        let (name, options) = try decodeOptions(from: decoder, excluding: "name")
        guard let name else {
            throw DecodingError.keyNotFound(AnyKey("name"), .init(codingPath: decoder.codingPath, debugDescription: "an optimizer entry needs \"name\""))
        }
        self.init(name: name, options: options)
    }
    public func encode(to encoder: Encoder) throws { try encodeOptions(options, name: "name", value: name, to: encoder) }
}

extension DatasetSpec: Codable {
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let kind = try c.decode(Kind.self, forKey: .name)
        self.init(kind: kind, dir: try c.decodeIfPresent(String.self, forKey: .dir),
                  allowPartial: try c.decodeIfPresent(Bool.self, forKey: .allowPartial) ?? false,
                  labels: try c.decodeIfPresent(String.self, forKey: .labels) ?? "fine",
                  mean: try c.decodeIfPresent([Double].self, forKey: .mean)?.map(Float.init),
                  std: try c.decodeIfPresent([Double].self, forKey: .std)?.map(Float.init),
                  synthetic: try c.decodeIfPresent(SyntheticSpec.self, forKey: .synthetic),
                  validation: try c.decodeIfPresent(Int.self, forKey: .validation) ?? 0)
    }
    public func encode(to encoder: Encoder) throws { try encode(to: encoder, form: .file) }

    func encode(to encoder: Encoder, form: ConfigForm) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(kind, forKey: .name)
        if form == .run || synthetic == nil { try c.encode(dir, forKey: .dir) }
        if form == .run || allowPartial { try c.encode(allowPartial, forKey: .allowPartial) }
        if kind == .cifar100 { try c.encode(labels, forKey: .labels) }
        if let mean, let std {
            // As Double, the way run.json has always written them (the Float's exact value).
            try c.encode(mean.map { JSONValue.number(Double($0)) }, forKey: .mean)
            try c.encode(std.map { JSONValue.number(Double($0)) }, forKey: .std)
        }
        try c.encodeIfPresent(synthetic, forKey: .synthetic)
        if validation > 0 { try c.encode(validation, forKey: .validation) }
    }
}

extension ModelSpec: Codable {
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let weightDrop = try c.decodeIfPresent(String.self, forKey: .weightDrop) ?? AWDLSTMWeightDrop.authors.rawValue
        guard let drop = AWDLSTMWeightDrop(rawValue: weightDrop) else {
            throw DecodingError.dataCorruptedError(forKey: .weightDrop, in: c, debugDescription: "must be \"authors\" or \"correct\", got \"\(weightDrop)\"")
        }
        self.init(name: try c.decode(String.self, forKey: .name), dropout: try c.decodeIfPresent(Double.self, forKey: .dropout),
                  googLeNetEpsQuirk: try c.decodeIfPresent(Bool.self, forKey: .googLeNetEpsQuirk) ?? true,
                  tiedWeights: try c.decodeIfPresent(Bool.self, forKey: .tiedWeights) ?? false, weightDrop: drop)
    }
    public func encode(to encoder: Encoder) throws { try encode(to: encoder, form: .file) }

    func encode(to encoder: Encoder, form: ConfigForm) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        let awd = ModelZoo.isAWDLSTM(name)
        // The config reader refuses the AWD-LSTM's fixed settings; run.json records them all.
        if form == .run || !awd {
            try c.encode(googLeNetEpsQuirk, forKey: .googLeNetEpsQuirk)
            try c.encode(tiedWeights, forKey: .tiedWeights)
        }
        if let dropout { try c.encode(JSONValue.number(dropout), forKey: .dropout) }
        if awd { try c.encode(weightDrop.rawValue, forKey: .weightDrop) }
    }
}

extension TrainingSpec {
    /// Reads a `training` object; `model` decides which keys apply (the AWD-LSTM recipe's).
    init(from decoder: Decoder, model: String, languageModel: Bool) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        var seeds = try c.decodeIfPresent([Int].self, forKey: .seeds)
        if seeds == nil, let seed = try c.decodeIfPresent(Int.self, forKey: .seed) { seeds = [seed] }
        var kind = "constant"
        var options: OptimizerOptions = [:]
        if c.contains(.schedule) {
            let (name, settings) = try decodeOptions(from: try c.superDecoder(forKey: .schedule), excluding: "kind")
            kind = name ?? "constant"
            options = settings
        }
        let clip = try c.decodeIfPresent(Double.self, forKey: .clipNorm) ?? TrainingSpec.defaultClipNorm(languageModel: languageModel)
        do {
            try self.init(epochs: try c.decode(Int.self, forKey: .epochs),
                          batchSize: try c.decodeIfPresent(Int.self, forKey: .batchSize) ?? TrainingSpec.defaultBatchSize(languageModel: languageModel),
                          evalBatchSize: try c.decodeIfPresent(Int.self, forKey: .evalBatchSize)
                            ?? TrainingSpec.defaultEvalBatchSize(languageModel: languageModel),
                          seeds: seeds ?? [1], scheduleKind: kind, scheduleOptions: options,
                          bptt: try c.decodeIfPresent(Int.self, forKey: .bptt) ?? 35, clipNorm: clip > 0 ? clip : nil)
        } catch let error as OptimError {
            throw DecodingError.dataCorruptedError(forKey: .schedule, in: c, debugDescription: error.description)
        }
        nonmono = try c.decodeIfPresent(Int.self, forKey: .nonmono) ?? 5
        logInterval = try c.decodeIfPresent(Int.self, forKey: .logInterval) ?? 200
    }

    func encode(to encoder: Encoder, form: ConfigForm, model: String, languageModel: Bool) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(epochs, forKey: .epochs)
        try c.encode(batchSize, forKey: .batchSize)
        try c.encode(evalBatchSize, forKey: .evalBatchSize)
        if form == .run { try c.encode(seeds.first ?? 1, forKey: .seed) } else { try c.encode(seeds, forKey: .seeds) }
        try encodeOptions(scheduleOptions, name: "kind", value: scheduleKind, to: c.superEncoder(forKey: .schedule))
        if languageModel {
            try c.encode(bptt, forKey: .bptt)
            try c.encode(JSONValue.number(clipNorm ?? 0), forKey: .clipNorm)
        }
        if ModelZoo.isAWDLSTM(model) {
            try c.encode(nonmono, forKey: .nonmono)
            try c.encode(logInterval, forKey: .logInterval)
        }
    }
}

/// What an experiment's config and a run's config share (name, notes, dataset, model, training), read and written
/// in one place; `form` says which keys each file has.
private struct SharedSections {
    var name: String, notes: String?, dataset: DatasetSpec, model: ModelSpec, training: TrainingSpec

    init(name: String, notes: String?, dataset: DatasetSpec, model: ModelSpec, training: TrainingSpec) {
        self.name = name; self.notes = notes; self.dataset = dataset; self.model = model; self.training = training
    }

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: AnyKey.self)
        dataset = try c.decode(DatasetSpec.self, forKey: AnyKey("dataset"))
        model = try c.decode(ModelSpec.self, forKey: AnyKey("model"))
        name = try c.decode(String.self, forKey: AnyKey("name"))
        notes = try c.decodeIfPresent(String.self, forKey: AnyKey("notes"))
        training = try TrainingSpec(from: c.superDecoder(forKey: AnyKey("training")), model: model.name, languageModel: dataset.kind.isText)
    }

    func encode(to encoder: Encoder, form: ConfigForm) throws {
        var c = encoder.container(keyedBy: AnyKey.self)
        try c.encode(name, forKey: AnyKey("name"))
        try c.encodeIfPresent(notes, forKey: AnyKey("notes"))
        try dataset.encode(to: c.superEncoder(forKey: AnyKey("dataset")), form: form)
        try model.encode(to: c.superEncoder(forKey: AnyKey("model")), form: form)
        try training.encode(to: c.superEncoder(forKey: AnyKey("training")), form: form, model: model.name, languageModel: dataset.kind.isText)
    }
}

extension ExperimentConfig: Codable {
    public init(from decoder: Decoder) throws {
        let shared = try SharedSections(from: decoder)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(name: shared.name, notes: shared.notes, dataset: shared.dataset, model: shared.model, training: shared.training,
                  optimizers: try c.decode([OptimizerSpec].self, forKey: .optimizers),
                  sweep: try c.decodeIfPresent(SweepSpec.self, forKey: .sweep))
    }

    public func encode(to encoder: Encoder) throws {
        try SharedSections(name: name, notes: notes, dataset: dataset, model: model, training: training).encode(to: encoder, form: .file)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(optimizers, forKey: .optimizers)
        try c.encodeIfPresent(sweep, forKey: .sweep)
    }

    /// The config file's text: pretty-printed with sorted keys, as `reproduce` writes its configs.
    public func fileText() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try encoder.encode(self), as: UTF8.self) + "\n"
    }
}

extension RunConfig: Codable {
    public init(from decoder: Decoder) throws {
        let shared = try SharedSections(from: decoder)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(name: shared.name, notes: shared.notes, dataset: shared.dataset, model: shared.model, training: shared.training,
                  optimizer: try c.decode(OptimizerSpec.self, forKey: .optimizer))
    }

    public func encode(to encoder: Encoder) throws {
        try SharedSections(name: name, notes: notes, dataset: dataset, model: model, training: training).encode(to: encoder, form: .run)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(optimizer, forKey: .optimizer)
    }
}

// MARK: - The data a spec names

extension DatasetSpec {
    /// CIFAR-100's label set (`labels`); CIFAR-10 has one.
    public var labelKind: CIFARLabelKind { labels == "coarse" ? .coarse : .fine }

    /// The per-channel normalisation of the images: `mean` and `std` when both are given, else the data set's own.
    public func normalization() throws -> CIFARNormalization {
        if let mean, let std { return try CIFARNormalization(mean: mean, std: std) }
        return (kind.cifarVariant ?? .cifar10).defaultNormalization
    }

    /// One split of the CIFAR data set, as training and the analyses read it: from `directory` (the synthetic data's
    /// folder, say) or else `dir`, with `allowPartial` unless it is given. Text has no images: an error.
    public func readCIFAR(_ split: CIFARSplit, directory: String? = nil, allowPartial: Bool? = nil,
                          warn: @escaping (String) -> Void = { _ in }) throws -> CIFARDataset {
        guard let variant = kind.cifarVariant else {
            throw DatasetError.invalidArgument("\(kind.rawValue) is a text corpus, not a set of images")
        }
        return try CIFARDataset(variant: variant, split: split, directory: directory ?? dir, labelKind: labelKind,
                                allowPartial: allowPartial ?? self.allowPartial, warn: warn)
    }
}

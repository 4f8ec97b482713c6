import Datasets
import Engine
import Foundation
import NN
import RunFormat

/// Where the model for `hessian` and `sharpness` comes from, and the fixed training batches
/// the loss is measured on.
public struct ModelSource {
    public var model: Model
    public var modelName: String
    public var description: String
    /// Training-set images and labels (the first `batches × batchSize` examples, in order, no augmentation).
    public var dataset: CIFARDataset
    public var normalization: CIFARNormalization

    /// The first `count` batches of `batchSize` examples.
    public func batches(count: Int, batchSize: Int) throws -> [GradientBatch] {
        guard count >= 1 else { throw AnalysisError("--batches must be >= 1, got \(count)") }
        guard batchSize >= 1 else { throw AnalysisError("--batch-size must be >= 1, got \(batchSize)") }
        guard count * batchSize <= dataset.count else {
            throw AnalysisError("--batches \(count) × --batch-size \(batchSize) = \(count * batchSize) examples, but the training set has \(dataset.count); lower one of them")
        }
        return (0..<count).map { b in
            let indices = Array((b * batchSize)..<((b + 1) * batchSize))
            return .images(dataset.images(at: indices, normalization: normalization), labels: dataset.labels(at: indices))
        }
    }

    /// The command-line choice: exactly one of a run directory or a weights file (which needs the
    /// model, dataset and data directory named).
    public static func resolve(run: String?, weights: String?, model: String?, dataset: String?,
                               dataDirectory: String?) throws -> ModelSource {
        switch (run, weights) {
        case (let run?, nil):
            guard model == nil, dataset == nil, dataDirectory == nil else {
                throw AnalysisError("--run reads the model and dataset from run.json; drop --model, --dataset and --data-dir")
            }
            return try ModelSource.run(directory: run)
        case (nil, let weights?):
            guard let model, let dataset, let dataDirectory else {
                throw AnalysisError("--weights needs --model, --dataset and --data-dir")
            }
            return try ModelSource.make(weights: weights, modelName: model, dataset: dataset, dataDirectory: dataDirectory)
        default:
            throw AnalysisError("give exactly one of --run DIR or --weights FILE")
        }
    }

    /// A trained run: `run.json` names the dataset and model, `checkpoint/trainer.json` the generation
    /// of `checkpoint/model-g<N>.safetensors`. Synthetic data is read from the experiment's
    /// `synthetic-data` folder (two levels above the run directory).
    public static func run(directory: String) throws -> ModelSource {
        let run = RunDirectory(directory)
        guard let record = try run.readRecord() else {
            throw AnalysisError("\(run.runJSON) not found; --run takes a run directory written by `adai-bench train` (results/<experiment>/<optimizer>-lr…/seed-N)")
        }
        guard let config = record.config else {
            throw AnalysisError("\(run.runJSON) lacks config.dataset.name or config.model.name; was it written by `adai-bench train`?")
        }
        guard let state = try? run.readTrainerState() else {
            throw AnalysisError("\(run.trainerJSON) is missing or unreadable; the run has no checkpoint to analyse (train at least one epoch)")
        }
        var dataDirectory = config.dataset.dir
        if config.dataset.synthetic != nil {
            let experiment = ((directory as NSString).appendingPathComponent("../..") as NSString).standardizingPath
            dataDirectory = ExperimentDirectory(experiment).syntheticData
        }
        var normalization: CIFARNormalization?
        if let mean = config.dataset.mean, let std = config.dataset.std {
            normalization = try CIFARNormalization(mean: mean, std: std)
        }
        return try make(weights: run.modelFile(generation: state.generation), model: config.model,
                        dataset: config.dataset.kind.rawValue, dataDirectory: dataDirectory, labels: config.dataset.labels,
                        normalization: normalization)
    }

    /// A safetensors file of model weights with the model (its defaults) and data named explicitly.
    public static func make(weights: String, modelName: String, dataset: String, dataDirectory: String,
                            labels: String = "fine") throws -> ModelSource {
        try make(weights: weights, model: ModelSpec(name: modelName), dataset: dataset, dataDirectory: dataDirectory, labels: labels)
    }

    /// A safetensors file of model weights with the model and data named explicitly.
    public static func make(weights: String, model spec: ModelSpec, dataset datasetName: String, dataDirectory: String,
                            labels: String = "fine", normalization: CIFARNormalization? = nil) throws -> ModelSource {
        let modelName = spec.name
        guard let variant = CIFARVariant(rawValue: datasetName) else {
            throw AnalysisError("dataset '\(datasetName)' is not supported here; hessian and sharpness analyse image classifiers on cifar10 or cifar100")
        }
        guard !ModelZoo.isLanguageModel(modelName) else {
            throw AnalysisError("model '\(modelName)' is a language model; hessian and sharpness analyse image classifiers (cifar10, cifar100)")
        }
        guard labels == "fine" || labels == "coarse" else { throw AnalysisError("labels must be fine or coarse, got '\(labels)'") }
        let kind: CIFARLabelKind = labels == "coarse" ? .coarse : .fine
        let configuration = spec.configuration(classes: variant.classCount(kind))
        let model: Model
        do {
            model = try ModelZoo.makeUninitialized(configuration)
            guard FileManager.default.fileExists(atPath: weights) else {
                throw AnalysisError("weights file \(weights) not found")
            }
            try model.module.loadState(contentsOf: URL(fileURLWithPath: weights), modelDescription: configuration.description)
        } catch let error as AnalysisError {
            throw error
        } catch {
            throw AnalysisError("cannot load \(weights) into \(configuration.description): \(error)")
        }
        let train: CIFARDataset
        do {
            train = try CIFARDataset(variant: variant, split: .train, directory: dataDirectory, labelKind: kind,
                                     allowPartial: true, warn: { _ in })
        } catch {
            throw AnalysisError("cannot read the \(variant.displayName) training set: \(error)")
        }
        return ModelSource(model: model, modelName: modelName, description: configuration.description, dataset: train,
                           normalization: normalization ?? variant.defaultNormalization)
    }
}

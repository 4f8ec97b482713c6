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
        var dataset = config.dataset
        dataset.dir = dataDirectory
        return try make(weights: run.modelFile(generation: state.generation), model: config.model, dataset: dataset)
    }

    /// A safetensors file of model weights with the model (its defaults) and data named explicitly.
    public static func make(weights: String, modelName: String, dataset name: String, dataDirectory: String,
                            labels: String = "fine") throws -> ModelSource {
        guard let kind = DatasetKind(rawValue: name), !kind.isText else {
            throw AnalysisError("dataset '\(name)' is not supported here; hessian and sharpness analyse image classifiers on cifar10 or cifar100")
        }
        return try make(weights: weights, model: ModelSpec(name: modelName), dataset: DatasetSpec(kind: kind, dir: dataDirectory, labels: labels))
    }

    /// A safetensors file of model weights with the model and the data set (its training images, in order, from
    /// `dataset.dir`) as a run's config names them; the model is built as training builds it (`ModelSpec.configuration`).
    public static func make(weights: String, model spec: ModelSpec, dataset: DatasetSpec) throws -> ModelSource {
        guard let variant = dataset.kind.cifarVariant else {
            throw AnalysisError("dataset '\(dataset.kind.rawValue)' is not supported here; hessian and sharpness analyse image classifiers on cifar10 or cifar100")
        }
        guard !ModelZoo.isLanguageModel(spec.name) else {
            throw AnalysisError("model '\(spec.name)' is a language model; hessian and sharpness analyse image classifiers (cifar10, cifar100)")
        }
        guard dataset.labels == "fine" || dataset.labels == "coarse" else { throw AnalysisError("labels must be fine or coarse, got '\(dataset.labels)'") }
        let configuration = spec.configuration(classes: variant.classCount(dataset.labelKind))
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
            train = try dataset.readCIFAR(.train, allowPartial: true)
        } catch {
            throw AnalysisError("cannot read the \(variant.displayName) training set: \(error)")
        }
        return ModelSource(model: model, modelName: spec.name, description: configuration.description, dataset: train,
                           normalization: try dataset.normalization())
    }
}

import Datasets
import Engine
import Foundation
import RunFormat

/// This machine's time for one training step of an experiment's model at its batch size, measured on
/// synthetic data in the real format (no run of the grid is trained).
public struct StepCalibration {
    public let model: String
    public let batchSize: Int
    public let threads: Int
    public let steps: Int
    public let secondsPerStep: Double
}

/// Time and CPU-hours of a grid, from a calibration.
public struct SweepEstimate {
    public let stepsPerEpoch: Int
    /// Training examples (images or tokens) and evaluation examples per epoch.
    public let trainItems: Int, evaluationItems: Int
    public let secondsPerEpoch: Double
    /// Wall-clock seconds of the runs that are not done, on `threads` threads, and the same as CPU-hours.
    public let secondsLeft: Double, secondsTotal: Double
    public let threads: Int
    public var cpuHoursLeft: Double { secondsLeft * Double(threads) / 3600 }
    public var cpuHoursTotal: Double { secondsTotal * Double(threads) / 3600 }
}

extension SweepGrid {
    /// Times `steps` training steps (after one warm-up step) of the grid's model with its first optimizer.
    public func calibrate(steps: Int, scratch: String) throws -> StepCalibration {
        guard steps >= 1 else { throw SweepError("--calibration-steps must be at least 1, got \(steps)") }
        var config = self.config
        let c = config.training
        // Enough synthetic data for steps + 1 batches, written under `scratch`.
        switch config.dataset.kind {
        case .cifar10, .cifar100:
            config.dataset.synthetic = .init(train: c.batchSize * (steps + 1), test: 10, seed: 0)
        case .ptb:
            let lines = max(200, c.batchSize * c.bptt * (steps + 2) / 4)
            config.dataset.synthetic = .init(train: lines, test: 20, seed: 0)
            // The real vocabulary (10,000 words) sets the cost of the softmax.
            try SyntheticData.writePTB(trainLines: lines, testLines: 20, seed: 0, vocabularySize: 10_000,
                                       directory: ExperimentDirectory("\(scratch)/\(config.name)").syntheticData)
        }
        config.dataset.mean = nil
        config.dataset.std = nil
        // The timed steps are training steps; the few synthetic images hold no validation split.
        config.dataset.validation = 0
        var options = TrainOptions()
        options.results = scratch
        options.log = { _ in }
        options.liveProgress = false
        let runner = ExperimentRunner(config: config, options: options)
        try FileManager.default.createDirectory(atPath: runner.experimentDirectory, withIntermediateDirectories: true)
        let data = try runner.loadData()
        let first = runs[0]
        let run = RunSpec(experiment: config, optimizer: first.optimizer, seed: first.seed)
        let trainer = try RunTrainer(run: run, data: data, options: options, experimentDirectory: runner.experimentDirectory, attempts: [])
        guard trainer.task.stepsPerEpoch >= steps + 1 else {
            throw SweepError("calibration: the synthetic data gave \(trainer.task.stepsPerEpoch) steps, fewer than the \(steps + 1) needed; use fewer --calibration-steps")
        }
        trainer.task.beginEpoch(0, fromStep: 0)
        _ = trainer.task.trainStep(epoch: 0, step: 0)
        let start = DispatchTime.now().uptimeNanoseconds
        for step in 1...steps { _ = trainer.task.trainStep(epoch: 0, step: step) }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return StepCalibration(model: config.model.name, batchSize: c.batchSize, threads: Parallel.threadCount, steps: steps,
                               secondsPerStep: seconds / Double(steps))
    }

    /// The grid's time from a calibration: per epoch, the training steps (at most `maxSteps`) plus an
    /// evaluation counted as a third of a training step per example (a forward pass without the backward).
    /// Data sizes are the real sets' (CIFAR 50,000/10,000 images; PTB 929,589/73,760/82,430 tokens) or
    /// the synthetic spec's.
    public func estimate(_ calibration: StepCalibration, states: [SweepRunState], maxSteps: Int?) -> SweepEstimate {
        let c = config.training
        let trainItems: Int, evaluationItems: Int, itemsPerStep: Int, steps: Int
        switch config.dataset.kind {
        case .cifar10, .cifar100:
            // A partial copy of the data (allowPartial) trains on the records its files hold.
            let present = config.dataset.synthetic == nil && config.dataset.allowPartial ? cifarRecordsPresent() : nil
            // The validation split (dataset.validation) moves from training to evaluation.
            let validation = config.dataset.validation
            trainItems = max(1, (config.dataset.synthetic?.train ?? present?.train ?? 50_000) - validation)
            evaluationItems = (config.dataset.synthetic?.test ?? present?.test ?? 10_000) + validation
            itemsPerStep = c.batchSize
            steps = (trainItems + c.batchSize - 1) / c.batchSize
        case .ptb:
            // Synthetic sentences average about 12 tokens with their <eos>.
            trainItems = config.dataset.synthetic.map { $0.train * 12 } ?? 929_589
            evaluationItems = config.dataset.synthetic.map { $0.test * 24 } ?? (73_760 + 82_430)
            itemsPerStep = c.batchSize * c.bptt
            steps = max(1, (trainItems / c.batchSize - 1 + c.bptt - 1) / c.bptt)
        }
        let stepsPerEpoch = min(steps, maxSteps ?? Int.max)
        let perItem = calibration.secondsPerStep / Double(itemsPerStep)
        let epochSeconds = Double(stepsPerEpoch) * calibration.secondsPerStep + Double(evaluationItems) * perItem / 3
        var left = 0.0
        for state in states {
            switch state {
            case .done: continue
            case .left(let epochs): left += Double(max(0, c.epochs - epochs)) * epochSeconds
            default: left += Double(c.epochs) * epochSeconds
            }
        }
        return SweepEstimate(stepsPerEpoch: stepsPerEpoch, trainItems: trainItems, evaluationItems: evaluationItems,
                             secondsPerEpoch: epochSeconds, secondsLeft: left,
                             secondsTotal: Double(runs.count * c.epochs) * epochSeconds, threads: calibration.threads)
    }
}

extension SweepGrid {
    /// Training and test records in the CIFAR files present under the dataset directory (nil when none is there).
    public func cifarRecordsPresent() -> (train: Int, test: Int)? {
        let variant = config.dataset.kind.cifarVariant ?? .cifar10
        func records(_ split: CIFARSplit) -> Int {
            variant.files(split).compactMap { try? CIFARBinaryReader.recordCount(path: "\(config.dataset.dir)/\($0)", variant: variant) }
                .reduce(0, +)
        }
        let train = records(.train), test = records(.test)
        return train > 0 ? (train, max(test, 1)) : nil
    }
}

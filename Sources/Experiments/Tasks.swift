import Datasets
import Engine
import Foundation
import NN
import Optim
import RunFormat

/// What one kind of training (images or language) does in a step and at evaluation; the
/// epoch loop, checkpoints and bookkeeping are the trainer's.
protocol TrainingTask: AnyObject {
    var columns: [String] { get }
    var stepsPerEpoch: Int { get }
    /// Prepares the epoch's batches from `step` on (a resumed epoch continues mid-way).
    func beginEpoch(_ epoch: Int, fromStep step: Int)
    /// One optimization step: (mean loss, errors, examples or tokens).
    func trainStep(epoch: Int, step: Int) -> (loss: Double, errors: Double, count: Double)
    /// The evaluation columns of the metrics row (test loss and error, or valid/test loss and ppl).
    func evaluate() -> [Double]
    /// The training metrics from the epoch's running sums.
    func trainColumns(lossSum: Double, errorSum: Double, count: Double) -> [Double]
    /// State carried between steps that a mid-epoch checkpoint must keep (the LSTM's hidden state).
    var carriedState: [String: Tensor] { get set }
    /// The optimizer that takes the next step (the AWD recipe replaces SGD by ASGD).
    var optimizer: any Optimizer { get }
    /// The steps of `epoch` (`stepsPerEpoch` unless the task draws them per epoch).
    func stepCount(epoch: Int) -> Int
    /// Sets the lr of every group for `epoch` (0-based).
    func setLearningRates(_ schedule: LRSchedule, epoch: Int)
    /// Called after the epoch's evaluation, before its checkpoint; may change the optimizer. Returns a line to log.
    func endEpoch(_ epoch: Int, evaluation: [Double]) throws -> String?
    /// Task state that goes into trainer.json (the AWD recipe's); nil for none.
    var recipeState: RecipeState? { get }
    /// Restores `recipeState` from a checkpoint, before the optimizer's state is loaded.
    func restore(recipe: RecipeState?) throws
}

extension TrainingTask {
    func stepCount(epoch: Int) -> Int { stepsPerEpoch }
    func setLearningRates(_ schedule: LRSchedule, epoch: Int) { optimizer.setLearningRates(schedule, epoch: epoch) }
    func endEpoch(_ epoch: Int, evaluation: [Double]) throws -> String? { nil }
    var recipeState: RecipeState? { nil }
    func restore(recipe: RecipeState?) throws {
        if recipe != nil { throw TrainError("the checkpoint holds an AWD-LSTM recipe state, but this run is not an AWD-LSTM run; it belongs to another run") }
    }
}

/// The data an experiment trains on, loaded once for all of its runs.
enum PreparedData {
    case images(train: CIFARDataset, validation: CIFARDataset?, test: CIFARDataset, normalization: CIFARNormalization)
    case text(PTBCorpus)
}

/// Image classification: shuffled, augmented CIFAR batches; cross-entropy; validation (when held out) and test error in percent.
final class ImageClassificationTask: TrainingTask {
    let model: Layer, optimizer: any Optimizer
    let batches: CIFARBatches, validationBatches: CIFARBatches?, testBatches: CIFARBatches
    let seed: Int
    private var iterator: Prefetcher<ImageBatch>?
    var carriedState: [String: Tensor] = [:]

    init(model: Layer, optimizer: any Optimizer, train: CIFARDataset, validation: CIFARDataset? = nil, test: CIFARDataset,
         normalization: CIFARNormalization, batchSize: Int, evalBatchSize: Int, seed: Int) throws {
        self.model = model
        self.optimizer = optimizer
        self.seed = seed
        batches = try CIFARBatches(dataset: train, batchSize: batchSize, training: true, seed: UInt64(seed), normalization: normalization)
        validationBatches = try validation.map {
            try CIFARBatches(dataset: $0, batchSize: evalBatchSize, training: false, seed: 0, normalization: normalization)
        }
        testBatches = try CIFARBatches(dataset: test, batchSize: evalBatchSize, training: false, seed: 0, normalization: normalization)
    }

    var columns: [String] { validationBatches == nil ? MetricsTable.classificationColumns : MetricsTable.classificationValidationColumns }
    var stepsPerEpoch: Int { batches.batchCount }

    func beginEpoch(_ epoch: Int, fromStep step: Int) {
        let order = batches.order(epoch: epoch)
        let batches = self.batches
        iterator = Prefetcher(count: max(0, stepsPerEpoch - step)) { i in
            batches.batch(epoch: epoch, index: step + i, order: order)
        }
    }

    func trainStep(epoch: Int, step: Int) -> (loss: Double, errors: Double, count: Double) {
        guard let batch = iterator?.next() else { preconditionFailure("no batch \(step) in epoch \(epoch)") }
        var context = ForwardContext(training: true,
                                     generator: RandomGenerator(seed: UInt64(seed)).fork("dropout").fork(epoch).fork(step))
        let tape = Tape()
        var logits: Tensor?
        let loss = tape.record { () -> Variable in
            let out = model.forward(Variable(batch.images), &context)
            logits = out.value
            return crossEntropy(out, labels: batch.labels)
        }
        let value = Double(loss.value.scalarValue)
        guard value.isFinite else {
            tape.reset()
            return (value, 0, Double(batch.labels.count))
        }
        tape.backward(from: loss)
        optimizer.step()
        model.zeroGradients()
        return (value, Double(countErrors(logits!, batch.labels)), Double(batch.labels.count))
    }

    func evaluate() -> [Double] {
        (validationBatches.map { evaluate($0) } ?? []) + evaluate(testBatches)
    }

    /// Mean loss and error in percent over one evaluation set.
    private func evaluate(_ set: CIFARBatches) -> [Double] {
        var lossSum = 0.0, errors = 0, count = 0
        var context = ForwardContext(training: false)
        for batch in set.epoch(0) {
            let out = Tape.withoutGradients { model.forward(Variable(batch.images), &context) }
            let loss = Tape.withoutGradients { crossEntropy(out, labels: batch.labels) }
            lossSum += Double(loss.value.scalarValue) * Double(batch.labels.count)
            errors += countErrors(out.value, batch.labels)
            count += batch.labels.count
        }
        return [lossSum / Double(max(count, 1)), 100 * Double(errors) / Double(max(count, 1))]
    }

    func trainColumns(lossSum: Double, errorSum: Double, count: Double) -> [Double] {
        [lossSum / max(count, 1), 100 * errorSum / max(count, 1)]
    }
}

/// Number of rows of `logits` [B, C] whose arg-max is not the label.
func countErrors(_ logits: Tensor, _ labels: [Int32]) -> Int {
    let classes = logits.shape[1]
    var errors = 0
    for (r, label) in labels.enumerated() {
        let row = logits.data + r * classes
        var best = 0
        for j in 1..<classes where row[j] > row[best] { best = j }
        if best != Int(label) { errors += 1 }
    }
    return errors
}

/// Word-level language modelling: truncated BPTT over `batch` parallel streams with the hidden state
/// carried (and detached) between windows, gradient clipping, perplexity on valid and test.
final class LanguageModelTask: TrainingTask {
    let model: LSTMLanguageModel, optimizer: any Optimizer
    let train: PTBBatchedStream, valid: PTBBatchedStream, test: PTBBatchedStream
    let bptt: Int, clipNorm: Double?, seed: Int
    private var state: LSTMState

    init(model: LSTMLanguageModel, optimizer: any Optimizer, corpus: PTBCorpus, batchSize: Int, evalBatchSize: Int,
         bptt: Int, clipNorm: Double?, seed: Int) throws {
        self.model = model
        self.optimizer = optimizer
        train = try PTBBatchedStream(tokens: corpus.train, batch: batchSize)
        valid = try PTBBatchedStream(tokens: corpus.valid, batch: evalBatchSize)
        test = try PTBBatchedStream(tokens: corpus.test, batch: evalBatchSize)
        self.bptt = bptt
        self.clipNorm = clipNorm
        self.seed = seed
        state = model.zeroState(batch: batchSize)
    }

    var columns: [String] { MetricsTable.languageModelColumns }
    var stepsPerEpoch: Int { train.windowCount(bptt: bptt) }

    var carriedState: [String: Tensor] {
        get { state.carried }
        set { state.restore(carried: newValue) }
    }

    func beginEpoch(_ epoch: Int, fromStep step: Int) {
        if step == 0 { state = model.zeroState(batch: train.batch) }  // a resumed epoch keeps its restored state
    }

    func trainStep(epoch: Int, step: Int) -> (loss: Double, errors: Double, count: Double) {
        let window = train.window(step, bptt: bptt)
        var context = ForwardContext(training: true,
                                     generator: RandomGenerator(seed: UInt64(seed)).fork("dropout").fork(epoch).fork(step))
        let tape = Tape()
        var newState = state
        let loss = tape.record { () -> Variable in
            let (logits, next) = model.forward(tokens: window.input, steps: window.length, batch: window.batch,
                                               state: state, &context)
            newState = next
            return crossEntropy(logits, labels: window.target)
        }
        let value = Double(loss.value.scalarValue)
        let tokens = Double(window.target.count)
        guard value.isFinite else {
            tape.reset()
            return (value, 0, tokens)
        }
        tape.backward(from: loss)
        if let clipNorm { _ = clipGradientNorm(model.namedParameters.map(\.1), maxNorm: clipNorm) }
        optimizer.step()
        model.zeroGradients()
        state = newState  // plain tensors: the next window does not backpropagate into this one
        return (value, 0, tokens)
    }

    private func meanLoss(_ stream: PTBBatchedStream) -> Double {
        var context = ForwardContext(training: false)
        var s = model.zeroState(batch: stream.batch)
        var lossSum = 0.0, count = 0.0
        for index in 0..<stream.windowCount(bptt: bptt) {
            let window = stream.window(index, bptt: bptt)
            Tape.withoutGradients {
                let (logits, next) = model.forward(tokens: window.input, steps: window.length, batch: window.batch,
                                                   state: s, &context)
                s = next
                let loss = crossEntropy(logits, labels: window.target)
                lossSum += Double(loss.value.scalarValue) * Double(window.target.count)
                count += Double(window.target.count)
            }
        }
        return lossSum / max(count, 1)
    }

    func evaluate() -> [Double] {
        let v = meanLoss(valid), t = meanLoss(test)
        return [v, Foundation.exp(v), t, Foundation.exp(t)]
    }

    func trainColumns(lossSum: Double, errorSum: Double, count: Double) -> [Double] {
        let loss = lossSum / max(count, 1)
        return [loss, Foundation.exp(loss)]
    }
}

extension LSTMState {
    /// The hidden and cell state of every layer as the checkpoint's carried tensors (`hidden.<layer>`, `cell.<layer>`).
    var carried: [String: Tensor] {
        var out: [String: Tensor] = [:]
        for (i, t) in hidden.enumerated() { out["hidden.\(i)"] = t }
        for (i, t) in cell.enumerated() { out["cell.\(i)"] = t }
        return out
    }

    /// Takes copies of `carried`'s tensors for every layer; leaves the state as it is when a layer is missing.
    mutating func restore(carried: [String: Tensor]) {
        let layers = hidden.count
        guard (0..<layers).allSatisfy({ carried["hidden.\($0)"] != nil && carried["cell.\($0)"] != nil }) else { return }
        self = LSTMState(hidden: (0..<layers).map { carried["hidden.\($0)"]!.copy() },
                         cell: (0..<layers).map { carried["cell.\($0)"]!.copy() })
    }
}

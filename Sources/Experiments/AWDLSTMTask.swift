import Datasets
import Engine
import Foundation
import NN
import Optim
import RunFormat

/// The AdaMomentum authors' AWD-LSTM training recipe, as their `LSTM_Penn_Treebank/main.py` runs it
/// (wyzjack/AdaM3 at e715cde47d7f77d0fdb4e083511dec03a6b0ff3c; read there, written here anew):
///
/// - Each epoch walks the training stream from the start with a fresh zero state; a step's sequence
///   length is drawn: the mean is `bptt` with probability 0.95, else `bptt`/2, the length
///   max(5, trunc(normal(mean, 5))), and the window is cut at the end of the stream (the loop runs
///   while the position is below steps − 2). The draws come from the generator
///   `seed → "bptt" → epoch`, so an epoch's lengths are a function of the seed and the epoch, and a
///   resumed run redraws the same ones (nothing of that stream needs checkpointing).
/// - For that step the lr of every group is multiplied by length/bptt (the drawn length, before the
///   window is cut) and restored after the optimizer step.
/// - The hidden state is carried from window to window, detached.
/// - Loss = cross-entropy + α·mean(dropped last-layer output²) (AR) + β·mean((h_t − h_{t−1})²) over the
///   non-dropped last-layer output (TAR): `AWDLSTMLanguageModel.trainingLoss`. The gradient norm is
///   clipped (0.25); weight decay is the optimizer's own.
/// - Dropout masks come from `seed → "dropout" → epoch → step`, as every task here.
/// - After each epoch: the test set at batch 1 (main.py's `evaluate(test_data, test_batch_size)`) and,
///   beside it, the validation set at `evalBatchSize`; both summed as main.py (window length × mean
///   loss) and divided by the stream's length in rows, so the loss is the per-token mean × (rows − 1)/rows.
/// - SGD (the config's `sgd`) switches to ASGD(lr = the initial lr, t0 = 0, lambd = 0, the same weight
///   decay) at the end of an epoch whose test loss is above the best test loss of all but the last
///   `nonmono` epochs, once more than `nonmono` epochs are recorded; after the switch no more losses
///   are recorded and the lr schedule counts its divisions from the switch on (main.py divides the new
///   optimizer's lr at the `--when` epochs that follow, and at the switch's own epoch).
/// - The logged train perplexity (`train_ppl_window`) is main.py's `train_loss`: exp of the cross-entropy
///   summed over the epoch's last complete log window divided by `logInterval` (the first window holds
///   logInterval + 1 batches, as main.py counts); NaN when the epoch has no complete window.
final class AWDLanguageModelTask: TrainingTask {
    let model: AWDLSTMLanguageModel
    private(set) var optimizer: any Optimizer
    let initialOptimizer: any Optimizer
    let train: PTBBatchedStream, valid: PTBBatchedStream, test: PTBBatchedStream
    let bptt: Int, clipNorm: Double?, seed: Int, nonmono: Int, logInterval: Int
    let schedule: LRSchedule
    /// The settings of the ASGD that SGD switches to; nil when the optimizer is not `sgd`.
    let asgdOptions: OptimizerOptions?
    private var state: LSTMState
    private var recipe = RecipeState()
    /// This epoch's drawn sequence lengths and window starts.
    private var lengths: [Int] = [], starts: [Int] = []
    private var lengthsEpoch = -1
    /// Tests (the twin against PyTorch): the drawn lengths and the dropout masks of each step of every
    /// epoch, replayed instead of drawn.
    var replay: (lengths: [Int], masks: [AWDLSTMMasks])? {
        didSet { lengthsEpoch = -1 }
    }
    /// Tests: called with each step's total loss (cross-entropy + AR + TAR).
    var stepObserver: ((Double) -> Void)?

    static let testBatchSize = 1

    convenience init(model: AWDLSTMLanguageModel, optimizer: any Optimizer, optimizerName: String, optimizerOptions: OptimizerOptions,
                     corpus: PTBCorpus, training: TrainingSpec, seed: Int) throws {
        try self.init(model: model, optimizer: optimizer, optimizerName: optimizerName, optimizerOptions: optimizerOptions,
                      train: corpus.train, valid: corpus.valid, test: corpus.test, training: training, seed: seed)
    }

    init(model: AWDLSTMLanguageModel, optimizer: any Optimizer, optimizerName: String, optimizerOptions: OptimizerOptions,
         train trainTokens: [Int32], valid validTokens: [Int32], test testTokens: [Int32], training: TrainingSpec, seed: Int) throws {
        self.model = model
        self.optimizer = optimizer
        initialOptimizer = optimizer
        train = try PTBBatchedStream(tokens: trainTokens, batch: training.batchSize)
        valid = try PTBBatchedStream(tokens: validTokens, batch: training.evalBatchSize)
        test = try PTBBatchedStream(tokens: testTokens, batch: Self.testBatchSize)
        guard train.steps >= 3 else {
            throw TrainError("the AWD-LSTM recipe needs at least 3 tokens per training stream (main.py steps while the position is "
                             + "below steps − 2); \(trainTokens.count) training tokens in \(training.batchSize) streams give \(train.steps): "
                             + "use a smaller batchSize or more data")
        }
        switch training.schedule {
        case .constant, .multistep: break
        default:
            throw TrainError("the AWD-LSTM recipe divides the lr at fixed epochs (main.py --when): use a \"multistep\" or \"constant\" schedule")
        }
        bptt = training.bptt
        clipNorm = training.clipNorm
        self.seed = seed
        nonmono = training.nonmono
        logInterval = training.logInterval
        schedule = training.schedule
        if optimizerName == "sgd" {
            var options: OptimizerOptions = ["lr": .number(optimizer.groups[0].initialLr), "t0": .number(0), "lambd": .number(0)]
            if let wd = optimizerOptions["weightDecay"] { options["weightDecay"] = wd }
            asgdOptions = options
        } else {
            asgdOptions = nil
        }
        state = model.zeroState(batch: training.batchSize)
    }

    static let columns = ["epoch", "lr", "train_loss", "train_ppl", "train_ppl_window", "valid_loss", "valid_ppl",
                          "test_loss", "test_ppl", "epoch_seconds", "tokens_per_second"]
    var columns: [String] { Self.columns }
    /// The nominal count (windows of exactly `bptt`); an epoch's own count is `stepCount(epoch:)`.
    var stepsPerEpoch: Int { train.windowCount(bptt: bptt) }

    /// main.py's draws for one epoch: the drawn lengths (which scale the lr) in order.
    func sequenceLengths(epoch: Int) -> [Int] {
        var generator = RandomGenerator(seed: UInt64(seed)).fork("bptt").fork(epoch)
        var out: [Int] = []
        var i = 0
        while i < train.steps - 2 {
            let mean = generator.nextDouble() < 0.95 ? Double(bptt) : Double(bptt) / 2
            let drawn = max(5, Int(mean + 5 * generator.nextNormal()))  // Python's int(): toward zero
            out.append(drawn)
            i += drawn
        }
        return out
    }

    private func prepare(epoch: Int) {
        guard lengthsEpoch != epoch else { return }
        lengths = replay?.lengths ?? sequenceLengths(epoch: epoch)
        var s = 0
        starts = lengths.map { d in defer { s += d }; return s }
        lengthsEpoch = epoch
    }

    func stepCount(epoch: Int) -> Int {
        prepare(epoch: epoch)
        return lengths.count
    }

    /// Step `step` of `epoch`: (drawn length, window start, window length).
    func window(epoch: Int, step: Int) -> (drawn: Int, start: Int, length: Int) {
        prepare(epoch: epoch)
        let start = starts[step]
        return (lengths[step], start, min(lengths[step], train.steps - 1 - start))
    }

    var carriedState: [String: Tensor] {
        get { state.carried }
        set { state.restore(carried: newValue) }
    }

    var recipeState: RecipeState? { recipe }

    func restore(recipe saved: RecipeState?) throws {
        guard let saved else { return }
        recipe = saved
        if saved.asgdSince != nil {
            guard asgdOptions != nil else {
                throw TrainError("the checkpoint says the run switched to ASGD, but its optimizer \(initialOptimizer.name) never does "
                                 + "(only sgd does, as main.py); the checkpoint belongs to another run")
            }
            optimizer = try makeASGD()
        } else {
            optimizer = initialOptimizer
        }
    }

    private func makeASGD() throws -> any Optimizer {
        try makeOptimizer("asgd", parameters: initialOptimizer.groups.flatMap(\.parameters), options: asgdOptions!)
    }

    func setLearningRates(_ schedule: LRSchedule, epoch: Int) {
        guard let since = recipe.asgdSince else {
            optimizer.setLearningRates(schedule, epoch: epoch)
            return
        }
        // Rebuilt at the initial lr at the end of epoch `since` (1-based), then divided at each milestone from there on.
        for group in optimizer.groups {
            var lr = group.initialLr
            if case .multistep(let milestones, let gamma) = schedule, since <= epoch {
                for e in since...epoch {
                    let hits = milestones.filter { $0 == e }.count
                    if hits > 0 { lr = lr * pow(gamma, Double(hits)) }
                }
            }
            group.lr = lr
        }
    }

    func beginEpoch(_ epoch: Int, fromStep step: Int) {
        prepare(epoch: epoch)
        if step == 0 {  // a resumed epoch keeps its restored state and log window
            state = model.zeroState(batch: train.batch)
            recipe.windowLossSum = 0
            recipe.lastWindowLoss = nil
        }
    }

    func trainStep(epoch: Int, step: Int) -> (loss: Double, errors: Double, count: Double) {
        let (drawn, start, length) = window(epoch: epoch, step: step)
        let batch = train.batch
        let input = Array(train.data[(start * batch)..<((start + length) * batch)])
        let target = Array(train.data[((start + 1) * batch)..<((start + 1 + length) * batch)])
        var context = ForwardContext(training: true,
                                     generator: RandomGenerator(seed: UInt64(seed)).fork("dropout").fork(epoch).fork(step))
        let tape = Tape()
        var newState = state
        var crossEntropy: Variable?
        let loss = tape.record { () -> Variable in
            let output = replay.map { model.forward(tokens: input, steps: length, batch: batch, state: state, masks: $0.masks[step], &context) }
                ?? model.forward(tokens: input, steps: length, batch: batch, state: state, &context)
            newState = output.state
            let (total, ce) = model.trainingLoss(output, targets: target, steps: length, batch: batch)
            crossEntropy = ce
            return total
        }
        let value = Double(crossEntropy!.value.scalarValue)
        let tokens = Double(target.count)
        guard value.isFinite && loss.value.scalarValue.isFinite else {
            tape.reset()
            return (value.isFinite ? Double(loss.value.scalarValue) : value, 0, tokens)
        }
        stepObserver?(Double(loss.value.scalarValue))
        tape.backward(from: loss)
        if let clipNorm { _ = clipGradientNorm(model.namedParameters.map(\.1), maxNorm: clipNorm) }
        let saved = optimizer.groups.map(\.lr)
        for group in optimizer.groups { group.lr = group.lr * Double(drawn) / Double(bptt) }
        optimizer.step()
        for (group, lr) in zip(optimizer.groups, saved) { group.lr = lr }
        model.zeroGradients()
        state = newState
        recipe.windowLossSum += value
        if step % logInterval == 0 && step > 0 {
            recipe.lastWindowLoss = recipe.windowLossSum / Double(logInterval)
            recipe.windowLossSum = 0
        }
        return (value, 0, tokens)
    }

    /// main.py's `evaluate`: windows of `bptt`, Σ length × mean loss, divided by the stream's rows.
    private func authorsLoss(_ stream: PTBBatchedStream) -> Double {
        var context = ForwardContext(training: false)
        var s = model.zeroState(batch: stream.batch)
        var total = 0.0
        for index in 0..<stream.windowCount(bptt: bptt) {
            let window = stream.window(index, bptt: bptt)
            Tape.withoutGradients {
                let output = model.forward(tokens: window.input, steps: window.length, batch: window.batch, state: s, &context)
                s = output.state
                total += Double(window.length) * Double(crossEntropy(output.logits, labels: window.target).value.scalarValue)
            }
        }
        return total / Double(stream.steps)
    }

    func evaluate() -> [Double] {
        let v = authorsLoss(valid), t = authorsLoss(test)
        return [v, Foundation.exp(v), t, Foundation.exp(t)]
    }

    /// main.py's monitored loss is the test loss at batch 1 (evaluation[2]): it decides the switch to ASGD.
    func endEpoch(_ epoch: Int, evaluation: [Double]) throws -> String? {
        guard asgdOptions != nil, recipe.asgdSince == nil else { return nil }
        let loss = evaluation[2]
        var message: String?
        if recipe.monitored.count > nonmono, let best = recipe.monitored.dropLast(nonmono).min(), loss > best {
            try switchToASGD(afterEpoch: epoch)
            message = "switching to ASGD after epoch \(epoch + 1) (test loss \(MetricsTable.format(loss)) > \(MetricsTable.format(best)), "
                + "the best before the last \(nonmono) epochs), lr back to \(MetricsTable.format(optimizer.groups[0].initialLr))"
        }
        recipe.monitored.append(loss)
        return message
    }

    /// main.py's switch: ASGD over the same parameters at the initial lr, from the end of `epoch` (0-based) on.
    func switchToASGD(afterEpoch epoch: Int) throws {
        optimizer = try makeASGD()
        recipe.asgdSince = epoch + 1
    }

    func trainColumns(lossSum: Double, errorSum: Double, count: Double) -> [Double] {
        let loss = lossSum / max(count, 1)
        return [loss, Foundation.exp(loss), recipe.lastWindowLoss.map { Foundation.exp($0) } ?? .nan]
    }
}

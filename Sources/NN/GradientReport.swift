import Engine
import Foundation

// One forward and backward pass of a model on a fixed batch, reported as named tensors: what
// `adai-bench model grad` writes, so that our numbers can be compared with another framework's.
//
//   loss                 []                the mean cross-entropy over the batch (over every token for the LM)
//   logits               [N, classes] or [T·B, vocabulary]
//   grad.<parameter>     the parameter's shape, for every trainable parameter
//   <buffer name>        every buffer after the forward pass (e.g. updated running statistics)

/// A batch for a model: images with labels, or language-model windows.
public enum GradientBatch {
    /// images [N, 3, 32, 32], labels N class indices.
    case images(Tensor, labels: [Int32])
    /// inputs and targets: T·B word indices each, time-major (index t·B + b is step t of window b).
    case tokens(inputs: [Int32], targets: [Int32], steps: Int, batch: Int)
}

public struct GradientReport {
    public let loss: Float
    public let logits: Tensor
    /// The gradients under their parameter names (without the "grad." prefix).
    public let gradients: [(String, Tensor)]
    /// The buffers after the forward pass.
    public let buffers: [(String, StoredTensor)]

    /// Runs one forward pass (training or evaluation mode) and one backward pass of the mean
    /// cross-entropy. Gradients are cleared first; the language model starts from a zero state.
    public static func compute(model: Model, batch: GradientBatch, training: Bool,
                               generator: RandomGenerator = RandomGenerator(seed: 0)) throws -> GradientReport {
        let module = model.module
        module.zeroGradients()
        var context = ForwardContext(training: training, generator: generator)
        let tape = Tape()
        let (loss, logits) = try tape.record { try forward(model: model, batch: batch, &context) }
        tape.backward(from: loss)
        let gradients = module.namedParameters.map { name, p in (name, p.grad?.copy() ?? Tensor(zeros: p.shape)) }
        let buffers: [(String, StoredTensor)] = module.namedBuffers.map { name, value in
            switch value {
            case .buffer(let t): return (name, .float32(t.copy()))
            case .counter(let c): return (name, .int64(shape: [], values: [c.value]))
            case .parameter(let v): return (name, .float32(v.value.copy()))  // not a buffer; never listed
            }
        }
        return GradientReport(loss: loss.value.scalarValue, logits: logits.value.copy(), gradients: gradients, buffers: buffers)
    }

    /// The loss alone, without recording anything (for finite differences): the mean cross-entropy
    /// of the float32 logits, accumulated in double precision so that small changes of the loss
    /// are not lost to float32 rounding. Dropout masks come from `generator` exactly as in `compute`.
    public static func loss(model: Model, batch: GradientBatch, training: Bool,
                            generator: RandomGenerator = RandomGenerator(seed: 0)) throws -> Double {
        var context = ForwardContext(training: training, generator: generator)
        let logits = try Tape.withoutGradients { try forward(model: model, batch: batch, &context).logits.value }
        let labels: [Int32]
        switch batch {
        case .images(_, let l): labels = l
        case .tokens(_, let targets, _, _): labels = targets
        }
        let classes = logits.shape[1]
        var total = 0.0
        for (row, label) in labels.enumerated() {
            let values = (0..<classes).map { Double(logits[row * classes + $0]) }
            let largest = values.max()!
            let logSum = largest + Foundation.log(values.reduce(0) { $0 + Foundation.exp($1 - largest) })
            total += logSum - values[Int(label)]
        }
        return total / Double(labels.count)
    }

    /// The mean cross-entropy and the logits of one forward pass.
    static func forward(model: Model, batch: GradientBatch, _ context: inout ForwardContext) throws -> (loss: Variable, logits: Variable) {
        switch (model, batch) {
        case (.imageClassifier(let net), .images(let images, let labels)):
            guard images.rank == 4, images.shape[0] == labels.count, images.shape[1] == 3 else {
                throw ModelError("expected images [N, 3, H, W] with N labels, got \(images.shape) and \(labels.count) labels")
            }
            let logits = net.forward(Variable(images), &context)
            try checkLabels(labels, classes: logits.shape[1], what: "label")
            return (crossEntropy(logits, labels: labels), logits)
        case (.languageModel(let lm), .tokens(let inputs, let targets, let steps, let batch)):
            guard inputs.count == steps * batch, targets.count == steps * batch else {
                throw ModelError("expected \(steps) × \(batch) input and target tokens, got \(inputs.count) and \(targets.count)")
            }
            try checkLabels(inputs, classes: lm.vocabulary, what: "input word")
            try checkLabels(targets, classes: lm.vocabulary, what: "target word")
            let (logits, _) = lm.forward(tokens: inputs, steps: steps, batch: batch, state: lm.zeroState(batch: batch), &context)
            return (crossEntropy(logits, labels: targets), logits)
        case (.awdLanguageModel(let lm), .tokens(let inputs, let targets, let steps, let batch)):
            // The cross-entropy only (main.py's training loss adds AR and TAR: `trainingLoss`).
            guard inputs.count == steps * batch, targets.count == steps * batch else {
                throw ModelError("expected \(steps) × \(batch) input and target tokens, got \(inputs.count) and \(targets.count)")
            }
            try checkLabels(inputs, classes: lm.vocabulary, what: "input word")
            try checkLabels(targets, classes: lm.vocabulary, what: "target word")
            let output = lm.forward(tokens: inputs, steps: steps, batch: batch, state: lm.zeroState(batch: batch), &context)
            return (crossEntropy(output.logits, labels: targets), output.logits)
        case (.imageClassifier, .tokens):
            throw ModelError("an image classifier needs images, not word windows")
        case (.languageModel, .images), (.awdLanguageModel, .images):
            throw ModelError("the language model needs word windows, not images")
        }
    }

    private static func checkLabels(_ labels: [Int32], classes: Int, what: String) throws {
        if let (i, bad) = labels.enumerated().first(where: { $0.element < 0 || Int($0.element) >= classes }) {
            throw ModelError("\(what) \(bad) of example \(i) is outside 0..<\(classes); does --classes (or the vocabulary) match the data?")
        }
    }

    /// The report as a safetensors archive: `loss`, `logits`, `grad.<name>`, then the buffers.
    public func archive(metadata: [String: String] = [:]) -> SafetensorsArchive {
        var tensors: [(name: String, value: StoredTensor)] = [("loss", .float32(Tensor(scalar: loss))), ("logits", .float32(logits))]
        tensors += gradients.map { ("grad." + $0.0, .float32($0.1)) }
        tensors += buffers.map { ($0.0, $0.1) }
        return SafetensorsArchive(tensors: tensors, metadata: metadata)
    }
}

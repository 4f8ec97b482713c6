import Datasets
import Engine
import Foundation
import NN
import Optim

/// Times training steps and inference of one model on synthetic inputs (`adai-bench bench`).
public struct ModelBenchmark {
    public var model: String
    public var classes = 10
    public var batch = 128
    public var inferenceBatch = 256
    public var steps = 5
    public var optimizer = "sgdm"
    /// LSTM: tokens per window.
    public var bptt = 35
    /// Time steps under both `GEMMThreading` settings, alternating step by step (`Result.byThreading`);
    /// otherwise under the engine's current setting.
    public var compareGEMMThreading = false
    /// Time steps under both `ReductionOrder`s, alternating step by step (`Result.byReductionOrder`):
    /// the engine (`.fixed`) against its pre-fix, thread-count-dependent splits as a baseline. Not
    /// together with `compareGEMMThreading`.
    public var compareReductions = false

    public init(model: String) { self.model = model }

    public struct Result {
        public var trainSeconds: [Double]
        public var inferSeconds: [Double]
        public var unitsPerStep: Double, inferUnitsPerStep: Double
        public var unit: String
        public var trainFlopsPerStep: Double
        public var categories: [OpCategory: Double]
        /// Peak resident memory of the process after the training steps (before inference), and at the end.
        public var trainPeakResidentBytes: Int
        public var peakResidentBytes: Int
        /// With `compareGEMMThreading`: the training and inference step times under each setting
        /// (`trainSeconds` and `inferSeconds` then hold all steps).
        public var byThreading: [GEMMThreading: (train: [Double], infer: [Double])] = [:]
        /// With `compareReductions`: the same under each reduction order.
        public var byReductionOrder: [ReductionOrder: (train: [Double], infer: [Double])] = [:]
        /// With `compareReductions`: `categories` under each reduction order (seconds per training step).
        public var categoriesByReductionOrder: [ReductionOrder: [OpCategory: Double]] = [:]

        public var trainPerSecond: Double { unitsPerStep / median(trainSeconds) }
        public var inferPerSecond: Double { inferUnitsPerStep / median(inferSeconds) }
    }

    public func run() throws -> Result {
        precondition(!(compareGEMMThreading && compareReductions), "ModelBenchmark: compare one setting at a time")
        let isLM = ModelZoo.isLanguageModel(model)
        let configuration = ModelConfiguration(name: model, classes: classes)
        let built = try ModelZoo.make(configuration, seed: 1)
        let summary = ModelZoo.summary(built, configuration: configuration)
        let parameters = built.module.namedParameters.map { NamedParameter($0.0, $0.1) }
        let optimizer = try makeOptimizer(self.optimizer, parameters: parameters, options: ["lr": .number(1e-3)])
        var generator = RandomGenerator(seed: 7)

        // The data a step consumes: augmented, normalised CIFAR batches from synthetic records, or random tokens.
        let records: CIFARRecords = {
            var pixels = [UInt8](repeating: 0, count: batch * 3072)
            for i in pixels.indices { pixels[i] = UInt8(truncatingIfNeeded: generator.nextUInt64()) }
            return CIFARRecords(pixels: pixels, labels: (0..<batch).map { Int32($0 % classes) })
        }()
        let batches = try CIFARBatches(dataset: CIFARDataset(variant: .cifar10, split: .train, records: records),
                                       batchSize: batch, training: true, seed: 1)
        let order = Array(0..<batch)
        let tokens = (0..<(bptt * batch)).map { _ in Int32(generator.nextInt(below: 10_000)) }

        func trainStep(_ index: Int) {
            var context = ForwardContext(training: true, generator: RandomGenerator(seed: 1).fork(index))
            let tape = Tape()
            let loss: Variable
            switch built {
            case .imageClassifier(let layer):
                let b = Profiler.measure(.data) { batches.batch(epoch: 0, index: 0, order: order) }
                loss = tape.record { crossEntropy(layer.forward(Variable(b.images), &context), labels: b.labels) }
            case .languageModel(let lm):
                loss = tape.record {
                    let (logits, _) = lm.forward(tokens: tokens, steps: bptt, batch: batch, state: lm.zeroState(batch: batch), &context)
                    return crossEntropy(logits, labels: tokens)
                }
            case .awdLanguageModel(let lm):
                loss = tape.record {
                    let output = lm.forward(tokens: tokens, steps: bptt, batch: batch, state: lm.zeroState(batch: batch), &context)
                    return lm.trainingLoss(output, targets: tokens, steps: bptt, batch: batch).total
                }
            }
            tape.backward(from: loss)
            Profiler.measure(.optimizer) { optimizer.step() }
            built.module.zeroGradients()
        }

        func inferStep() {
            var context = ForwardContext(training: false)
            Tape.withoutGradients {
                switch built {
                case .imageClassifier(let layer):
                    let input = Tensor(uninitializedShape: [inferenceBatch, 3, 32, 32])
                    input.fill(0.5)
                    _ = layer.forward(Variable(input), &context)
                case .languageModel(let lm):
                    _ = lm.forward(tokens: tokens, steps: bptt, batch: batch, state: lm.zeroState(batch: batch), &context)
                case .awdLanguageModel(let lm):
                    _ = lm.forward(tokens: tokens, steps: bptt, batch: batch, state: lm.zeroState(batch: batch), &context)
                }
            }
        }

        // With a comparison, step i runs under settings[i % 2] (or orders[i % 2]), and each setting's times are kept.
        let original = Parallel.gemmThreading, originalOrder = Parallel.reductionOrder
        let settings: [GEMMThreading] = compareGEMMThreading ? [.split, .openBLAS] : [original]
        let orders: [ReductionOrder] = compareReductions ? [.fixed, .threadCountDependent] : [originalOrder]
        var byThreading: [GEMMThreading: (train: [Double], infer: [Double])] = [:]
        var byReductionOrder: [ReductionOrder: (train: [Double], infer: [Double])] = [:]
        func select(_ i: Int) {
            let setting = settings[i % settings.count], order = orders[i % orders.count]
            if setting != Parallel.gemmThreading { Parallel.setGEMMThreading(setting) }
            if order != Parallel.reductionOrder { Parallel.setReductionOrder(order) }
        }
        defer {
            if Parallel.gemmThreading != original { Parallel.setGEMMThreading(original) }
            if Parallel.reductionOrder != originalOrder { Parallel.setReductionOrder(originalOrder) }
        }
        func timed(_ i: Int, _ body: () -> Void) -> Double {
            select(i)
            return time(body)
        }
        // Warm-up (buffers allocated, BLAS threads started): one step, or one under each reduction order
        // (their ops ask the buffer pool for different scratch sizes).
        for i in 0..<orders.count {
            select(i)
            trainStep(0)
        }
        Profiler.reset()
        Profiler.enabled = true
        var trainSeconds: [Double] = []
        var categoriesByOrder: [ReductionOrder: [OpCategory: Double]] = [:]
        for i in 0..<steps {
            let before = Profiler.seconds
            trainSeconds.append(timed(i) { trainStep(i + 1) })
            let order = orders[i % orders.count]
            byThreading[settings[i % settings.count], default: ([], [])].train.append(trainSeconds[i])
            byReductionOrder[order, default: ([], [])].train.append(trainSeconds[i])
            for (category, total) in Profiler.seconds {
                categoriesByOrder[order, default: [:]][category, default: 0] += total - before[category, default: 0]
            }
        }
        for (order, times) in byReductionOrder { categoriesByOrder[order] = categoriesByOrder[order]?.mapValues { $0 / Double(times.train.count) } }
        Profiler.enabled = false
        let categories = Profiler.seconds.mapValues { $0 / Double(steps) }
        let trainPeak = peakResidentBytes()
        BufferPool.shared.trim()  // as the trainer does before evaluation
        for i in 0..<orders.count {
            select(i)
            inferStep()
        }
        var inferSeconds: [Double] = []
        for i in 0..<steps {
            inferSeconds.append(timed(i) { inferStep() })
            byThreading[settings[i % settings.count], default: ([], [])].infer.append(inferSeconds[i])
            byReductionOrder[orders[i % orders.count], default: ([], [])].infer.append(inferSeconds[i])
        }

        let flopsPerUnit = summary.totalFlops  // forward FLOPs of one image (or one token) in the summary
        return Result(trainSeconds: trainSeconds, inferSeconds: inferSeconds,
                      unitsPerStep: Double(isLM ? bptt * batch : batch),
                      inferUnitsPerStep: Double(isLM ? bptt * batch : inferenceBatch),
                      unit: isLM ? "tokens" : "images", trainFlopsPerStep: 3 * flopsPerUnit * Double(isLM ? bptt * batch : batch),
                      categories: categories, trainPeakResidentBytes: trainPeak, peakResidentBytes: peakResidentBytes(),
                      byThreading: compareGEMMThreading ? byThreading : [:],
                      byReductionOrder: compareReductions ? byReductionOrder : [:],
                      categoriesByReductionOrder: compareReductions ? categoriesByOrder : [:])
    }

    private func time(_ body: () -> Void) -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }
}

public func median(_ values: [Double]) -> Double {
    let s = values.sorted()
    guard !s.isEmpty else { return .nan }
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

/// The process's peak resident memory (VmHWM), in bytes; 0 where /proc is unavailable.
public func peakResidentBytes() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in text.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        // "VmHWM:\t  123456 kB", or with no space after the tab from 10,000,000 kB on.
        let kb = line.dropFirst("VmHWM:".count).split(whereSeparator: { $0 == " " || $0 == "\t" }).compactMap { Int($0) }.first ?? 0
        return kb * 1024
    }
    return 0
}

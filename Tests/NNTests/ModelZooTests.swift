import Engine
import NN
import XCTest

final class ModelZooTests: XCTestCase {
    private func build(_ name: String, classes: Int = 10, vocabulary: Int = 10_000, tied: Bool = false) throws -> Model {
        try ModelZoo.makeUninitialized(ModelConfiguration(name: name, classes: classes, vocabulary: vocabulary, tiedWeights: tied))
    }

    /// The counts PyTorch reports for the reference definitions (sum of p.numel() over parameters()).
    func testParameterCountsEqualPyTorch() throws {
        XCTAssertEqual(try build("resnet18", classes: 10).module.parameterCount, 11_173_962)
        XCTAssertEqual(try build("resnet34", classes: 100).module.parameterCount, 21_328_292)
        XCTAssertEqual(try build("vgg16", classes: 10).module.parameterCount, 14_728_266)
        XCTAssertEqual(try build("densenet121", classes: 100).module.parameterCount, 7_048_548)
        XCTAssertEqual(try build("googlenet", classes: 100).module.parameterCount, 6_258_500)
        XCTAssertEqual(try build("lstm", vocabulary: 10_000).module.parameterCount, 14_452_496)
        // Tied: the decoder weight is the embedding, counted once (14,452,496 − 10,000 × 512).
        XCTAssertEqual(try build("lstm", vocabulary: 10_000, tied: true).module.parameterCount, 9_332_496)
    }

    /// ResNet101 (kuangliu's `ResNet(Bottleneck, [3, 4, 23, 3])`) is ResNet50 with 17 more bottlenecks in
    /// layer3, each 1024 → 256 → 256 → 1024 channels without a shortcut projection:
    /// conv1 1024·256 + bn1 2·256 + conv2 256·256·9 + bn2 2·256 + conv3 256·1024 + bn3 2·1024 = 1,117,184.
    /// ResNet50 with 10 classes has 23,520,842 (PyTorch's count for kuangliu's ResNet50()), so
    /// 23,520,842 + 17 × 1,117,184 = 42,512,970; with 100 classes the linear layer adds 90 × 2049 = 184,410.
    func testResNet101HasResNet50sStemAndHeadAndTwentyThreeBlocksInLayer3() throws {
        XCTAssertEqual(try build("resnet50", classes: 10).module.parameterCount, 23_520_842)
        XCTAssertEqual(try build("resnet101", classes: 10).module.parameterCount, 42_512_970)
        XCTAssertEqual(try build("resnet101", classes: 100).module.parameterCount, 42_697_380)
        let state = Set(try build("resnet101").module.namedState().map(\.0))
        XCTAssertTrue(state.contains("layer3.22.bn3.num_batches_tracked"))
        XCTAssertFalse(state.contains("layer3.23.conv1.weight"))
        XCTAssertTrue(state.contains("layer3.0.shortcut.0.weight"))
        XCTAssertFalse(state.contains("layer3.1.shortcut.0.weight"), "identity shortcut has no state")
        XCTAssertTrue(state.contains("layer4.2.conv3.weight"))
    }

    func testStateNamesFollowTheReferenceStateDict() throws {
        let resnet18 = try build("resnet18").module.namedState()
        XCTAssertEqual(resnet18.prefix(7).map(\.0), ["conv1.weight", "bn1.weight", "bn1.bias", "bn1.running_mean",
                                                     "bn1.running_var", "bn1.num_batches_tracked", "layer1.0.conv1.weight"])
        XCTAssertEqual(resnet18.count, 122)  // len(ResNet18().state_dict())
        let names = Set(resnet18.map(\.0))
        XCTAssertTrue(names.contains("layer2.0.shortcut.0.weight"))
        XCTAssertTrue(names.contains("layer2.0.shortcut.1.running_var"))
        XCTAssertFalse(names.contains("layer1.0.shortcut.0.weight"), "identity shortcut has no state")
        XCTAssertEqual(resnet18.last?.0, "linear.bias")

        let resnet50 = Set(try build("resnet50").module.namedState().map(\.0))
        XCTAssertTrue(resnet50.contains("layer1.0.shortcut.0.weight"))
        XCTAssertTrue(resnet50.contains("layer4.2.bn3.num_batches_tracked"))

        let vgg16 = Set(try build("vgg16").module.namedState().map(\.0))
        for name in ["features.0.weight", "features.0.bias", "features.1.running_mean", "features.3.weight",
                     "features.41.weight", "classifier.weight"] {
            XCTAssertTrue(vgg16.contains(name), name)
        }

        let densenet = Set(try build("densenet121", classes: 100).module.namedState().map(\.0))
        for name in ["conv1.weight", "dense1.0.bn1.weight", "dense1.5.conv2.weight", "trans3.conv.weight",
                     "dense4.15.conv2.weight", "bn.num_batches_tracked", "linear.weight"] {
            XCTAssertTrue(densenet.contains(name), name)
        }

        let googlenet = Set(try build("googlenet", classes: 100).module.namedState().map(\.0))
        for name in ["prelayer.0.weight", "prelayer.0.bias", "prelayer.1.running_var", "a3.b1.0.weight",
                     "a3.b3.7.num_batches_tracked", "b5.b4.1.weight", "b5.b4.2.bias", "linear.weight"] {
            XCTAssertTrue(googlenet.contains(name), name)
        }

        let lstm = try build("lstm").module.namedState().map(\.0)
        XCTAssertEqual(lstm, ["embedding.weight", "lstm.weight_ih_l0", "lstm.weight_hh_l0", "lstm.bias_ih_l0", "lstm.bias_hh_l0",
                              "lstm.weight_ih_l1", "lstm.weight_hh_l1", "lstm.bias_ih_l1", "lstm.bias_hh_l1",
                              "decoder.weight", "decoder.bias"])
    }

    func testStateShapesAndGoogLeNetEpsQuirk() throws {
        let state = Dictionary(uniqueKeysWithValues: try build("googlenet", classes: 100).module.namedState())
        XCTAssertEqual(state["prelayer.0.weight"]?.shape, [192, 3, 3, 3])
        XCTAssertEqual(state["a3.b3.3.weight"]?.shape, [32, 16, 3, 3])
        XCTAssertEqual(state["a3.b3.1.num_batches_tracked"]?.shape, [])
        let lstm = Dictionary(uniqueKeysWithValues: try build("lstm").module.namedState())
        XCTAssertEqual(lstm["lstm.weight_ih_l0"]?.shape, [2048, 512])
        XCTAssertEqual(lstm["lstm.weight_hh_l1"]?.shape, [2048, 512])
        XCTAssertEqual(lstm["decoder.weight"]?.shape, [10_000, 512])

        func b3Eps(_ quirk: Bool) throws -> [Float] {
            let model = try ModelZoo.makeUninitialized(ModelConfiguration(name: "googlenet", classes: 100, googLeNetEpsQuirk: quirk))
            let modules = Dictionary(uniqueKeysWithValues: model.module.namedModules())
            return ["a3.b3.1", "a3.b3.4", "a3.b3.7", "b5.b3.4"].map { (modules[$0] as! BatchNorm2d).eps }
        }
        XCTAssertEqual(try b3Eps(true), [1e-5, 32, 1e-5, 128])
        XCTAssertEqual(try b3Eps(false), [1e-5, 1e-5, 1e-5, 1e-5])
    }

    /// Every model maps a [1, 3, 32, 32] image (one token for the LM) to [1, classes] logits; the
    /// summary's rows come from that real forward pass.
    func testOutputShapesOfEveryModel() throws {
        for name in ModelZoo.names {
            let configuration = ModelConfiguration(name: name, classes: 100, vocabulary: 10_000)
            let model = try ModelZoo.makeUninitialized(configuration)
            let summary = ModelZoo.summary(model, configuration: configuration)
            let expected = ModelZoo.isLanguageModel(name) ? [1, 10_000] : [1, 100]
            XCTAssertEqual(summary.rows.last?.outputShape, expected, name)
            XCTAssertEqual(summary.parameterCount, model.module.parameterCount, name)
            XCTAssertGreaterThan(summary.totalFlops, 0, name)
        }
    }

    func testSummaryOfResNet18() throws {
        let configuration = ModelConfiguration(name: "resnet18", classes: 10)
        let summary = ModelZoo.summary(try ModelZoo.makeUninitialized(configuration), configuration: configuration)
        let rows = Dictionary(uniqueKeysWithValues: summary.rows.map { ($0.name, $0) })
        XCTAssertEqual(rows["conv1"]?.outputShape, [1, 64, 32, 32])
        XCTAssertEqual(rows["conv1"]?.flops, 2 * 64 * 32 * 32 * 27)
        XCTAssertEqual(rows["layer4.1.bn2"]?.outputShape, [1, 512, 4, 4])
        XCTAssertEqual(rows["avg_pool2d"]?.outputShape, [1, 512, 1, 1])
        XCTAssertEqual(rows["linear"]?.parameters, 5130)
        // The convolutions' parameters plus BN and linear add up to the model's count.
        XCTAssertEqual(summary.rows.reduce(0) { $0 + $1.parameters }, 11_173_962)
        let text = summary.formatted()
        XCTAssertTrue(text.contains("total parameters: 11,173,962"), text)
        XCTAssertTrue(text.contains("layer2.0.shortcut.0"), text)
    }

    func testTinyModelsForwardInBothModes() throws {
        var rng = RandomGenerator(seed: 5)
        let images = Tensor(uninitializedShape: [2, 3, 32, 32])
        rng.fillNormal(images)
        for name in ["resnet-tiny", "vgg-tiny", "densenet-tiny", "googlenet-tiny"] {
            guard case .imageClassifier(let net) = try ModelZoo.make(ModelConfiguration(name: name, classes: 7), seed: 1) else {
                return XCTFail(name)
            }
            for training in [true, false] {
                var context = ForwardContext(training: training)
                let logits = Tape.withoutGradients { net.forward(Variable(images), &context) }
                XCTAssertEqual(logits.shape, [2, 7], name)
                XCTAssertTrue(logits.value.array.allSatisfy(\.isFinite), name)
            }
        }
        guard case .languageModel(let lm) = try ModelZoo.make(ModelConfiguration(name: "lstm-tiny", vocabulary: 30), seed: 1) else {
            return XCTFail("lstm-tiny")
        }
        var context = ForwardContext(training: true)
        let (logits, state) = Tape.withoutGradients {
            lm.forward(tokens: [1, 2, 3, 4, 5, 6], steps: 3, batch: 2, state: lm.zeroState(batch: 2), &context)
        }
        XCTAssertEqual(logits.shape, [6, 30])
        XCTAssertEqual(state.hidden.map(\.shape), [[2, 8], [2, 8]])
    }

    func testTrainingModeUpdatesRunningStatisticsAndCounter() throws {
        guard case .imageClassifier(let net) = try ModelZoo.make(ModelConfiguration(name: "resnet-tiny"), seed: 3) else { return XCTFail() }
        let bn = Dictionary(uniqueKeysWithValues: net.namedModules())["bn1"] as! BatchNorm2d
        var rng = RandomGenerator(seed: 9)
        let images = Tensor(uninitializedShape: [2, 3, 32, 32])
        rng.fillNormal(images, mean: 1, std: 2)
        var eval = ForwardContext(training: false)
        _ = Tape.withoutGradients { net.forward(Variable(images), &eval) }
        XCTAssertEqual(bn.batchesTracked.value, 0)
        XCTAssertEqual(bn.runningMean.array, [Float](repeating: 0, count: 4))
        var train = ForwardContext(training: true)
        _ = Tape.withoutGradients { net.forward(Variable(images), &train) }
        XCTAssertEqual(bn.batchesTracked.value, 1)
        XCTAssertNotEqual(bn.runningMean.array, [Float](repeating: 0, count: 4))
    }

    func testInitialisationFollowsPyTorchDefaults() throws {
        let model = try ModelZoo.make(ModelConfiguration(name: "lstm-tiny", vocabulary: 500), seed: 11)
        let state = Dictionary(uniqueKeysWithValues: model.module.namedParameters)
        // LSTM: U(±1/√hidden) = U(±1/√8).
        let lstmValues = state["lstm.weight_ih_l0"]!.value.array
        XCTAssertLessThanOrEqual(lstmValues.map(abs).max()!, Float(1 / 8.0.squareRoot()))
        XCTAssertGreaterThan(lstmValues.map(abs).max()!, Float(0.9 / 8.0.squareRoot()))
        // Embedding: N(0, 1) over 4,000 values.
        let embedding = state["embedding.weight"]!.value.array.map(Double.init)
        let mean = embedding.reduce(0, +) / Double(embedding.count)
        let variance = embedding.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(embedding.count)
        XCTAssertEqual(mean, 0, accuracy: 0.05)
        XCTAssertEqual(variance, 1, accuracy: 0.08)
        // Linear: weight and bias U(±1/√fan_in) = U(±1/√8).
        for name in ["decoder.weight", "decoder.bias"] {
            let values = state[name]!.value.array.map(abs)
            XCTAssertLessThanOrEqual(values.max()!, Float(1 / 8.0.squareRoot()), name)
            XCTAssertGreaterThan(values.max()!, Float(0.8 / 8.0.squareRoot()), name)
        }
        // Conv: U(±1/√(C·k·k)); BN weight 1, bias 0.
        let resnet = try ModelZoo.make(ModelConfiguration(name: "resnet18"), seed: 11)
        let params = Dictionary(uniqueKeysWithValues: resnet.module.namedParameters)
        let conv = params["layer1.0.conv1.weight"]!.value.array.map(abs)
        XCTAssertLessThanOrEqual(conv.max()!, Float(1 / 576.0.squareRoot()))
        XCTAssertGreaterThan(conv.max()!, Float(0.99 / 576.0.squareRoot()))
        XCTAssertEqual(params["bn1.weight"]!.value.array, [Float](repeating: 1, count: 64))
        XCTAssertEqual(params["bn1.bias"]!.value.array, [Float](repeating: 0, count: 64))
        // The same seed gives the same model; another seed another one.
        let again = try ModelZoo.make(ModelConfiguration(name: "lstm-tiny", vocabulary: 500), seed: 11)
        let other = try ModelZoo.make(ModelConfiguration(name: "lstm-tiny", vocabulary: 500), seed: 12)
        let first = state["lstm.weight_hh_l1"]!.value.array
        XCTAssertEqual(Dictionary(uniqueKeysWithValues: again.module.namedParameters)["lstm.weight_hh_l1"]!.value.array, first)
        XCTAssertNotEqual(Dictionary(uniqueKeysWithValues: other.module.namedParameters)["lstm.weight_hh_l1"]!.value.array, first)
    }

    func testTiedWeightsShareTheEmbedding() throws {
        guard case .languageModel(let lm) = try ModelZoo.make(ModelConfiguration(name: "lstm-tiny", vocabulary: 40, tiedWeights: true), seed: 2)
        else { return XCTFail() }
        XCTAssertTrue(lm.decoder.weight === lm.embedding.weight)
        XCTAssertEqual(lm.namedState().map(\.0).filter { $0.hasSuffix("weight") && !$0.hasPrefix("lstm") },
                       ["embedding.weight", "decoder.weight"])
        XCTAssertEqual(lm.namedParameters.map(\.0).contains("decoder.weight"), false)
    }

    func testBadConfigurationsAreErrorsWithMessages() {
        XCTAssertThrowsError(try ModelZoo.make(ModelConfiguration(name: "resnet19"), seed: 0)) { error in
            XCTAssertEqual((error as? ModelError)?.message,
                           "unknown model \"resnet19\"; known models: resnet18, resnet34, resnet50, resnet101, vgg11, vgg13, vgg16, vgg19, densenet121, googlenet, lstm, awd-lstm-1layer, awd-lstm-2layer, awd-lstm-3layer, resnet-tiny, resnet18-narrow, vgg-tiny, densenet-tiny, googlenet-tiny, lstm-tiny, awd-lstm-tiny")
        }
        XCTAssertThrowsError(try ModelZoo.make(ModelConfiguration(name: "resnet18", classes: 0), seed: 0)) { error in
            XCTAssertEqual((error as? ModelError)?.message, "--classes must be at least 1, got 0")
        }
        XCTAssertThrowsError(try ModelZoo.make(ModelConfiguration(name: "lstm", vocabulary: 0), seed: 0)) { error in
            XCTAssertEqual((error as? ModelError)?.message, "the vocabulary must hold at least one word, got 0")
        }
        XCTAssertThrowsError(try ModelZoo.make(ModelConfiguration(name: "googlenet", dropout: 1), seed: 0)) { error in
            XCTAssertEqual((error as? ModelError)?.message, "dropout must be in [0, 1), got 1.0")
        }
    }
}

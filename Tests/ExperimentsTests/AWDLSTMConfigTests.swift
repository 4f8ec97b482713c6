import Engine
import Experiments
import Foundation
import RunFormat
import NN
import Optim
import TestSupport
import XCTest

/// configs/ptb-awd-lstm-{1,2,3}layer.json: every optimizer's settings are those of the AdaMomentum authors'
/// curve files (results/paper/adamomentum-ptb-curves.csv), the training settings main.py's; the model keys
/// are checked (the recipe itself: AWDLSTMRecipeTests).
final class AWDLSTMConfigTests: XCTestCase {
    private let root = Repository.root

    /// main.py's --optimizer for our registry name.
    private let scriptName = ["adamomentum": "adam3", "adabelief": "adabelief", "sgd": "sgd", "adam": "adam", "adamw": "adamw",
                              "radam": "radam", "yogi": "yogi", "adabound": "adabound"]

    private func number(_ options: OptimizerOptions, _ key: String) -> Double? {
        if case .number(let x) = options[key] { return x }
        return nil
    }

    func testConfigsHoldTheSettingsOfTheAuthorsCurveFiles() throws {
        // (script optimizer, lr, eps) of every curve file, by layers.
        let text = try String(contentsOf: root.appendingPathComponent("results/paper/adamomentum-ptb-curves.csv"), encoding: .utf8)
        var curves: [Int: Set<String>] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") && !line.hasPrefix("optimizer,") {
            let f = line.split(separator: ",").map(String.init)
            curves[Int(f[2])!, default: []].insert("\(f[1]) lr \(Double(f[3])!) eps \(Double(f[4])!)")
        }
        XCTAssertEqual(curves.mapValues(\.count), [1: 8, 2: 9, 3: 9], "26 configurations")
        for layers in 1...3 {
            let c = try ExperimentConfig.load(path: root.appendingPathComponent("configs/ptb-awd-lstm-\(layers)layer.json").path)
            XCTAssertEqual(c.model.name, "awd-lstm-\(layers)layer")
            XCTAssertEqual(c.model.weightDrop, .authors)
            XCTAssertEqual(c.training.epochs, 200)
            XCTAssertEqual(c.training.batchSize, 20)
            XCTAssertEqual(c.training.bptt, 70)
            XCTAssertEqual(c.training.clipNorm, 0.25)
            XCTAssertEqual(c.training.seeds, [0, 1, 2, 3, 4], "main_all_*layer.sh: --seed r --run r, r = 0…4")
            XCTAssertEqual(c.training.schedule, .multistep(milestones: [100, 145], gamma: 0.1))
            var ours: Set<String> = []
            for o in c.optimizers {
                let script = try XCTUnwrap(scriptName[o.name], "\(o.name) is not one of main.py's optimizers")
                // SGD's files carry main.py's default --eps 1e-8, which SGD does not read.
                let eps = o.name == "sgd" ? 1e-8 : try XCTUnwrap(number(o.options, "eps"), "\(o.name) eps")
                ours.insert("\(script) lr \(o.lr) eps \(eps)")
                XCTAssertEqual(o.weightDecay, 1.2e-6, "\(o.name): --wdecay 1.2e-6")
                if o.name != "sgd" { XCTAssertEqual(o.options["betas"], .list([0.9, 0.999]), o.name) }
            }
            XCTAssertEqual(ours, curves[layers], "\(layers) layers")
            let byName = Dictionary(grouping: c.optimizers, by: \.name)
            XCTAssertEqual(byName["adamomentum"]?.first?.options["weightDecouple"], .bool(false), "AdaM3(weight_decouple=False)")
            XCTAssertEqual(byName["adabound"]?.first.flatMap { number($0.options, "finalLr") }, 30, "AdaBound(final_lr=30)")
            XCTAssertEqual(byName["radam"]?.first?.options["degeneratedToSGD"], .bool(true), "RAdam.py's default")
            XCTAssertEqual(byName["sgd"]?.first.flatMap { number($0.options, "momentum") }, 0, "torch.optim.SGD without momentum")
        }
    }

    func testBadAWDLSTMModelKeysAreErrorsWithMessages() {
        func json(_ model: String) -> String {
            tinyConfigJSON().replacingOccurrences(of: #""name": "cifar10", "synthetic": {"train": 384, "test": 128, "seed": 3}"#,
                                                  with: #""name": "ptb", "synthetic": {"train": 60, "test": 20, "seed": 3}"#)
                .replacingOccurrences(of: #""model": {"name": "resnet-tiny"}"#, with: #""model": \#(model)"#)
        }
        XCTAssertEqual(configProblems(json(#"{"name": "awd-lstm-tiny", "weightDrop": "fixed"}"#)),
                       [#"model.weightDrop: must be "authors" (their weight_drop.py as it behaves: the raw hidden-to-hidden matrices get no gradient) or "correct", got "fixed""#])
        XCTAssertEqual(configProblems(json(#"{"name": "awd-lstm-1layer", "dropout": 0.3}"#)),
                       ["model.dropout: awd-lstm-1layer has five dropouts with the authors' values (output 0.4, between layers 0.25, "
                        + "input 0.4, embedding 0.1, weight drop 0.5); leave `dropout` out"])
        XCTAssertEqual(configProblems(json(#"{"name": "awd-lstm-1layer", "tiedWeights": false}"#)),
                       ["model.tiedWeights: awd-lstm-1layer is always tied, as the authors' main.py; leave `tiedWeights` out"])
        XCTAssertEqual(configProblems(json(#"{"name": "lstm-tiny", "weightDrop": "correct"}"#)),
                       [#"model.weightDrop: applies to the AWD-LSTMs (awd-lstm-1layer, -2layer, -3layer) only, not to "lstm-tiny""#])
        XCTAssertEqual(try parseConfig(json(#"{"name": "awd-lstm-tiny", "weightDrop": "correct"}"#)).model.weightDrop, .correct)
    }

    /// With the authors' weight drop the raw hidden-to-hidden matrices get no gradient, so the optimizer (here
    /// AdaMomentum with L2 1.2e-6, after clipping at 0.25, as main.py) leaves them exactly at their initial values,
    /// weight decay included, while every other parameter moves; with the correct weight drop they train.
    func testTheAuthorsRawRecurrentWeightsStayAtTheirInitialValues() throws {
        for variant in AWDLSTMWeightDrop.allCases {
            let model = try ModelZoo.make(ModelConfiguration(name: "awd-lstm-tiny", vocabulary: 40, weightDrop: variant), seed: 4)
            guard case .awdLanguageModel(let lm) = model else { return XCTFail("not an AWD-LSTM") }
            let parameters = lm.namedParameters
            let initial = parameters.map { $0.1.value.array }
            let optimizer = try makeOptimizer("adamomentum", parameters: parameters.map { NamedParameter($0.0, $0.1) },
                                              options: ["lr": .number(1e-2), "eps": .number(1e-16), "weightDecay": .number(1.2e-6),
                                                        "weightDecouple": .bool(false), "rectify": .bool(false)])
            var state = lm.zeroState(batch: 3)
            for step in 0..<3 {
                let tokens = (0..<15).map { Int32(($0 * 11 + step * 5) % 40) }, targets = (0..<15).map { Int32(($0 * 7 + step) % 40) }
                var context = ForwardContext(training: true, generator: RandomGenerator(seed: 9).fork(step))
                lm.zeroGradients()
                let tape = Tape()
                let output = tape.record { lm.forward(tokens: tokens, steps: 5, batch: 3, state: state, &context) }
                let loss = tape.record { lm.trainingLoss(output, targets: targets, steps: 5, batch: 3).total }
                tape.backward(from: loss)
                _ = clipGradientNorm(parameters.map(\.1), maxNorm: 0.25)
                optimizer.step()
                state = output.state
            }
            for ((name, p), before) in zip(parameters, initial) {
                let frozen = variant == .authors && name.hasSuffix("weight_hh_l0_raw")
                XCTAssertEqual(p.value.array == before, frozen, "\(variant): \(name) \(frozen ? "kept" : "left") its initial values")
            }
        }
    }
}

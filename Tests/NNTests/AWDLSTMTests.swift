import Engine
import Foundation
@testable import NN
import TestSupport
import XCTest

/// The AWD-LSTM against the AdaMomentum authors' own model code (wyzjack/AdaM3 e715cde, model.py and its
/// helpers) run by PyTorch in float64: fixtures from scripts/fixtures/make_awd_lstm_fixtures.py, at
/// vocabulary 23, embedding 5, hidden 7, 6 steps × 3 sequences, 1 and 3 layers, with dropout off and with
/// each dropout's masks (weight drop, locked dropout, embedding dropout) fixed and replayed here.
///
/// Error model: our pass is float32, the reference float64 (stored rounded to float32, 6e-8 relative).
/// Every number here comes out of sums of at most K = 28 terms (vocabulary 23, 4H = 28 gate rows,
/// T·B = 18 rows), chained through at most 6 steps × 3 layers forward and back; each sum rounds with
/// relative error ≤ K·u (u = 2⁻²⁴), about √K·u typically, and the recurrence carries errors forward
/// with a gain below 1 (forget gates ≈ 0.5 at this init). So each element's error is expected near
/// 18 · √28 · u ≈ 6e-7 of the tensor's largest value and bounded by 18 · 28 · u ≈ 3e-5 in the worst
/// case; the tolerance, 1e-5 of the tensor's largest |value| (loss: of the loss), sits between the
/// two. A wrong mask, a mask applied at the wrong place or a missing penalty moves the numbers by 1e-3
/// or more of their scale (checked below for the masks).
final class AWDLSTMTests: XCTestCase {
    static let tolerance = 1e-5

    private func fixture(_ name: String) throws -> SafetensorsArchive {
        guard let url = Bundle.module.url(forResource: name, withExtension: "safetensors", subdirectory: "Fixtures") else {
            throw SafetensorsError("fixture \(name).safetensors is missing from Tests/NNTests/Fixtures; run scripts/fixtures/make_awd_lstm_fixtures.py")
        }
        return try SafetensorsArchive.read(contentsOf: url)
    }

    private func integers(_ archive: SafetensorsArchive, _ name: String) throws -> [Int32] {
        guard case .int64(_, let values) = archive[name] else { throw SafetensorsError("fixture has no I64 tensor \(name)") }
        return values.map { Int32($0) }
    }

    /// The fixture's model: the zoo's structure at the fixture's sizes, its parameters loaded by state_dict key.
    private func model(_ f: SafetensorsArchive, layers: Int, variant: AWDLSTMWeightDrop) throws -> AWDLSTMLanguageModel {
        var s = AWDLSTMSettings(vocabulary: 23)
        s.embeddingSize = 5
        s.hiddenSize = 7
        s.layers = layers
        s.weightDropVariant = variant
        for (key, keyPath) in [("dropout", \AWDLSTMSettings.dropoutOutput), ("dropouth", \.dropoutHidden), ("dropouti", \.dropoutInput),
                               ("dropoute", \.dropoutEmbedding)] {
            s[keyPath: keyPath] = Float(try XCTUnwrap(f.metadata[key]))!
        }
        s.weightDrop = 0.5  // the wrapper is always built (main.py's --wdrop 0.5); the case's own p is in its masks
        let m = try AWDLSTMLanguageModel(s)
        let names = m.namedState().map(\.0)
        XCTAssertEqual(names.joined(separator: ","), f.metadata["state_dict_keys"], "state_dict keys and order")
        for (name, value) in m.namedState() {
            guard case .parameter(let p) = value else { continue }
            let stored = try f.floatTensor("param." + name, source: "fixture")
            XCTAssertEqual(stored.shape, p.shape, name)
            p.value.data.update(from: stored.data, count: stored.count)
        }
        return m
    }

    /// The fixture's masks as our model takes them: keep × 1/(1 − p).
    private func masks(_ f: SafetensorsArchive, layers: Int) throws -> AWDLSTMMasks {
        func scaled(_ name: String, _ p: String) throws -> Tensor? {
            guard f[name] != nil else { return nil }
            let keep = try f.floatTensor(name, source: "fixture")
            let factor = 1 / (1 - Float(try XCTUnwrap(f.metadata[p]))!)
            return Tensor(shape: keep.shape, values: keep.array.map { $0 * factor })
        }
        return AWDLSTMMasks(embedding: try scaled("mask.embedding", "dropoute"), input: try scaled("mask.input", "dropouti"),
                            weight: try (0..<layers).map { try scaled("mask.weight.\($0)", "wdrop") },
                            hidden: try (0..<(layers - 1)).map { try scaled("mask.hidden.\($0)", "dropouth") },
                            output: try scaled("mask.output", "dropout"))
    }

    private struct Pass {
        let loss: Double, crossEntropy: Double
        let logits: Tensor
        let state: LSTMState
    }

    private func run(_ m: AWDLSTMLanguageModel, _ f: SafetensorsArchive, layers: Int, masks: AWDLSTMMasks) throws -> Pass {
        let tokens = try integers(f, "tokens"), targets = try integers(f, "targets")
        let state = LSTMState(hidden: try (0..<layers).map { try f.floatTensor("h0.\($0)", source: "fixture") },
                              cell: try (0..<layers).map { try f.floatTensor("c0.\($0)", source: "fixture") })
        var context = ForwardContext(training: f.metadata["mode"] == "train")
        m.zeroGradients()
        let tape = Tape()
        let (output, loss) = tape.record { () -> (AWDLSTMOutput, (total: Variable, crossEntropy: Variable)) in
            let output = m.forward(tokens: tokens, steps: 6, batch: 3, state: state, masks: masks, &context)
            return (output, m.trainingLoss(output, targets: targets, steps: 6, batch: 3))
        }
        tape.backward(from: loss.total)
        return Pass(loss: Double(loss.total.value.scalarValue), crossEntropy: Double(loss.crossEntropy.value.scalarValue),
                    logits: output.logits.value, state: output.state)
    }

    /// max |a − b| / max |b| (b the reference).
    private func relativeError(_ a: Tensor, _ b: Tensor) -> Double {
        precondition(a.count == b.count)
        let scale = b.array.map { abs(Double($0)) }.max() ?? 0
        let difference = zip(a.array, b.array).map { abs(Double($0) - Double($1)) }.max() ?? 0
        return scale > 0 ? difference / scale : difference
    }

    private func check(layers: Int, case name: String, variant: AWDLSTMWeightDrop) throws {
        let f = try fixture("awd-lstm-\(layers)layer-\(name)")
        let m = try model(f, layers: layers, variant: variant)
        let fixtureMasks = try masks(f, layers: layers)
        let pass = try run(m, f, layers: layers, masks: fixtureMasks)
        var worst = 0.0
        func compare(_ what: String, _ error: Double) {
            worst = max(worst, error / Self.tolerance)
            XCTAssertLessThanOrEqual(error, Self.tolerance, "\(layers) layers, \(name), \(variant): \(what) relative error \(error)")
        }
        let loss = Double(try f.floatTensor("loss", source: "fixture").array[0])
        let ce = Double(try f.floatTensor("cross_entropy", source: "fixture").array[0])
        compare("loss", abs(pass.loss - loss) / abs(loss))
        compare("cross-entropy", abs(pass.crossEntropy - ce) / abs(ce))
        compare("logits", relativeError(pass.logits, try f.floatTensor("logits", source: "fixture")))
        for l in 0..<layers {
            compare("h_n of layer \(l)", relativeError(pass.state.hidden[l], try f.floatTensor("hn.\(l)", source: "fixture")))
            compare("c_n of layer \(l)", relativeError(pass.state.cell[l], try f.floatTensor("cn.\(l)", source: "fixture")))
        }
        let noGradient = Set(try XCTUnwrap(f.metadata["no_gradient"]).split(separator: ",").map(String.init))
        XCTAssertEqual(noGradient.count, layers, "PyTorch left every raw W_hh without a gradient")
        for (parameterName, p) in m.namedParameters {
            if noGradient.contains(parameterName) {
                switch variant {
                case .authors:
                    XCTAssertNil(p.grad, "\(parameterName): the authors' weight drop gives the raw matrix no gradient")
                case .correct:
                    let g = try XCTUnwrap(p.grad, "\(parameterName): a correct weight drop gives the raw matrix a gradient")
                    compare("correct gradient of \(parameterName)",
                            relativeError(g, try f.floatTensor("correct_grad." + parameterName, source: "fixture")))
                }
            } else {
                let g = try XCTUnwrap(p.grad, parameterName)
                compare("gradient of \(parameterName)", relativeError(g, try f.floatTensor("grad." + parameterName, source: "fixture")))
            }
        }
        Margin.report("AWD-LSTM \(layers) layers \(name) \(variant)", error: worst * Self.tolerance, tolerance: Self.tolerance)

        // The comparison sees the masks: without them some gradient moves far outside the tolerance.
        if name != "off" {
            _ = try run(m, f, layers: layers, masks: .none(layers: layers))
            var largest = 0.0
            for (parameterName, p) in m.namedParameters where !noGradient.contains(parameterName) {
                largest = max(largest, relativeError(try XCTUnwrap(p.grad), try f.floatTensor("grad." + parameterName, source: "fixture")))
            }
            XCTAssertGreaterThan(largest, 100 * Self.tolerance, "\(layers) layers, \(name): the masks change the gradients")
        }
    }

    func testOneLayerWithoutDropoutMatchesTheAuthorsCode() throws {
        for variant in AWDLSTMWeightDrop.allCases { try check(layers: 1, case: "off", variant: variant) }
    }
    func testThreeLayersWithoutDropoutMatchTheAuthorsCode() throws {
        for variant in AWDLSTMWeightDrop.allCases { try check(layers: 3, case: "off", variant: variant) }
    }
    func testWeightDropMatchesTheAuthorsCode() throws {
        for layers in [1, 3] { for variant in AWDLSTMWeightDrop.allCases { try check(layers: layers, case: "weightdrop", variant: variant) } }
    }
    func testLockedDropoutMatchesTheAuthorsCode() throws {
        for layers in [1, 3] { for variant in AWDLSTMWeightDrop.allCases { try check(layers: layers, case: "locked", variant: variant) } }
    }
    func testEmbeddingDropoutMatchesTheAuthorsCode() throws {
        for layers in [1, 3] { for variant in AWDLSTMWeightDrop.allCases { try check(layers: layers, case: "embedding", variant: variant) } }
    }

    // MARK: Structure, masks from the generator, registration

    /// The sizes and the counts main.py prints (sum of numel over model.parameters(), PyTorch 2.x,
    /// vocabulary 10,000, tied): 5,293,200 / 13,632,400 / 24,221,600 for 1, 2, 3 layers.
    func testZooModelsHaveTheAuthorsSizesAndNames() throws {
        let counts = [1: 5_293_200, 2: 13_632_400, 3: 24_221_600]
        for layers in 1...3 {
            let model = try ModelZoo.makeUninitialized(ModelConfiguration(name: "awd-lstm-\(layers)layer", vocabulary: 10_000))
            guard case .awdLanguageModel(let lm) = model else { return XCTFail("not an AWD-LSTM") }
            XCTAssertEqual(lm.parameterCount, counts[layers])
            XCTAssertEqual(lm.layers.map { [$0.inputSize, $0.hiddenSize] },
                           (0..<layers).map { [$0 == 0 ? 400 : 1150, $0 == layers - 1 ? 400 : 1150] })
            XCTAssert(lm.decoder.weight === lm.encoder.weight, "tied")
            XCTAssertEqual(lm.settings.weightDropVariant, .authors, "the authors' weight drop is the default")
        }
        // Without weight drop the authors build no wrapper: PyTorch's keys for 1 layer.
        var s = AWDLSTMSettings(vocabulary: 10_000)
        s.layers = 1
        s.weightDrop = 0
        XCTAssertEqual(try AWDLSTMLanguageModel(s).namedState().map(\.0),
                       ["encoder.weight", "rnns.0.weight_ih_l0", "rnns.0.weight_hh_l0", "rnns.0.bias_ih_l0", "rnns.0.bias_hh_l0",
                        "decoder.weight", "decoder.bias"])
    }

    /// model.py's init: encoder (= tied decoder) U(−0.1, 0.1), decoder bias 0, LSTM U(±1/√H) with each
    /// layer's own H; the raw W_hh is initialised like the others.
    func testInitialisationFollowsModelPy() throws {
        let model = try ModelZoo.make(ModelConfiguration(name: "awd-lstm-tiny", vocabulary: 50), seed: 3)
        guard case .awdLanguageModel(let lm) = model else { return XCTFail("not an AWD-LSTM") }
        let e = lm.encoder.weight.value.array
        XCTAssert(e.allSatisfy { abs($0) <= 0.1 } && e.contains { abs($0) > 0.09 })
        XCTAssert(lm.decoder.bias!.value.array.allSatisfy { $0 == 0 })
        for layer in lm.layers {
            let bound = Float(1 / Double(layer.hiddenSize).squareRoot())
            var pooled: [Float] = []
            for (name, p) in layer.lstmMembers {
                guard case .parameter(let p) = p else { continue }
                let largest = p.value.array.map { abs($0) }.max()!
                XCTAssert(largest <= bound && largest > 0.5 * bound, "\(name): largest |value| \(largest), bound \(bound)")
                pooled += p.value.array
            }
            // Uniform on ±bound: the mean |value| is bound/2 (hundreds of values: within 15%).
            let meanAbs = pooled.map { Double(abs($0)) }.reduce(0, +) / Double(pooled.count)
            XCTAssertEqual(meanAbs, Double(bound) / 2, accuracy: 0.15 * Double(bound) / 2)
        }
    }

    /// In training the masks come from the context's generator: the same seed gives the same pass, another
    /// seed another one; the masks hold 0 or 1/(1 − p) with about the right share kept; evaluation has no dropout.
    func testTrainingMasksComeFromTheSeededGenerator() throws {
        let model = try ModelZoo.make(ModelConfiguration(name: "awd-lstm-tiny", vocabulary: 50), seed: 1)
        guard case .awdLanguageModel(let lm) = model else { return XCTFail("not an AWD-LSTM") }
        let tokens = (0..<(5 * 4)).map { Int32($0 % 50) }
        func logits(training: Bool, seed: UInt64) -> [Float] {
            var c = ForwardContext(training: training, generator: RandomGenerator(seed: seed))
            return Tape.withoutGradients { lm.forward(tokens: tokens, steps: 5, batch: 4, state: lm.zeroState(batch: 4), &c).logits.value.array }
        }
        XCTAssertEqual(logits(training: true, seed: 7), logits(training: true, seed: 7))
        XCTAssertNotEqual(logits(training: true, seed: 7), logits(training: true, seed: 8))
        XCTAssertEqual(logits(training: false, seed: 7), logits(training: false, seed: 8))
        var g = RandomGenerator(seed: 11)
        let masks = lm.drawMasks(batch: 200, generator: &g)
        let weight = try XCTUnwrap(masks.weight[0]).array
        XCTAssert(weight.allSatisfy { $0 == 0 || $0 == 2 }, "weight drop 0.5: 0 or 2")
        let kept = Double(weight.filter { $0 > 0 }.count) / Double(weight.count)
        XCTAssertEqual(kept, 0.5, accuracy: 0.1)
        let input = try XCTUnwrap(masks.input).array
        XCTAssert(input.allSatisfy { $0 == 0 || abs($0 - 1 / 0.6) < 1e-6 })
        XCTAssertEqual(Double(input.filter { $0 > 0 }.count) / Double(input.count), 0.6, accuracy: 0.05)
        XCTAssertEqual(try XCTUnwrap(masks.embedding).shape, [50])
        XCTAssertEqual(masks.hidden.count, 2)

        // Built without weight drop (no wrapper, W_hh trains as a plain LSTM's), a later dropout draws no weight mask.
        var s = AWDLSTMSettings(vocabulary: 20)
        s.embeddingSize = 4
        s.hiddenSize = 6
        s.weightDrop = 0
        let plain = try AWDLSTMLanguageModel(s)
        plain.setDropout(0.3)
        var g2 = RandomGenerator(seed: 1)
        let plainMasks = plain.drawMasks(batch: 2, generator: &g2)
        XCTAssert(plainMasks.weight.allSatisfy { $0 == nil })
        XCTAssertNotNil(plainMasks.input)
        var c = ForwardContext(training: true, generator: RandomGenerator(seed: 2))
        let tape = Tape()
        let loss = tape.record {
            plain.trainingLoss(plain.forward(tokens: [1, 2, 3, 4, 5, 6], steps: 3, batch: 2, state: plain.zeroState(batch: 2), &c),
                               targets: [2, 3, 4, 5, 6, 7], steps: 3, batch: 2).total
        }
        tape.backward(from: loss)
        XCTAssertNotNil(plain.layers[0].weightHH.grad, "without the wrapper W_hh is an ordinary trained parameter")
    }

    /// The authors' variant leaves the raw W_hh without a gradient in training too; the correct one trains it.
    func testWeightDropVariantsInATrainingPass() throws {
        for variant in AWDLSTMWeightDrop.allCases {
            let model = try ModelZoo.make(ModelConfiguration(name: "awd-lstm-tiny", vocabulary: 30, weightDrop: variant), seed: 2)
            guard case .awdLanguageModel(let lm) = model else { return XCTFail("not an AWD-LSTM") }
            let tokens = (0..<12).map { Int32(($0 * 7) % 30) }
            var c = ForwardContext(training: true, generator: RandomGenerator(seed: 5))
            let tape = Tape()
            let loss = tape.record {
                lm.trainingLoss(lm.forward(tokens: tokens, steps: 4, batch: 3, state: lm.zeroState(batch: 3), &c),
                                targets: tokens.reversed(), steps: 4, batch: 3).total
            }
            tape.backward(from: loss)
            for (name, p) in lm.namedParameters {
                if name.hasSuffix("weight_hh_l0_raw") {
                    XCTAssertEqual(p.grad == nil, variant == .authors, "\(variant): \(name)")
                } else {
                    XCTAssertNotNil(p.grad, "\(variant): \(name)")
                }
            }
        }
    }

    // MARK: Bad inputs

    func testBadSettingsAreRejectedWithAMessage() {
        func message(_ change: (inout AWDLSTMSettings) -> Void) -> String {
            var s = AWDLSTMSettings(vocabulary: 10)
            change(&s)
            do { _ = try AWDLSTMLanguageModel(s); return "no error" } catch { return "\(error)" }
        }
        XCTAssertEqual(message { $0.layers = 0 }, "the AWD-LSTM needs at least 1 layer, got 0")
        XCTAssertEqual(message { $0.vocabulary = 0 }, "the vocabulary must hold at least one word, got 0")
        XCTAssertEqual(message { $0.hiddenSize = 0 }, "the AWD-LSTM needs embedding and hidden sizes of at least 1, got 400 and 0")
        XCTAssertEqual(message { $0.weightDrop = 1 }, "AWD-LSTM wdrop must be in [0, 1), got 1.0")
        XCTAssertEqual(message { $0.dropoutEmbedding = -0.1 }, "AWD-LSTM dropoute must be in [0, 1), got -0.1")
        XCTAssertEqual(message { $0.temporalPenalty = -1 }, "AWD-LSTM beta (TAR) must be a finite number ≥ 0, got -1.0")
        XCTAssertThrowsError(try ModelZoo.makeUninitialized(ModelConfiguration(name: "awd-lstm-2layer", vocabulary: 10, dropout: 0.3))) {
            XCTAssertEqual("\($0)", "awd-lstm-2layer has five dropouts with the authors' values (output 0.4, between layers 0.25, "
                           + "input 0.4, embedding 0.1, weight drop 0.5); one dropout 0.3 cannot set them: leave `dropout` out")
        }
    }
}

import Engine
import Foundation
import TestSupport
import XCTest

/// The fused LSTM layer op: finite-difference gradients, and equality with the same recurrence
/// written as primitive ops (the way the LSTM layer was built before the fused op).
final class LSTMSequenceTests: XCTestCase {
    /// The recurrence from primitive ops: per step a linear for h·W_hhᵀ + b_hh, gate slices,
    /// sigmoid/tanh, products and sums, then the steps concatenated.
    private func composed(projected: Variable, weightHH: Variable, biasHH: Variable, h0: Tensor, c0: Tensor,
                          steps: Int, batch: Int) -> (hidden: Variable, lastHidden: Tensor, lastCell: Tensor) {
        let h = weightHH.shape[1]
        var hPrev = Variable(h0), cPrev = Variable(c0)
        var outputs: [Variable] = []
        for t in 0..<steps {
            let gates = add(slice(projected, axis: 0, start: t * batch, length: batch), linear(hPrev, weight: weightHH, bias: biasHH))
            let i = sigmoid(slice(gates, axis: 1, start: 0, length: h))
            let f = sigmoid(slice(gates, axis: 1, start: h, length: h))
            let g = tanh(slice(gates, axis: 1, start: 2 * h, length: h))
            let o = sigmoid(slice(gates, axis: 1, start: 3 * h, length: h))
            cPrev = add(mul(f, cPrev), mul(i, g))
            hPrev = mul(o, tanh(cPrev))
            outputs.append(hPrev)
        }
        return (concat(outputs, axis: 0), hPrev.value, cPrev.value)
    }

    /// max |a − b| ≤ tolerance · max |b|
    private func assertClose(_ a: Tensor, _ b: Tensor, tolerance: Float = 1e-5, _ what: String,
                             file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.shape, b.shape, what, file: file, line: line)
        let scale = max(b.array.map(abs).max() ?? 0, 1e-30)
        let difference = zip(a.array, b.array).map { abs($0 - $1) }.max() ?? 0
        Margin.report("LSTM \(what)", error: Double(difference), tolerance: Double(tolerance * scale))
        XCTAssertLessThanOrEqual(difference, tolerance * scale, "\(what): differs by \(difference) (scale \(scale))", file: file, line: line)
    }

    func testGradientsMatchFiniteDifferences() {
        // H = 3 runs only the one-unit tail of the kernels; H = 6 runs a four-unit block and a tail.
        // threads 2 and 3: the units split into blocks run side by side (6 units in 3 + 3, 3 units in 1 + 1 + 1).
        for (steps, batch, h, threads) in [(3, 2, 3, 1), (4, 3, 6, 1), (4, 3, 6, 2), (3, 2, 3, 3)] {
            let projected = randomVariable([steps * batch, 4 * h], seed: 21)
            let weightHH = randomVariable([4 * h, h], seed: 22, std: 0.7)
            let biasHH = randomVariable([4 * h], seed: 23, std: 0.5)
            let h0 = randomTensor([batch, h], seed: 24, std: 0.5), c0 = randomTensor([batch, h], seed: 25)
            checkGradients([projected, weightHH, biasHH]) {
                lstmSequence(projected: projected, weightHH: weightHH, biasHH: biasHH, h0: h0, c0: c0,
                             steps: steps, batch: batch, threads: threads).hidden
            }
        }
    }

    func testEqualsTheCompositionOfPrimitiveOps() {
        // threads nil: one block at these sizes; 2 and 3: blocks side by side, 3 with uneven blocks (10 = 3 + 3 + 4).
        // Batch 11 and H 40: the per-step GEMMs run full 5-row blocks and full 16-column panels of the
        // packed kernel, plus a partial one of each.
        for (steps, batch, h, threads) in [(1, 1, 4, nil), (5, 3, 10, nil), (7, 4, 16, nil), (7, 4, 16, 2), (5, 3, 10, 3),
                                           (4, 11, 40, 2)] {
            let projected = randomVariable([steps * batch, 4 * h], seed: 31)
            let weightHH = randomVariable([4 * h, h], seed: 32, std: 0.5)
            let biasHH = randomVariable([4 * h], seed: 33, std: 0.5)
            let h0 = randomTensor([batch, h], seed: 34, std: 0.5), c0 = randomTensor([batch, h], seed: 35)
            let r = randomTensor([steps * batch, h], seed: 36)

            func run(_ fused: Bool) -> (hidden: Tensor, lastHidden: Tensor, lastCell: Tensor, grads: [Tensor]) {
                for v in [projected, weightHH, biasHH] { v.zeroGrad() }
                let tape = Tape()
                var result: (hidden: Variable, lastHidden: Tensor, lastCell: Tensor)!
                let loss = tape.record { () -> Variable in
                    if fused {
                        let s = lstmSequence(projected: projected, weightHH: weightHH, biasHH: biasHH, h0: h0, c0: c0,
                                             steps: steps, batch: batch, threads: threads)
                        result = (s.hidden, s.lastHidden, s.lastCell)
                    } else {
                        result = composed(projected: projected, weightHH: weightHH, biasHH: biasHH, h0: h0, c0: c0, steps: steps, batch: batch)
                    }
                    return sum(mul(result.hidden, Variable(r)))
                }
                tape.backward(from: loss)
                return (result.hidden.value, result.lastHidden, result.lastCell, [projected, weightHH, biasHH].map { $0.grad!.copy() })
            }
            let fused = run(true), reference = run(false)
            let name = "T \(steps), B \(batch), H \(h), threads \(threads.map(String.init) ?? "default")"
            assertClose(fused.hidden, reference.hidden, "\(name): hidden states")
            assertClose(fused.lastHidden, reference.lastHidden, "\(name): last h")
            assertClose(fused.lastCell, reference.lastCell, "\(name): last c")
            for (k, what) in ["projected input", "weight_hh", "bias_hh"].enumerated() {
                assertClose(fused.grads[k], reference.grads[k], "\(name): gradient of \(what)")
            }

            // Without a tape: the same values, nothing recorded.
            let plain = Tape.withoutGradients {
                lstmSequence(projected: projected, weightHH: weightHH, biasHH: biasHH, h0: h0, c0: c0,
                             steps: steps, batch: batch, threads: threads)
            }
            XCTAssertFalse(plain.hidden.requiresGrad)
            XCTAssertEqual(plain.hidden.value.array, fused.hidden.array, "\(name): no-tape forward")
        }
    }

    /// Saturating pre-activations give exact 0/1 gates and ±1 tanh, with no NaN or infinity.
    func testLargePreActivationsStayFinite() {
        let (steps, batch, h) = (2, 1, 5)
        let values = (0..<(steps * batch * 4 * h)).map { Float($0 % 2 == 0 ? 500 : -500) }
        let projected = Variable(Tensor(shape: [steps * batch, 4 * h], values: values), requiresGrad: true)
        let weightHH = Variable(Tensor(zeros: [4 * h, h]), requiresGrad: true)
        let biasHH = Variable(Tensor(zeros: [4 * h]), requiresGrad: true)
        let tape = Tape()
        let s = tape.record {
            lstmSequence(projected: projected, weightHH: weightHH, biasHH: biasHH,
                         h0: Tensor(zeros: [batch, h]), c0: Tensor(zeros: [batch, h]), steps: steps, batch: batch)
        }
        tape.backward(from: tape.record { sum(s.hidden) })
        for x in s.hidden.value.array + projected.grad!.array + weightHH.grad!.array {
            XCTAssertTrue(x.isFinite)
        }
        XCTAssertTrue(s.hidden.value.array.allSatisfy { abs($0) <= 1 })
    }

    /// Every lane against Foundation, with different inputs in the lanes of a vector.
    func testFastMathAgainstFoundation() {
        var worstExp: Float = 0, worstTanh: Float = 0, worstSigmoid: Float = 0
        var x: Float = -80
        while x < 80 {
            var v = FloatVector()
            for lane in 0..<Kernels.vectorWidth { v[lane] = x + Float(lane) * 0.0019 }
            let e = Kernels.fastExp(v), e2 = Kernels.fastExpShortChain(v), t = Kernels.fastTanh(v), s = Kernels.fastSigmoid(v)
            for lane in 0..<Kernels.vectorWidth {
                let y = v[lane], exact = Foundation.exp(y)
                worstExp = max(worstExp, abs(e[lane] - exact) / exact, abs(e2[lane] - exact) / exact)
                worstTanh = max(worstTanh, abs(t[lane] - Foundation.tanh(y)))
                worstSigmoid = max(worstSigmoid, abs(s[lane] - 1 / (1 + Foundation.exp(-y))))
            }
            x += 0.0173
        }
        XCTAssertLessThan(worstExp, 1e-6, "exp relative error")
        XCTAssertLessThan(worstTanh, 3e-7, "tanh absolute error")
        XCTAssertLessThan(worstSigmoid, 2e-7, "sigmoid absolute error")
        XCTAssertEqual(Kernels.fastExp(FloatVector(repeating: -1000))[0], Kernels.fastExp(FloatVector(repeating: -87))[0])
        XCTAssertTrue(Kernels.fastExp(FloatVector(repeating: 1000))[0].isFinite)
    }
}

/// Cross-entropy on rows as wide as the language model's (vector passes, blocked sums, a tail)
/// against a double-precision reference.
final class WideCrossEntropyTests: XCTestCase {
    func testWideRowsMatchDoublePrecision() {
        let (rows, cols) = (3, 4_103)  // two blocks of 2,048 columns and a tail of 7
        let logits = randomVariable([rows, cols], seed: 41, std: 4)
        let labels: [Int32] = [0, 2_000, 4_102]
        let tape = Tape()
        let loss = tape.record { crossEntropy(logits, labels: labels) }
        tape.backward(from: loss)
        var expected = 0.0
        for r in 0..<rows {
            let x = (0..<cols).map { Double(logits.value[r * cols + $0]) }
            let m = x.max()!
            let s = x.reduce(0) { $0 + Foundation.exp($1 - m) }
            expected += (m + Foundation.log(s) - x[Int(labels[r])]) / Double(rows)
            for j in 0..<cols {
                let grad = (Foundation.exp(x[j] - m) / s - (j == Int(labels[r]) ? 1 : 0)) / Double(rows)
                XCTAssertEqual(Double(logits.grad![r * cols + j]), grad, accuracy: 1e-7, "row \(r) column \(j)")
            }
        }
        XCTAssertEqual(Double(loss.value.scalarValue), expected, accuracy: 1e-5 * expected)
    }
}

import Engine
import Foundation
import Optim
import XCTest

/// LR schedules against torch.optim.lr_scheduler (Fixtures/schedules.json), bit for bit.
final class ScheduleTests: XCTestCase {
    struct File: Decodable {
        struct Case: Decodable {
            let schedule: String
            let options: OptimizerOptions
            let baseLr: Double
            /// The lr of each epoch as Python's float.hex().
            let lrs: [String]
        }
        let epochs: Int
        let cases: [Case]
    }

    func testEveryScheduleMatchesPyTorchFor200EpochsBitForBit() throws {
        let file = try Fixtures.load("schedules.json", as: File.self)
        XCTAssertEqual(file.epochs, 200)
        XCTAssertEqual(Set(file.cases.map(\.schedule)), Set(LRSchedule.names))
        for c in file.cases {
            let schedule = try LRSchedule(name: c.schedule, options: c.options)
            for (epoch, hex) in c.lrs.enumerated() {
                let expected = try XCTUnwrap(Double(hex), "cannot read \(hex)")
                let actual = schedule.learningRate(epoch: epoch, initialLr: c.baseLr)
                XCTAssertEqual(actual.bitPattern, expected.bitPattern,
                               "\(c.schedule) \(c.options) epoch \(epoch): \(actual) vs PyTorch \(expected)")
            }
        }
    }

    func testThePaperCIFAR10ScheduleDividesBy10AtEpochs80And160() throws {
        let schedule = try LRSchedule(name: "multistep", options: ["milestones": .list([80, 160])])
        XCTAssertEqual(schedule, .multistep(milestones: [80, 160], gamma: 0.1))
        XCTAssertEqual(schedule.learningRate(epoch: 79, initialLr: 0.1), 0.1)
        XCTAssertEqual(schedule.learningRate(epoch: 80, initialLr: 0.1), 0.1 * 0.1)
        XCTAssertEqual(schedule.learningRate(epoch: 159, initialLr: 0.1), 0.1 * 0.1)
        XCTAssertEqual(schedule.learningRate(epoch: 160, initialLr: 0.1), 0.1 * 0.1 * 0.1)
    }

    func testSetLearningRatesScalesEveryGroupFromItsInitialLr() throws {
        let a = Variable(Tensor(zeros: [2]), requiresGrad: true), b = Variable(Tensor(zeros: [3]), requiresGrad: true)
        let optimizer = try makeOptimizer("sgdm", groups: [
            ParameterGroupSpec(parameters: [NamedParameter("a", a)], options: ["lr": .number(0.1)]),
            ParameterGroupSpec(parameters: [NamedParameter("b", b)], options: ["lr": .number(0.5)]),
        ])
        let schedule = LRSchedule.step(stepSize: 10, gamma: 0.5)
        optimizer.setLearningRates(schedule, epoch: 25)
        XCTAssertEqual(optimizer.groups.map(\.lr), [0.1 * 0.5 * 0.5, 0.5 * 0.5 * 0.5])
        optimizer.setLearningRates(schedule, epoch: 0)
        XCTAssertEqual(optimizer.groups.map(\.lr), [0.1, 0.5])
    }

    func testScheduleValidationMessages() {
        func message(_ name: String, _ options: OptimizerOptions) -> String {
            do {
                _ = try LRSchedule(name: name, options: options)
                return "no error"
            } catch { return "\(error)" }
        }
        XCTAssertEqual(message("multistep", [:]), "schedule multistep: milestones is required (it has no default)")
        XCTAssertEqual(message("multistep", ["milestones": .list([80, 160.5])]),
                       "schedule multistep: milestones[1] must be a whole number, got 160.5")
        XCTAssertEqual(message("multistep", ["milestones": .list([0])]), "schedule multistep: milestones[0] must be >= 1, got 0")
        XCTAssertEqual(message("step", ["stepSize": .number(30), "gamma": .number(-0.1)]),
                       "schedule step: gamma must be >= 0, got -0.1")
        XCTAssertEqual(message("step", [:]), "schedule step: stepSize is required (it has no default)")
        XCTAssertEqual(message("cosine", ["tMax": .number(0)]), "schedule cosine: tMax must be >= 1, got 0")
        XCTAssertEqual(message("cosine", ["tMax": .number(10), "T_max": .number(10)]),
                       "schedule cosine: unknown key 'T_max' (did you mean 'tMax'?); valid keys: tMax, etaMin")
        XCTAssertEqual(message("constant", ["gamma": .number(0.1)]), "schedule constant: unknown key 'gamma'; it has no settings")
        XCTAssertEqual(message("linear", [:]), "unknown schedule 'linear'; known schedules: constant, multistep, step, cosine")
    }
}

/// Gradient clipping by global L2 norm against torch.nn.utils.clip_grad_norm_ (Fixtures/clipping.json).
final class GradientClippingTests: XCTestCase {
    struct File: Decodable {
        struct Case: Decodable {
            let maxNorm: Double
            let gradients: [[Float]]
            let shapes: [[Int]]
            let totalNorm: Double
            let clipped: [[Float]]
        }
        let cases: [Case]
    }

    func testMatchesPyTorch() throws {
        let file = try Fixtures.load("clipping.json", as: File.self)
        XCTAssertTrue(file.cases.contains { $0.totalNorm > $0.maxNorm } && file.cases.contains { $0.totalNorm < $0.maxNorm })
        for c in file.cases {
            let variables = zip(c.gradients, c.shapes).map { g, shape -> Variable in
                let v = Variable(Tensor(zeros: shape), requiresGrad: true)
                v.grad = Tensor(shape: shape, values: g)
                return v
            }
            let withoutGradient = Variable(Tensor(zeros: [3]), requiresGrad: true)
            let norm = clipGradientNorm(variables + [withoutGradient], maxNorm: c.maxNorm)
            XCTAssertEqual(norm, c.totalNorm, accuracy: 1e-6 * c.totalNorm)
            for (v, expected) in zip(variables, c.clipped) {
                XCTAssertLessThanOrEqual(maxRelativeError(v.grad!.array, expected), 1e-6)
            }
            XCTAssertNil(withoutGradient.grad)
        }
    }

    func testClippedNormEqualsMaxNorm() {
        let v = Variable(Tensor(zeros: [100_000]), requiresGrad: true)
        var rng = RandomGenerator(seed: 5)
        let g = Tensor(zeros: [100_000])
        rng.fillNormal(g)
        v.grad = g
        let before = clipGradientNorm([v], maxNorm: 0.25)
        XCTAssertGreaterThan(before, 100)
        XCTAssertEqual(clipGradientNorm([v], maxNorm: 1e9), 0.25, accuracy: 1e-5)
    }
}

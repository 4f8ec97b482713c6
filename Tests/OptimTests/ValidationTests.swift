import Engine
import Optim
import XCTest

/// Settings are checked when an optimizer is built, with messages that say what is wrong.
final class ValidationTests: XCTestCase {
    let x = NamedParameter("x", Variable(Tensor(zeros: [2]), requiresGrad: true))

    func message(_ name: String, _ options: OptimizerOptions) -> String {
        do {
            _ = try makeOptimizer(name, parameters: [x], options: options)
            return "no error"
        } catch { return "\(error)" }
    }

    func testRangeMessages() {
        XCTAssertEqual(message("adai", ["lr": .number(1), "betas": .list([0.1, 1.2])]), "adai: betas[1] must be in [0, 1), got 1.2")
        XCTAssertEqual(message("adai", ["lr": .number(1), "betas": .list([-0.1, 0.99])]), "adai: betas[0] must be >= 0, got -0.1")
        XCTAssertEqual(message("adam", ["betas": .list([1.0, 0.999])]), "adam: betas[0] must be in [0, 1), got 1.0")
        XCTAssertEqual(message("adam", ["lr": .number(-0.001)]), "adam: lr must be >= 0, got -0.001")
        XCTAssertEqual(message("adamw", ["eps": .number(-1e-8)]), "adamw: eps must be >= 0, got -1e-08")
        XCTAssertEqual(message("sgd", ["weightDecay": .number(-5e-4)]), "sgd: weightDecay must be >= 0, got -0.0005")
        XCTAssertEqual(message("sgdm", ["momentum": .number(-0.9)]), "sgdm: momentum must be >= 0, got -0.9")
        XCTAssertEqual(message("sgd", ["dampening": .number(1.5)]), "sgd: dampening must be in [0, 1], got 1.5")
        XCTAssertEqual(message("adabound", ["gamma": .number(1)]), "adabound: gamma must be in [0, 1), got 1.0")
        XCTAssertEqual(message("adabound", ["finalLr": .number(-0.1)]), "adabound: finalLr must be >= 0, got -0.1")
        XCTAssertEqual(message("adabound", ["lr": .number(0)]),
                       "adabound: lr must be > 0 (the final lr is finalLr·lr/initial lr), got 0.0")
        XCTAssertEqual(message("padam", ["partial": .number(0.75)]), "padam: partial must be in [0.0, 0.5], got 0.75")
        XCTAssertEqual(message("yogi", ["lr": .number(0)]), "yogi: lr must be > 0, got 0.0")
        XCTAssertEqual(message("yogi", ["initialAccumulator": .number(-1)]), "yogi: initialAccumulator must be >= 0, got -1.0")
        XCTAssertEqual(message("adaiv2", ["lr": .number(1), "dampening": .number(1.5)]), "adaiv2: dampening must be in [0, 1], got 1.5")
        XCTAssertEqual(message("adam", ["lr": .number(.nan)]), "adam: lr must be a finite number, got nan")
    }

    func testRequiredAndRelatedKeys() {
        XCTAssertEqual(message("adai", [:]), "adai: lr is required (it has no default)")
        XCTAssertEqual(message("adaiw", ["weightDecay": .number(5e-4)]), "adaiw: lr is required (it has no default)")
        XCTAssertEqual(message("sgd", ["nesterov": .bool(true)]),
                       "sgd: nesterov needs momentum > 0 and dampening 0, got momentum 0.0 and dampening 0.0")
        XCTAssertEqual(message("sgdm", ["nesterov": .bool(true), "dampening": .number(0.1)]),
                       "sgdm: nesterov needs momentum > 0 and dampening 0, got momentum 0.9 and dampening 0.1")
    }

    func testTypeMessages() {
        XCTAssertEqual(message("adam", ["betas": .number(0.9)]), "adam: betas must be a list of 2 numbers, got 0.9")
        XCTAssertEqual(message("adam", ["betas": .list([0.9, 0.99, 0.999])]),
                       "adam: betas must be a list of 2 numbers, got [0.9, 0.99, 0.999]")
        XCTAssertEqual(message("adam", ["amsgrad": .number(1)]), "adam: amsgrad must be true or false, got 1.0")
        XCTAssertEqual(message("adam", ["lr": .bool(true)]), "adam: lr must be a number, got true")
    }

    func testUnknownKeysListTheValidOnes() {
        XCTAssertEqual(message("adam", ["momentum": .number(0.9)]),
                       "adam: unknown key 'momentum'; valid keys: lr, betas, eps, weightDecay, amsgrad")
        XCTAssertEqual(message("sgd", ["weight_decay": .number(0), "lr": .number(0.1), "Momentum": .number(0.9)]),
                       "sgd: unknown keys 'Momentum', 'weight_decay'; valid keys: lr, momentum, dampening, weightDecay, nesterov")
        XCTAssertEqual(message("adai", ["lr": .number(1), "dampening": .number(0.5)]),
                       "adai: unknown key 'dampening'; valid keys: lr, betas, eps, weightDecay, decoupled")
        XCTAssertEqual(message("adaiv2", ["lr": .number(1), "amsgrad": .bool(true)]),
                       "adaiv2: unknown key 'amsgrad'; valid keys: lr, betas, eps, weightDecay, decoupled, dampening")
        XCTAssertEqual(message("adabound", ["final_lr": .number(0.1)]),
                       "adabound: unknown key 'final_lr'; valid keys: lr, betas, finalLr, gamma, eps, weightDecay, amsbound")
        XCTAssertEqual(message("padam", ["p": .number(0.1)]),
                       "padam: unknown key 'p'; valid keys: lr, betas, eps, weightDecay, amsgrad, partial")
        XCTAssertEqual(message("yogi", ["initial_accumulator": .number(0.1)]),
                       "yogi: unknown key 'initial_accumulator'; valid keys: lr, betas, eps, initialAccumulator, weightDecay")
        XCTAssertEqual(message("radam", ["degenerated_to_sgd": .bool(true)]),
                       "radam: unknown key 'degenerated_to_sgd'; valid keys: lr, betas, eps, weightDecay, degeneratedToSGD")
        XCTAssertEqual(message("adabelief", ["decoupled": .bool(true)]),
                       "adabelief: unknown key 'decoupled'; valid keys: lr, betas, eps, weightDecay, amsgrad, weightDecouple, fixedDecay, rectify")
        XCTAssertEqual(message("adamomentum", ["x": .bool(true)]),
                       "adamomentum: unknown key 'x'; valid keys: lr, betas, eps, weightDecay, amsgrad, weightDecouple, fixedDecay, rectify, degeneratedToSGD")
        // Unknown keys are reported before problems with known ones (a typo often explains both).
        XCTAssertEqual(message("adai", ["learningRate": .number(1)]),
                       "adai: unknown key 'learningRate'; valid keys: lr, betas, eps, weightDecay, decoupled")
    }

    func testGroupsAndNames() {
        let y = NamedParameter("y", Variable(Tensor(zeros: [1]), requiresGrad: true))
        XCTAssertThrowsError(try makeOptimizer("adai", groups: [
            ParameterGroupSpec(parameters: [x], options: ["lr": .number(1)]),
            ParameterGroupSpec(parameters: [y], options: ["lr": .number(1), "betas": .list([0.1, 1.0])]),
        ])) { XCTAssertEqual("\($0)", "adai (group 1): betas[1] must be in [0, 1), got 1.0") }
        XCTAssertThrowsError(try makeOptimizer("adam", groups: [
            ParameterGroupSpec(parameters: [x], options: [:]), ParameterGroupSpec(parameters: [x], options: [:]),
        ])) { XCTAssertEqual("\($0)", "adam: parameter 'x' is listed more than once") }
        XCTAssertEqual(message("adamx", [:]),
                       "unknown optimizer 'adamx'; known optimizers: sgd, sgdm, adam, amsgrad, adamw, adabound, padam, yogi, radam, adabelief, adamomentum, adai, adaiw, adaiv2")
    }

    func testDefaultsMatchTheReferenceCode() throws {
        for name in optimizerNames {
            let options: OptimizerOptions = name.hasPrefix("adai") ? ["lr": .number(0.5)] : [:]
            let optimizer = try makeOptimizer(name, parameters: [x], options: options)
            let expectedLr = ["sgd": 1e-3, "sgdm": 1e-3, "padam": 0.1, "yogi": 1e-2][name] ?? (name.hasPrefix("adai") ? 0.5 : 1e-3)
            XCTAssertEqual(optimizer.groups[0].lr, expectedLr, name)
        }
    }

    func testCommandLineValues() throws {
        XCTAssertEqual(try OptionValue(parsing: "0.9"), .number(0.9))
        XCTAssertEqual(try OptionValue(parsing: "true"), .bool(true))
        XCTAssertEqual(try OptionValue(parsing: "0.9,0.999"), .list([0.9, 0.999]))
        XCTAssertEqual(try OptionValue(parsing: "1e-3"), .number(1e-3))
        XCTAssertThrowsError(try OptionValue(parsing: "yes")) {
            XCTAssertEqual("\($0)", "cannot read 'yes' as a number, true/false or a comma-separated list of numbers")
        }
        XCTAssertEqual(try parseOptionAssignments(["betas=0.1,0.99", "decoupled=true", "eps=1e-3"]),
                       ["betas": .list([0.1, 0.99]), "decoupled": .bool(true), "eps": .number(1e-3)])
        XCTAssertThrowsError(try parseOptionAssignments(["eps"])) { XCTAssertEqual("\($0)", "expected key=value, got 'eps'") }
    }
}

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
        XCTAssertEqual(message("adam", ["lr": .number(-0.001)]), "adam: lr must be > 0, got -0.001")
        XCTAssertEqual(message("adamw", ["eps": .number(-1e-8)]), "adamw: eps must be >= 0, got -1e-08")
        XCTAssertEqual(message("sgd", ["weightDecay": .number(-5e-4)]), "sgd: weightDecay must be >= 0, got -0.0005")
        XCTAssertEqual(message("sgdm", ["momentum": .number(-0.9)]), "sgdm: momentum must be >= 0, got -0.9")
        XCTAssertEqual(message("sgd", ["dampening": .number(1.5)]), "sgd: dampening must be in [0, 1], got 1.5")
        XCTAssertEqual(message("adabound", ["gamma": .number(1)]), "adabound: gamma must be in [0, 1), got 1.0")
        XCTAssertEqual(message("adabound", ["finalLr": .number(-0.1)]), "adabound: finalLr must be >= 0, got -0.1")
        XCTAssertEqual(message("adabound", ["lr": .number(0)]),
                       "adabound: lr must be > 0, got 0.0")
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
                       "sgd: unknown keys 'Momentum', 'weight_decay' (did you mean 'momentum', 'weightDecay'?); valid keys: lr, momentum, dampening, weightDecay, nesterov")
        XCTAssertEqual(message("adai", ["lr": .number(1), "dampening": .number(0.5)]),
                       "adai: unknown key 'dampening'; valid keys: lr, betas, eps, weightDecay, decoupled")
        XCTAssertEqual(message("adaiv2", ["lr": .number(1), "amsgrad": .bool(true)]),
                       "adaiv2: unknown key 'amsgrad'; valid keys: lr, betas, eps, weightDecay, decoupled, dampening")
        XCTAssertEqual(message("adabound", ["final_lr": .number(0.1)]),
                       "adabound: unknown key 'final_lr' (did you mean 'finalLr'?); valid keys: lr, betas, finalLr, gamma, eps, weightDecay, amsbound")
        XCTAssertEqual(message("padam", ["p": .number(0.1)]),
                       "padam: unknown key 'p'; valid keys: lr, betas, eps, weightDecay, amsgrad, partial")
        XCTAssertEqual(message("yogi", ["initial_accumulator": .number(0.1)]),
                       "yogi: unknown key 'initial_accumulator' (did you mean 'initialAccumulator'?); valid keys: lr, betas, eps, initialAccumulator, weightDecay")
        XCTAssertEqual(message("radam", ["degenerated_to_sgd": .bool(true)]),
                       "radam: unknown key 'degenerated_to_sgd' (did you mean 'degeneratedToSGD'?); valid keys: lr, betas, eps, weightDecay, degeneratedToSGD")
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
                       "unknown optimizer 'adamx'; did you mean 'adam'? (known optimizers: \(optimizerNames.joined(separator: ", ")))")
    }

    func testDefaultsMatchTheReferenceCode() throws {
        // The paper's optimizers (one added later checks its own default in its own test).
        let expected: [String: Double?] = [
            "sgd": 1e-3, "sgdm": 1e-3, "adam": 1e-3, "amsgrad": 1e-3, "adamw": 1e-3, "adabound": 1e-3, "padam": 0.1,
            "yogi": 1e-2, "radam": 1e-3, "adabelief": 1e-3, "adamomentum": 1e-3, "adai": nil, "adaiw": nil, "adaiv2": nil,
        ]
        for (name, lr) in expected {
            XCTAssertEqual(try defaultLearningRate(name), lr, name)
            let options: OptimizerOptions = lr == nil ? ["lr": .number(0.5)] : [:]
            let optimizer = try makeOptimizer(name, parameters: [x], options: options)
            XCTAssertEqual(optimizer.groups[0].lr, lr ?? 0.5, name)
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

    /// A misspelt or unknown key of a registration gives one error, on one line, that names the key,
    /// suggests the closest valid key when there is one and lists the valid keys; `validateOptimizerOptions`
    /// (used by configs, sweeps and the command line) gives exactly the message building the optimizer gives.
    func testAMisspeltKeyGivesOneClearErrorWithTheClosestKey() throws {
        let cases: [(String, OptimizerOptions, String)] = [
            ("adam", ["beta": .list([0.9, 0.99])],
             "adam: unknown key 'beta' (did you mean 'betas'?); valid keys: lr, betas, eps, weightDecay, amsgrad"),
            ("adaiw", ["lr": .number(1), "weight_decay": .number(1e-3)],
             "adaiw: unknown key 'weight_decay' (did you mean 'weightDecay'?); valid keys: lr, betas, eps, weightDecay, decoupled"),
            ("sgdm", ["nestrov": .bool(true), "lr": .number(-1)],
             "sgdm: unknown key 'nestrov' (did you mean 'nesterov'?); valid keys: lr, momentum, dampening, weightDecay, nesterov"),
            ("adam", ["learningRate": .number(1)],
             "adam: unknown key 'learningRate'; valid keys: lr, betas, eps, weightDecay, amsgrad"),
        ]
        for (name, options, expected) in cases {
            XCTAssertEqual(message(name, options), expected)
            XCTAssertThrowsError(try validateOptimizerOptions(name, options)) { XCTAssertEqual("\($0)", expected) }
            XCTAssertFalse(expected.contains("\n"))
        }
        XCTAssertThrowsError(try validateOptimizerOptions("adamw_", [:])) {
            XCTAssertEqual("\($0)", "unknown optimizer 'adamw_'; did you mean 'adamw'? (known optimizers: \(optimizerNames.joined(separator: ", ")))")
        }
    }

    /// One validator: for every registered optimizer, checking options without building the optimizer
    /// accepts and rejects exactly what building it does, with the same message; lr must be > 0 for all.
    func testValidationWithoutBuildingAgreesWithBuilding() throws {
        let probes: [OptimizerOptions] = [
            [:], ["lr": .number(0.1)], ["lr": .number(0)], ["lr": .number(-1)], ["lr": .number(.infinity)],
            ["lr": .number(0.1), "weightDecay": .number(-1)], ["lr": .number(0.1), "betas": .list([0.9, 1.5])],
            ["lr": .number(0.1), "eps": .bool(true)], ["lr": .number(0.1), "nosuchkey": .number(1)],
        ]
        for name in optimizerNames {
            XCTAssertEqual(try optimizerKeys(name).first, "lr", name)
            for options in probes {
                let built = message(name, options)
                var validated = "no error"
                do { try validateOptimizerOptions(name, options) } catch { validated = "\(error)" }
                XCTAssertEqual(validated, built, "\(name) \(options)")
                if case .number(let lr)? = options["lr"], !(lr > 0) {
                    XCTAssertEqual(built, "\(name): lr must be \(lr.isFinite ? "> 0" : "a finite number"), got \(lr)")
                }
            }
        }
    }
}

import Analyses
import Datasets
import Foundation

/// An optimizer entry of a training plan; `lrGrid` (with a selection seed) makes the plan choose its lr first.
public struct PlannedOptimizer: Codable, Equatable {
    public var name: String
    public var lr: Double
    public var weightDecay: Double
    public var lrGrid: [Double]?
    public init(_ name: String, lr: Double, weightDecay: Double, lrGrid: [Double]? = nil) {
        self.name = name; self.lr = lr; self.weightDecay = weightDecay; self.lrGrid = lrGrid
    }
}

/// One training experiment of a scale: built from a repository config (`base`) or from the fields alone.
public struct TrainingPlan: Codable, Equatable {
    public var name: String
    /// `configs/<base>.json` when the plan starts from one of the paper's configs; its optimizers are used
    /// when `optimizers` is empty.
    public var base: String?
    public var dataset: DatasetKind
    /// Synthetic data (train, test) in the real format instead of files.
    public var synthetic: [Int]?
    public var model: String?
    public var epochs: Int?
    public var batchSize: Int?
    public var milestones: [Int]?
    public var gamma: Double?
    public var optimizers: [PlannedOptimizer]
    /// Seed on which `lrGrid`s are tried; the comparisons use `seeds` only (never this one).
    public var selectionSeed: Int?
    public var seeds: [Int]
    /// At most this many training steps per epoch (passed to `sweep --max-steps`).
    public var maxSteps: Int?
    /// The claims (docs/claims.md identifiers) this experiment serves.
    public var claims: [String]
    /// The data files at hand are a prefix of the real ones (the CIFAR-10 subset).
    public var allowPartialData: Bool? = nil
    /// CIFAR: training images held out of training as the validation split that selects the lr (`dataset.validation`).
    public var validation: Int? = nil
    /// Claim 11: every optimizer trained on this lr × weight-decay grid on every seed (no selection).
    public var basin: BasinGrid? = nil
    /// Keep only these entries of the base config's optimizers, with all their settings (eps, betas, decay
    /// variant), instead of `optimizers`: each is a name, or a name and an lr where the base lists one
    /// optimizer at several lrs (the AWD-LSTM configs' AdaBelief).
    public var baseOptimizers: [BaseOptimizer]? = nil
    public var needsSelection: Bool { optimizers.contains { $0.lrGrid != nil } && selectionSeed != nil }
}

/// An optimizer entry of a plan's base config, kept as it is (TrainingPlan.baseOptimizers).
public struct BaseOptimizer: Codable, Equatable {
    public var name: String
    public var lr: Double?
    public init(_ name: String, lr: Double? = nil) { self.name = name; self.lr = lr }
}

/// Claim 11 (Figure 5): an lr × weight-decay grid per optimizer, `lrPoints` lrs centred on the optimizer's planned lr and
/// `weightDecayPoints` weight decays centred on `weightDecay` (the same for every optimizer), both spaced by the factor
/// `spacing`, so that every optimizer's grid has the same size and the same log spacing.
public struct BasinGrid: Codable, Equatable {
    public var lrPoints: Int, weightDecayPoints: Int
    public var weightDecay: Double
    public var spacing: Double

    /// `points` values spaced by `spacing` with `centre` in the middle (six significant digits, as the run directories read).
    static func centred(_ centre: Double, points: Int, spacing: Double) -> [Double] {
        (0..<points).map { Double(formatNumber(centre * pow(spacing, Double($0) - Double(points - 1) / 2)))! }
    }
    public func lrs(around lr: Double) -> [Double] { Self.centred(lr, points: lrPoints, spacing: spacing) }
    public var weightDecays: [Double] { Self.centred(weightDecay, points: weightDecayPoints, spacing: spacing) }

    /// The grid of the medium and paper scales: 5 lrs × 5 weight decays around 5e-4, half a decade apart.
    static let figure5 = BasinGrid(lrPoints: 5, weightDecayPoints: 5, weightDecay: 5e-4, spacing: 10.0.squareRoot())
}

/// Claims 3 and 4: the local sensitivity S = d log Γ / d log k at a matched escape rate (EscapeSensitivity).
public struct EscapePlan: Codable, Equatable {
    /// OptimizerChoice specs; their lr is the calibration's starting point, e.g. sgdm:lr=0.0005:momentum=0.9.
    public var optimizers: [String]
    /// The optimizer every S is divided by (its name).
    public var reference: String
    /// Each optimizer's lr is set so that its mean escape at k = 1 takes this many steps.
    public var targetSteps: Double
    /// k ∈ {1/f, 1, f}.
    public var kFactor: Double
    public var repeats: Int, maxSteps: Int, samples: Int, dimension: Int
    public var noiseScale: Double
    public var bootstrapReplicates: Int
    /// The lr calibration: repeats per try (on seed 1, apart from the measured repeats on seed 0), tries, and the
    /// tolerance on |log τ̂ − log target|.
    public var calibrationRepeats: Int, calibrationTries: Int, calibrationTolerance: Double
    public var ks: [Double] { [1 / kFactor, 1, kFactor] }
}

/// Claims 1 and 2: the quadratic saddle at a matched budget (equal spread in the sharp directions).
public struct SaddlePlan: Codable, Equatable {
    /// The reference, at a fixed lr (e.g. sgd:lr=0.1).
    public var reference: String
    /// The adaptive optimizer (claim 1); its lr is searched so that its sharp-direction spread equals the reference's.
    public var adaptive: String
    /// The momentum optimizer (claim 2), at the reference's η/(1 − β): its lr is set from the reference's.
    public var momentum: String
    public var sharpCurvatures: [Double]
    /// Each judged on its own (one saddle per value, the sharp directions beside it).
    public var escapeCurvatures: [Double]
    public var steps: Int, every: Int, repeats: Int
    /// The horizon of claim 1's scaling part (a multiple of `every`), early enough that no optimizer has left the
    /// linear regime yet.
    public var earlyStep: Int
    /// Steps at the saddle that fill the buffers before step 0 (SaddleExperiment.warmSteps).
    public var warmSteps: Int
    /// The lr search of the adaptive optimizer: repeats and steps per try, relative tolerance on the spread.
    public var searchRepeats: Int, searchSteps: Int, searchTolerance: Double
}

public struct HessianPlan: Codable, Equatable {
    /// The training plan whose runs are measured, and its optimizers that claim 7 compares.
    public var experiment: String
    public var optimizers: [String]
    public var batches: Int, batchSize: Int, iterations: Int
    /// Expected sharpness (reported beside the eigenvalue): the noise level σ and the perturbations drawn.
    public var sigma: Double = 0.01
    public var sharpnessSamples: Int = 20
}

/// Claims 9 and 10: `adai-bench noise` on a network small enough for its full Hessian.
public struct NoisePlan: Codable, Equatable {
    /// Synthetic CIFAR-like training images (the smoke scale), else the first `examples` CIFAR-10 training images at hand.
    public var synthetic: Int?
    public var examples: Int
    public var settings: NoiseSettings

    /// A one-line description of the model and data (the scope lines, the plan).
    public var description: String {
        let s = settings
        let inputs = 3 * s.side * s.side
        let parameters = s.hidden == 0 ? 10 * (inputs + 1) : s.hidden * (inputs + 1) + 10 * (s.hidden + 1)
        return "\(synthetic.map { "\($0) synthetic images" } ?? "\(examples) CIFAR-10 training images") pooled to \(s.side)×\(s.side)×3, "
            + "\(s.hidden) tanh units, \(parameters) parameters; B ∈ {\(s.batchSizes.map(String.init).joined(separator: ", "))}, "
            + "\(s.minibatches) minibatches per B × \(s.replicates) replicates; trained checkpoint after \(s.trainSteps) SGD steps"
    }

    static func make(synthetic: Int?, examples: Int, side: Int, hidden: Int, batchSizes: [Int], minibatches: Int, replicates: Int,
                     trainSteps: Int) -> NoisePlan {
        var s = NoiseSettings()
        s.side = side; s.hidden = hidden; s.batchSizes = batchSizes; s.minibatches = minibatches; s.replicates = replicates
        s.trainSteps = trainSteps
        return NoisePlan(synthetic: synthetic, examples: examples, settings: s)
    }
}

/// A departure of a scale from the paper's protocol; a plain string literal concerns the training runs.
public struct Reduction: Codable, Equatable, ExpressibleByStringLiteral {
    public var need: ClaimNeed
    public var text: String
    public init(_ need: ClaimNeed, _ text: String) { self.need = need; self.text = text }
    public init(stringLiteral text: String) { self.init(.training, text) }
}

/// A scale of `adai-bench reproduce`: every setting of every experiment, stated once, with the
/// reductions against the paper's protocol that the report must label.
public struct ReproductionScale: Codable, Equatable {
    public var name: String
    public var summary: String
    public var training: [TrainingPlan]
    public var escape: EscapePlan
    public var saddle: SaddlePlan
    public var hessian: HessianPlan
    public var noise: NoisePlan
    /// One line per choice that departs from the paper (what and why), with the experiment it concerns.
    public var reductions: [Reduction]
    /// What is not settled in this scale's design yet (shown in the report).
    public var openPoints: [String]

    public static func named(_ name: String) -> ReproductionScale? {
        switch name {
        case "smoke": return smoke
        case "small": return small
        case "medium": return medium
        case "paper": return paper
        default: return nil
        }
    }
    public static let names = ["smoke", "small", "medium", "paper"]

    /// `--scale NAME`, or an error that lists the scales.
    public static func parse(_ name: String) throws -> ReproductionScale {
        guard let scale = named(name) else {
            throw ReproductionError("--scale \(name): unknown; use one of \(names.joined(separator: ", "))")
        }
        return scale
    }

    static let cifarAdamFamily = ["adam", "amsgrad", "adamw", "adabound", "padam", "yogi", "radam", "adabelief"]

    /// Synthetic data and tiny models: tests the machinery (no verdict is expected to be decided).
    public static let smoke = ReproductionScale(
        name: "smoke",
        summary: "synthetic CIFAR-like images and PTB-like text, tiny models, a few epochs: checks the machinery end to end; its verdicts are about these miniature synthetic experiments, not about the paper",
        training: [
            TrainingPlan(name: "repro-smoke-cifar", base: nil, dataset: .cifar10, synthetic: [512, 256], model: "resnet-tiny",
                         epochs: 3, batchSize: 64, milestones: [2], gamma: 0.1,
                         optimizers: [PlannedOptimizer("adai", lr: 1, weightDecay: 5e-4, lrGrid: [0.3, 1, 3]),
                                      PlannedOptimizer("adaiw", lr: 0.1, weightDecay: 5e-3, lrGrid: [0.03, 0.1, 0.3]),
                                      PlannedOptimizer("sgdm", lr: 0.1, weightDecay: 5e-4, lrGrid: [0.03, 0.1, 0.3]),
                                      PlannedOptimizer("adam", lr: 1e-3, weightDecay: 5e-4, lrGrid: [3e-4, 1e-3, 3e-3])],
                         selectionSeed: 1, seeds: [2, 3, 4], maxSteps: nil, claims: ["5", "6", "7"], validation: 128),
            TrainingPlan(name: "repro-smoke-ptb", base: nil, dataset: .ptb, synthetic: [400, 40], model: "lstm-tiny",
                         epochs: 2, batchSize: 8, milestones: [], gamma: 0.1,
                         optimizers: [PlannedOptimizer("adai", lr: 1, weightDecay: 0),
                                      PlannedOptimizer("sgdm", lr: 0.1, weightDecay: 0),
                                      PlannedOptimizer("adam", lr: 1e-3, weightDecay: 0)],
                         selectionSeed: nil, seeds: [1, 2, 3], maxSteps: 20, claims: ["8"]),
        ],
        escape: EscapePlan(optimizers: ["sgd:lr=0.0063", "sgdm:lr=0.00075:momentum=0.9", "adam:lr=0.21", "adai:lr=0.007"],
                           reference: "sgd", targetSteps: 300, kFactor: 1.5, repeats: 24, maxSteps: 20000, samples: 5000, dimension: 10,
                           noiseScale: 1, bootstrapReplicates: 200, calibrationRepeats: 24, calibrationTries: 6, calibrationTolerance: 0.3),
        saddle: SaddlePlan(reference: "sgd:lr=0.1", adaptive: "adam", momentum: "sgdm:momentum=0.9", sharpCurvatures: [1, 1, 1, 1],
                           escapeCurvatures: [-1e-2, -1e-3, -1e-4], steps: 400, every: 20, repeats: 300, earlyStep: 100, warmSteps: 100,
                           searchRepeats: 32, searchSteps: 300, searchTolerance: 0.05),
        hessian: HessianPlan(experiment: "repro-smoke-cifar", optimizers: ["adai", "sgdm", "adam"], batches: 1, batchSize: 64, iterations: 6,
                             sigma: 0.01, sharpnessSamples: 4),
        noise: .make(synthetic: 512, examples: 512, side: 2, hidden: 8, batchSizes: [8, 16, 32], minibatches: 1000, replicates: 3,
                     trainSteps: 300),
        reductions: [
            "data: synthetic images (512 train / 256 test) and synthetic text instead of CIFAR and PTB",
            "models: resnet-tiny (ResNet with one block per stage, widths 4–16) and lstm-tiny",
            "epochs: 3 (CIFAR) and 2 of 20 steps (PTB) instead of 200 and the LSTM's schedule",
            "optimizers: Adai, AdaiW, SGD-M, Adam (of eleven)",
            Reduction(.escape, "escape: 24 repeats per k, 5,000 samples, lrs matched to a mean escape of 300 steps at k = 1 (the small and paper scales: 1,000)"),
            Reduction(.saddle, "saddle: 300 repeats of 400 steps (the small scale: 400 of 2,000)"),
            Reduction(.noise, "noise (claims 9, 10): 512 synthetic images pooled to 2×2×3, a 194-parameter network, 1,000 minibatches per B × 3 replicates"),
        ],
        openPoints: [])

    /// The real data at hand, reduced to about 2 hours of 2 cores (see `reductions`; docs/claims.md, "The small scale's
    /// budget", gives the computation behind this design).
    public static let small = ReproductionScale(
        name: "small",
        summary: "the real CIFAR-10 files at hand and the full Penn Treebank; CIFAR: resnet18-narrow at batch 32 for 5,060 steps (past the regime check), Adai, SGD-M and Adam tuned alike on a held-out validation split; PTB: only as far as the machinery needs (scale too small)",
        training: [
            TrainingPlan(name: "repro-small-cifar10", base: nil, dataset: .cifar10, synthetic: nil, model: "resnet18-narrow",
                         epochs: 46, batchSize: 32, milestones: [23, 35], gamma: 0.1,
                         optimizers: [PlannedOptimizer("adai", lr: 1, weightDecay: 5e-4, lrGrid: [0.3, 1, 3]),
                                      PlannedOptimizer("sgdm", lr: 0.1, weightDecay: 5e-4, lrGrid: [0.03, 0.1, 0.3]),
                                      PlannedOptimizer("adam", lr: 1e-3, weightDecay: 5e-4, lrGrid: [3e-4, 1e-3, 3e-3])],
                         selectionSeed: 1, seeds: [2, 3, 4], maxSteps: nil, claims: ["5", "6", "7"], allowPartialData: true,
                         validation: 500),
            TrainingPlan(name: "repro-small-ptb", base: "ptb-lstm", dataset: .ptb, synthetic: nil, model: "lstm",
                         epochs: 1, batchSize: nil, milestones: [], gamma: 0.5,
                         optimizers: [PlannedOptimizer("adai", lr: 1, weightDecay: 0),
                                      PlannedOptimizer("sgdm", lr: 0.1, weightDecay: 0),
                                      PlannedOptimizer("adam", lr: 1e-3, weightDecay: 0)],
                         selectionSeed: nil, seeds: [1, 2], maxSteps: 50, claims: ["8"]),
        ],
        escape: EscapePlan(optimizers: ["sgd:lr=0.0055", "sgdm:lr=0.0006:momentum=0.9", "adam:lr=0.18", "adai:lr=0.0055"],
                           reference: "sgd", targetSteps: 1000, kFactor: 1.5, repeats: 200, maxSteps: 300_000, samples: 50_000, dimension: 10,
                           noiseScale: 1, bootstrapReplicates: 1000, calibrationRepeats: 64, calibrationTries: 8, calibrationTolerance: 0.2),
        saddle: SaddlePlan(reference: "sgd:lr=0.1", adaptive: "adam", momentum: "sgdm:momentum=0.9", sharpCurvatures: [1, 1, 1, 1],
                           escapeCurvatures: [-1e-2, -1e-3, -1e-4], steps: 2000, every: 20, repeats: 400, earlyStep: 100, warmSteps: 200,
                           searchRepeats: 64, searchSteps: 600, searchTolerance: 0.05),
        hessian: HessianPlan(experiment: "repro-small-cifar10", optimizers: ["adai", "sgdm", "adam"], batches: 4, batchSize: 128, iterations: 20),
        noise: .make(synthetic: nil, examples: 4000, side: 2, hidden: 32, batchSizes: [16, 64, 256], minibatches: 2000, replicates: 5,
                     trainSteps: 2000),
        reductions: [
            "data: the CIFAR-10 training and test images at hand (here 4,000 and 1,000, 8% and 10% of the sets), the last 500 training images held out as the validation split that picks the lrs; no CIFAR-100 (only 100 images at hand)",
            "model and batch: resnet18-narrow (ResNet18's structure at a quarter of its widths, 16–128 channels) at batch 32, instead of ResNet18 at batch 128: the smallest change that gets 5 × 1,000 optimizer steps per run into the 2-hour budget (docs/claims.md, \"The small scale's budget\")",
            "schedule: 46 epochs of 110 steps (5,060 steps; the paper: 200 × 391 = 78,200) with lr ÷10 at epochs 23 and 35, instead of 200 epochs with ÷10 at 80 and 160",
            "optimizers: Adai, SGD-M and Adam (of eleven): the pairs of claims 5 and 7 and the Adai–SGD-M and Adai–Adam pairs of claim 6; no AdaiW and no other Adam-family optimizer (each would add 3 to 5 runs of 5,060 steps)",
            "seeds: every optimizer's lr chosen on seed 1 from a 3-point grid (extended ×3 outward at most twice) by final validation error, then 3 fresh seeds (the paper: 3 seeds, grid not published)",
            "PTB: the 2-layer 512-unit LSTM for one epoch of at most 50 steps on 2 seeds, untuned: only what the machinery needs; claim 8 comes out scale too small (5,000 steps of the LSTM would take about 75 min per run here)",
            Reduction(.escape, "escape: 200 repeats per k and optimizer (the paper scale: 400), k ∈ {1/1.5, 1, 1.5} at a mean escape of 1,000 steps at k = 1"),
            Reduction(.noise, "noise (claims 9, 10): the 4,000 CIFAR-10 training images pooled to 2×2×3, a 746-parameter network (the paper's Fig. 1 model is not stated), 2,000 minibatches per B × 5 replicates"),
        ],
        openPoints: [
            "the CIFAR design's cost is estimated from the previous small run's measured 0.39 s per step at batch 128 (release build, one thread) scaled by the ratio 11.1/41.9 measured between batch 32 and 128 on a debug build; it has not been run at this scale yet",
        ])

    /// A workstation night or a cluster day: the real ResNet18 on the full CIFAR-10 for 8,448 steps, past the regime
    /// check of claims 5–7 (docs/claims.md, "The medium scale"). Not run by this project yet.
    public static let medium = ReproductionScale(
        name: "medium",
        summary: "the full CIFAR-10 with the real ResNet18 at batch 128 for 24 epochs (8,448 steps, past 5 × 1,000), Adai, SGD-M and Adam tuned alike on a 5,000-image validation split, 4 fresh seeds; claims 1–7 (no PTB); Figure 5's 5 × 5 lr × wd grid (claim 11) and Figure 12's 1,000 fixed-lr epochs (claim 12) with resnet18-narrow",
        training: [
            TrainingPlan(name: "repro-medium-cifar10", base: nil, dataset: .cifar10, synthetic: nil, model: "resnet18",
                         epochs: 24, batchSize: 128, milestones: [12, 18], gamma: 0.1,
                         optimizers: [PlannedOptimizer("adai", lr: 1, weightDecay: 5e-4, lrGrid: [0.3, 1, 3]),
                                      PlannedOptimizer("sgdm", lr: 0.1, weightDecay: 5e-4, lrGrid: [0.03, 0.1, 0.3]),
                                      PlannedOptimizer("adam", lr: 1e-3, weightDecay: 5e-4, lrGrid: [3e-4, 1e-3, 3e-3])],
                         selectionSeed: 1, seeds: [2, 3, 4, 5], maxSteps: nil, claims: ["5", "6", "7"], validation: 5000),
            // Claim 11 (Figure 5): 25 lr × wd cells per optimizer on 3 seeds, each run past the regime check (15 × 391 steps).
            TrainingPlan(name: "repro-medium-basin", base: nil, dataset: .cifar10, synthetic: nil, model: "resnet18-narrow",
                         epochs: 15, batchSize: 128, milestones: [6, 12], gamma: 0.1,
                         optimizers: [PlannedOptimizer("adai", lr: 1, weightDecay: 5e-4),
                                      PlannedOptimizer("sgdm", lr: 0.1, weightDecay: 5e-4),
                                      PlannedOptimizer("adam", lr: 1e-3, weightDecay: 5e-4)],
                         selectionSeed: nil, seeds: [1, 2, 3], maxSteps: nil, claims: ["11"], basin: .figure5),
            // Claim 12 (Figure 12): 1,000 epochs at a fixed lr.
            TrainingPlan(name: "repro-medium-long", base: nil, dataset: .cifar10, synthetic: nil, model: "resnet18-narrow",
                         epochs: 1000, batchSize: 128, milestones: [], gamma: 0.1,
                         optimizers: [PlannedOptimizer("adai", lr: 1, weightDecay: 5e-4),
                                      PlannedOptimizer("adam", lr: 1e-3, weightDecay: 5e-4)],
                         selectionSeed: nil, seeds: [1, 2, 3], maxSteps: nil, claims: ["12"]),
        ],
        // The synthetic claims and the noise measurement as at the small scale (minutes of CPU at most).
        escape: small.escape,
        saddle: small.saddle,
        hessian: HessianPlan(experiment: "repro-medium-cifar10", optimizers: ["adai", "sgdm", "adam"], batches: 4, batchSize: 128, iterations: 20),
        noise: small.noise,
        reductions: [
            "data: the full CIFAR-10, its last 5,000 training images held out as the validation split that picks the lrs (45,000 trained on); no CIFAR-100",
            "schedule: 24 epochs of 352 steps (8,448 steps, 1.7 × the regime check's 5,000; the paper: 78,200) with lr ÷10 at epochs 12 and 18",
            "optimizers: Adai, SGD-M and Adam (of eleven): the pairs of claims 5–7; claim 6 is judged on Adai against SGD-M and Adam only",
            "seeds: every optimizer's lr chosen on seed 1 from a 3-point grid (extended ×3 outward at most twice) by final validation error, then 4 fresh seeds",
            "no PTB: claim 8 is not run at this scale (5,000 LSTM steps of the paper's model are left to the paper scale)",
            "claim 11 (Figure 5's basin): resnet18-narrow (a quarter of ResNet18's widths) on the full CIFAR-10 at batch 128 for 15 epochs of 391 steps (5,865 steps, past the regime check) with lr ÷10 at epochs 6 and 12, instead of ResNet18 for 200 epochs; 5 lrs × 5 weight decays per optimizer (half a decade apart, around each default lr and 5e-4), Adai, SGD-M and Adam, 3 seeds (the paper's grid is not published)",
            "claim 12 (Figure 12): resnet18-narrow on the full CIFAR-10 at batch 128, 1,000 epochs at a fixed lr (Adai 1, Adam 1e-3, weight decay 5e-4), 3 seeds; the paper's model and lrs for Fig. 12 are not published",
            Reduction(.escape, "escape: 200 repeats per k and optimizer (the paper scale: 400), k ∈ {1/1.5, 1, 1.5} at a mean escape of 1,000 steps at k = 1"),
            Reduction(.noise, "noise (claims 9, 10): as at the small scale, the first 4,000 CIFAR-10 training images pooled to 2×2×3, a 746-parameter network (the paper's Fig. 1 model is not stated), 2,000 minibatches per B × 5 replicates; the paper scale measures a 1,898-parameter network on all 50,000"),
        ],
        openPoints: [])

    /// The paper's protocol: Table 2's five rows with all optimizers, 200 epochs, 3 seeds; meant for a cluster.
    public static let paper = ReproductionScale(
        name: "paper",
        summary: "the paper's protocol (Table 2's five rows, every optimizer, 200 epochs, 3 seeds; the LSTM; escape, saddle, Hessian at full size)",
        training: [
            TrainingPlan(name: "cifar10-resnet18", base: "cifar10-resnet18", dataset: .cifar10, synthetic: nil, model: nil,
                         epochs: nil, batchSize: nil, milestones: nil, gamma: nil, optimizers: [], selectionSeed: nil,
                         seeds: [1, 2, 3], maxSteps: nil, claims: ["5", "6", "7"]),
            TrainingPlan(name: "cifar10-vgg16", base: "cifar10-vgg16", dataset: .cifar10, synthetic: nil, model: nil,
                         epochs: nil, batchSize: nil, milestones: nil, gamma: nil, optimizers: [], selectionSeed: nil,
                         seeds: [1, 2, 3], maxSteps: nil, claims: ["5", "6"]),
            TrainingPlan(name: "cifar100-resnet34", base: "cifar100-resnet34", dataset: .cifar100, synthetic: nil, model: nil,
                         epochs: nil, batchSize: nil, milestones: nil, gamma: nil, optimizers: [], selectionSeed: nil,
                         seeds: [1, 2, 3], maxSteps: nil, claims: ["5", "6"]),
            TrainingPlan(name: "cifar100-densenet121", base: "cifar100-densenet121", dataset: .cifar100, synthetic: nil, model: nil,
                         epochs: nil, batchSize: nil, milestones: nil, gamma: nil, optimizers: [], selectionSeed: nil,
                         seeds: [1, 2, 3], maxSteps: nil, claims: ["5", "6"]),
            TrainingPlan(name: "cifar100-googlenet", base: "cifar100-googlenet", dataset: .cifar100, synthetic: nil, model: nil,
                         epochs: nil, batchSize: nil, milestones: nil, gamma: nil, optimizers: [], selectionSeed: nil,
                         seeds: [1, 2, 3], maxSteps: nil, claims: ["5", "6"]),
            TrainingPlan(name: "ptb-lstm", base: "ptb-lstm", dataset: .ptb, synthetic: nil, model: nil,
                         epochs: nil, batchSize: nil, milestones: nil, gamma: nil, optimizers: [], selectionSeed: nil,
                         seeds: [1, 2, 3], maxSteps: nil, claims: ["8"]),
            // Claim 11 (Figure 5): the Table 2 protocol of ResNet18 on CIFAR-10 over 5 lrs × 5 weight decays per optimizer.
            TrainingPlan(name: "cifar10-resnet18-basin", base: "cifar10-resnet18", dataset: .cifar10, synthetic: nil, model: nil,
                         epochs: nil, batchSize: nil, milestones: nil, gamma: nil,
                         optimizers: [PlannedOptimizer("adai", lr: 1, weightDecay: 5e-4),
                                      PlannedOptimizer("sgdm", lr: 0.1, weightDecay: 5e-4),
                                      PlannedOptimizer("adam", lr: 1e-3, weightDecay: 5e-4)],
                         selectionSeed: nil, seeds: [1, 2, 3], maxSteps: nil, claims: ["11"], basin: .figure5),
            // Claim 12 (Figure 12): ResNet18 on CIFAR-10 for 1,000 epochs at a fixed lr.
            TrainingPlan(name: "cifar10-resnet18-long", base: "cifar10-resnet18", dataset: .cifar10, synthetic: nil, model: nil,
                         epochs: 1000, batchSize: nil, milestones: [], gamma: nil,
                         optimizers: [PlannedOptimizer("adai", lr: 1, weightDecay: 5e-4),
                                      PlannedOptimizer("adam", lr: 1e-3, weightDecay: 5e-4)],
                         selectionSeed: nil, seeds: [1, 2, 3], maxSteps: nil, claims: ["12"]),
        ] + adaMomentumPlans,
        escape: EscapePlan(optimizers: ["sgd:lr=0.0055", "sgdm:lr=0.0006:momentum=0.9", "adam:lr=0.18", "adai:lr=0.0055"],
                           reference: "sgd", targetSteps: 1000, kFactor: 1.5, repeats: 400, maxSteps: 2_000_000, samples: 50_000, dimension: 10,
                           noiseScale: 1, bootstrapReplicates: 1000, calibrationRepeats: 64, calibrationTries: 8, calibrationTolerance: 0.2),
        saddle: SaddlePlan(reference: "sgd:lr=0.1", adaptive: "adam", momentum: "sgdm:momentum=0.9", sharpCurvatures: [1, 1, 1, 1],
                           escapeCurvatures: [-1e-2, -1e-3, -1e-4], steps: 2000, every: 20, repeats: 1000, earlyStep: 100, warmSteps: 200,
                           searchRepeats: 64, searchSteps: 600, searchTolerance: 0.05),
        hessian: HessianPlan(experiment: "cifar10-resnet18", optimizers: ["adai", "sgdm", "adam"], batches: 10, batchSize: 128, iterations: 40,
                             sigma: 0.01, sharpnessSamples: 50),
        noise: .make(synthetic: nil, examples: 50000, side: 4, hidden: 32, batchSizes: [16, 64, 256], minibatches: 4000, replicates: 10,
                     trainSteps: 5000),
        reductions: [
            "AdaMomentum's claim AM1: AdaMomentum, Adam, AdaBelief and SGD (of the authors' eight) on the 1-, 2- and 3-layer AWD-LSTMs with the authors' settings and seeds 0-4; AdaBelief at the lr of the authors' better row per depth (1e-3 for 1 layer, 1e-2 for 2 and 3)",
            "the paper's lr grid for SGD-M is not published: every optimizer trains at the lr of configs/*.json (docs/paper.md §4.1), without selection",
            Reduction(.escape, "the escape k values and learning rates are ours (the paper's are not legible): k ∈ {1/1.5, 1, 1.5} around a matched mean escape of 1,000 steps (docs/claims.md, claim 3)"),
            "the LSTM recipe is Zaremba et al.'s medium model (the paper's is not published; docs/paper.md §4.4)",
            Reduction(.noise, "noise (claims 9, 10): a 1,898-parameter network on CIFAR-10 pooled to 4×4×3, small enough for its full Hessian; the paper's Fig. 1 model is not stated"),
            "claims 11 and 12: the grid of Figure 5 (5 lrs × 5 weight decays, half a decade apart, around each default lr and 5e-4) and the model and lrs of Figure 12 (ResNet18 on CIFAR-10, Adai 1 and Adam 1e-3, weight decay 5e-4) are ours; the paper's are not published",
        ],
        openPoints: [])

    /// AdaMomentum's claim AM1 (docs/claims.md): the authors' AWD-LSTMs as the configs give them (200 epochs, their
    /// recipe and seeds 0-4), AdaMomentum against Adam, AdaBelief and SGD; AdaBelief at the lr of the authors' better
    /// row for each depth (results/paper/adamomentum-ptb.csv), fixed before any of our runs.
    static let adaMomentumPlans: [TrainingPlan] = [(1, 1e-3), (2, 1e-2), (3, 1e-2)].map { layers, adaBeliefLR in
        TrainingPlan(name: "ptb-awd-lstm-\(layers)layer", base: "ptb-awd-lstm-\(layers)layer", dataset: .ptb, synthetic: nil, model: nil,
                     epochs: nil, batchSize: nil, milestones: nil, gamma: nil, optimizers: [], selectionSeed: nil,
                     seeds: [0, 1, 2, 3, 4], maxSteps: nil, claims: ["AM1"],
                     baseOptimizers: [BaseOptimizer("adamomentum"), BaseOptimizer("adam"), BaseOptimizer("adabelief", lr: adaBeliefLR),
                                      BaseOptimizer("sgd")])
    }
}

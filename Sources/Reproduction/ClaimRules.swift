import Foundation

/// The constants of docs/claims.md's decision rules, stated once; docs/claims.md and this file agree.
/// Optimizer names live in the scales' plans and the claims' files, not here.
public enum ClaimRules {
    public static let confidence = 0.95
    /// Claims 1 and 2: log of the escape-direction distance, A at least 20% further out.
    public static let saddleMargin = log(1.2)
    /// Claim 4: equivalence margin on S_SGD-M/S_SGD around 1.
    public static let momentumSensitivityMargin = 0.25
    /// Claim 5: mean over epochs of log training loss.
    public static let trainingLossMargin = 0.05
    /// Claims 5 and 6: runs shorter than this many epochs are "scale too small".
    public static let minimumEpochs = 10
    /// Claim 6: percentage points of test error.
    public static let testErrorMargin = 0.1
    /// Claim 7: log of the top Hessian eigenvalue.
    public static let sharpnessMargin = log(1.2)
    /// Claim 8: nats of test loss (1% in perplexity).
    public static let perplexityMargin = 0.01
    /// Claim 11: a cell is in an optimizer's basin when its final test error lies within this many percentage points
    /// of that optimizer's best cell.
    public static let basinDistance = 1.0
    /// Claim 11: Adai's basin must be larger by at least this many cells (paired by seed).
    public static let basinMargin = 2.0
    /// Claim 11: the grid the rule needs per optimizer, lr points × weight-decay points (each log-spaced, the lr grid
    /// centred on the optimizer's default lr, the weight-decay grid the same for every optimizer).
    public static let basinLRPoints = 5, basinWeightDecayPoints = 5
    /// Claim 12: the fixed-lr run the rule needs (the paper's Fig. 12), in epochs.
    public static let longRunEpochs = 1000
    /// Claim 12: the statistic averages log training loss over this last fraction of the epochs.
    public static let longRunTail = 0.1
    /// Claim 12: non-inferiority margin on log training loss: Adai's at most twice Adam's.
    public static let longRunMargin = log(2.0)

    /// A decision rule changed after results had been seen (docs/claims.md, "Changes to the rules after results").
    public struct Change: Codable, Equatable {
        public let date: String, rule: String, reason: String
        public var line: String { "\(date): \(rule) — \(reason)" }
    }

    /// Every rule changed after results; every report prints them.
    public static let changesAfterResults: [Change] = [
        Change(date: "2026-12-07", rule: "verdict kinds: under the three headline words each verdict now says which kind (supported; effect real but below the margin; contradicted because reversed, equivalent, or excluding an advantage of the margin's size; inconclusive with its reason, now including tuning not converged)",
               reason: "the old rule \"contradicted if U < m\" put a reversed effect, an equivalence and a real effect smaller than the margin under one word (read against the small-scale report of 7855a2f)"),
        Change(date: "2026-12-07", rule: "claims 3 and 4: the local sensitivity S = d log Γ / d log k at a matched escape rate (k ∈ {1/1.5, 1, 1.5}, bootstrap intervals of S/S_SGD) replaces the fitted exponent p of −log Γ = a + b·k^(−p) and its two-decade rule",
               reason: "k only rescales the step in this experiment (θ = √k·w maps (lr, k) to (lr·k, 1), or (lr·√k, 1) for Adam), so −log Γ spans at most a factor of about 3 inside the slow-escape regime and the two-decade rule could never be met at any scale; both claims came out 'design cannot discriminate' by construction"),
        Change(date: "2026-12-07", rule: "claims 1 and 2: a matched budget (Adam's lr searched for SGD's sharp-direction spread; SGD-M at SGD's η/(1 − β), started from the velocity's equilibrium at the saddle), three escape curvatures judged each on its own, and the scaling of Adam's advantage as its own part of claim 1",
               reason: "the old learning rates gave every optimizer the same per-step variance along the escape direction, which cancels the effect claim 1 is about, and every run started with an empty momentum buffer, which removes the drift claim 2 is about"),
        Change(date: "2026-12-07", rule: "training claims 5–8: the regime check — a run must last at least 5 × the slowest time constant, in optimizer steps, of the optimizers compared (1/ε = 1,000 for Adai, 1/(1 − β₂) = 1,000 for Adam, 1/(1 − β) = 10 for SGD-M), else scale too small with both numbers; claim 8 is called with its epoch count",
               reason: "the small report of 7855a2f judged claims 5–8 from CIFAR runs of about 750 steps and PTB runs of 450, shorter than Adai's and Adam's time constants"),
        Change(date: "2026-12-07", rule: "training claims 5–8: fair tuning — grids of the same size for every compared optimizer, selection by the final validation metric on a split held out of the training images (never the test set), a best lr at an edge extends its grid ×3 outward at most twice, one still at an edge gives tuning not converged; comparisons on fresh seeds",
               reason: "in that report Adai's and SGD-M's lrs sat at the edges of 3-point grids chosen on one seed by test error, and a verdict was given anyway"),
        Change(date: "2026-12-07", rule: "claim 7: the pair Adai–SGD-M (same statistic and margin) joins the pairs against Adam; the scope names each optimizer's final lr",
               reason: "the paper's Fig. 7 shows Adai's top eigenvalues below SGD's too (docs/paper.md §4.7), and λ_max depends on the final lr (3e-3, 3e-4 and 1e-5 in that report), which the report did not say"),
    ]
}

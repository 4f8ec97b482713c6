import Foundation

/// The constants of docs/claims.md's decision rules, stated once; docs/claims.md and this file agree.
public enum ClaimRules {
    public static let confidence = 0.95
    /// Claims 1 and 2: log of the escape-direction distance, A at least 20% further out.
    public static let saddleMargin = log(1.2)
    /// Claim 3 and 4: k_max / k_min at least this (two decades).
    public static let minimumKRatio = 100.0
    /// Claim 3: the exponents of −log Γ = a + b·k^(−p).
    public static let exponentSGDLike = 1.0, exponentAdam = 0.5
    /// Claim 4: equivalence margin on p_SGD-M − p_SGD.
    public static let momentumExponentMargin = 0.25
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
    /// Rule changes made after results were seen (docs/claims.md, last section): when, which rule, why. Empty so far.
    public static let changesAfterResults: [String] = []
}

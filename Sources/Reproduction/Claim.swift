import enum Engine.NumberFormat
import Foundation
import Plot

/// What a claim needs run (the plan prices these; shared needs run once).
public enum ClaimNeed: String, Codable, Equatable {
    case saddle, escape, training, hessian, noise
}

/// One checkable claim of a paper (docs/claims.md): everything `reproduce` knows about it, in one value.
/// Every plan, runner, report and help text iterates `Claims.all`; a claim's facts live in its own file
/// under `Sources/Reproduction/Claims/`.
public struct Claim {
    /// Stable identifier: "1" to "12" for the Adai paper's claims (the numbers of docs/claims.md); later
    /// claims take new identifiers, never a reused one.
    public let id: String
    public let title: String
    /// Where the paper makes it.
    public let paper: String
    /// What the paper predicts, in the terms of our statistic.
    public let prediction: String
    /// The statistic and decision rule (docs/claims.md has the full text).
    public let rule: String
    /// What the paper scale would add to a reduced scale's verdict.
    public let paperScaleGain: String
    public let needs: [ClaimNeed]
    /// The design's checks before anything runs (closed forms where there are): empty for the training claims,
    /// whose power is reported after the runs.
    public let design: (ReproductionScale) -> [DesignCheck]
    /// The verdict from the evidence the context provides (and runs on first use).
    public let judge: (ClaimContext) throws -> ClaimVerdict
    /// The claim's figure; nil when its evidence is missing.
    public let figure: (ClaimContext, ClaimVerdict) throws -> LineChart?
    /// What was run, in one line: settings, steps run against the paper's, seeds or repeats compared.
    public let scope: (ClaimContext) -> String
    /// What the claim needs of the scale's design (claims 11 and 12: the grid, the epochs at a fixed lr, the regime),
    /// counted from the plan before anything runs; one that fails makes the verdict "inconclusive: scale too small",
    /// with both numbers, and nothing is run for it.
    public var scaleChecks: (ReproductionRunner) -> [ScaleRequirement] = { _ in [] }

    public var figureFile: String { "claim-\(id).png" }
    /// The heading of its section in docs/claims.md.
    public var docsHeading: String { "### Claim \(id). " }
}

public enum Claims {
    /// Every claim, in the order of docs/claims.md.
    public static let all: [Claim] = [
        .saddleAdaptive, .saddleMomentum, .escapeSharpness, .escapeMomentum,
        .trainingSpeed, .testError, .flatness, .languageModel,
        .noiseCovariance, .noiseTails, .basinWidth, .longRunConvergence,
        .awdLSTM,
    ]

    public static func named(_ id: String) -> Claim? { all.first { $0.id == id } }
    public static var ids: [String] { all.map(\.id) }

    /// `--claims 3,6`: identifiers from docs/claims.md; nil means all.
    public static func parse(_ text: String?) throws -> Set<String> {
        guard let text else { return Set(ids) }
        var set = Set<String>()
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let id = part.trimmingCharacters(in: .whitespaces)
            guard named(id) != nil else {
                throw ReproductionError("--claims \(text): '\(part)' is not a claim; docs/claims.md names them \(ids.joined(separator: ", ")) (e.g. --claims 3,6)")
            }
            set.insert(id)
        }
        return set
    }
}

/// A design's check before it runs: what the theory predicts at the chosen settings, what the alternative
/// predicts, and the half-width of the interval the planned repeats will give.
public struct DesignCheck: Codable, Equatable {
    public var part: String
    public var statistic: String
    public var prediction: Double
    public var alternative: Double
    /// The expected 95% half-width of the statistic's interval.
    public var halfWidth: Double
    /// For an equivalence part: the margin the interval must fit inside (then the check is 2·halfWidth < 2·margin).
    public var equivalenceMargin: Double?
    /// What the numbers come from (the closed form, its assumptions).
    public var basis: String

    public init(part: String, statistic: String, prediction: Double, alternative: Double, halfWidth: Double,
                equivalenceMargin: Double? = nil, basis: String) {
        self.part = part; self.statistic = statistic; self.prediction = prediction; self.alternative = alternative
        self.halfWidth = halfWidth; self.equivalenceMargin = equivalenceMargin; self.basis = basis
    }

    /// The repeats tell the prediction from the alternative: they lie at least two half-widths apart
    /// (the intervals around each do not overlap); an equivalence part's interval fits inside its margin.
    public var separable: Bool {
        guard halfWidth.isFinite, prediction.isFinite, alternative.isFinite else { return false }
        if let m = equivalenceMargin { return halfWidth < m }
        return abs(prediction - alternative) >= 2 * halfWidth
    }

    public var line: String {
        let f = NumberFormat.g(3).string
        var s = "\(part): \(statistic) predicted \(f(prediction)), alternative \(f(alternative)), expected 95% half-width ±\(f(halfWidth))"
        if let m = equivalenceMargin { s += " (must fit inside ±\(f(m)))" }
        s += separable ? " → the design separates them" : " → REFUSED: the repeats cannot tell the prediction from the alternative"
        return s + " [\(basis)]"
    }
}

/// One claim's result: the headline verdict, its kind, its scope, and every number behind it (docs/claims.md).
public struct ClaimVerdict: Codable, Equatable {
    public let claim: String
    public var kind: VerdictKind
    public var verdict: Verdict { kind.verdict }
    /// One line per fact that led to the verdict, in the order the rule uses them.
    public var notes: [String]
    /// What was run: settings, steps against the paper's, seeds or repeats compared.
    public var scope: String = ""
    /// The design's checks, made before the runs.
    public var design: [DesignCheck] = []
    public var comparisons: [String: PairedComparison] = [:]
    /// Claims 3 and 4: S_x/S_ref per optimizer.
    public var ratios: [String: RatioEstimate] = [:]

    public init(claim: String, kind: VerdictKind, notes: [String]) {
        self.claim = claim; self.kind = kind; self.notes = notes
    }

    enum CodingKeys: String, CodingKey { case claim, kind, verdict, notes, scope, design, comparisons, ratios }
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        claim = try c.decode(String.self, forKey: .claim); kind = try c.decode(VerdictKind.self, forKey: .kind)
        notes = try c.decode([String].self, forKey: .notes); scope = try c.decode(String.self, forKey: .scope)
        design = try c.decode([DesignCheck].self, forKey: .design)
        comparisons = try c.decode([String: PairedComparison].self, forKey: .comparisons)
        ratios = try c.decode([String: RatioEstimate].self, forKey: .ratios)
    }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(claim, forKey: .claim); try c.encode(kind, forKey: .kind); try c.encode(verdict, forKey: .verdict)
        try c.encode(notes, forKey: .notes); try c.encode(scope, forKey: .scope); try c.encode(design, forKey: .design)
        try c.encode(comparisons, forKey: .comparisons); try c.encode(ratios, forKey: .ratios)
    }

    /// The verdict of a claim whose every part was refused before running.
    public static func refused(_ claim: String, _ checks: [DesignCheck]) -> ClaimVerdict {
        var v = ClaimVerdict(claim: claim, kind: .designCannotDiscriminate,
                             notes: ["refused before running: no part of the design separates the prediction from the alternative"]
                                + checks.map(\.line))
        v.design = checks
        return v
    }
}

/// Composes parts: supported when all are, contradicted (the first contradicted part's kind) when any is,
/// else inconclusive with the first inconclusive part's kind.
func compose(_ parts: [VerdictKind]) -> VerdictKind {
    if parts.isEmpty { return .runsFailed }
    if let c = parts.first(where: { $0.verdict == .contradicted }) { return c }
    if parts.allSatisfy({ $0 == .supported }) { return .supported }
    return parts.first { $0.verdict == .inconclusive }!
}

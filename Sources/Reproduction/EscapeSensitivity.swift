import Engine
import Foundation

/// Claims 3 and 4: the local sensitivity of the escape rate to the sharpness k,
///
///     S = d log Γ / d log k  at k = 1   (= −d log τ / d log k for the mean escape time τ = 1/Γ),
///
/// by the central difference between k₋ = 1/f and k₊ = f, with each optimizer's lr set so that its
/// mean escape at k = 1 takes the plan's target steps (a matched escape rate), and the same noise
/// streams for every optimizer. Kramers' law with −log Γ = c·k^(−p) − log(prefactor) gives S = p·c + s,
/// s the prefactor's exponent in k: before the prefactor, S_Adam/S_SGD = ½ (p = ½ against 1 at the
/// same c) and S_SGD-M/S_SGD = S_Adai/S_SGD = 1.
public enum EscapeSensitivity {
    /// S from the escape times at k₋ and k₊; nil when either has no escape.
    public static func sensitivity(lower: EscapeSample, upper: EscapeSample) -> Double? {
        guard let a = lower.rate, let b = upper.rate, upper.k > lower.k else { return nil }
        return (log(b) - log(a)) / (log(upper.k) - log(lower.k))
    }

    /// The predicted S_Adam/S_SGD with the Kramers prefactor: with a prefactor ∝ k for both optimizers
    /// (s = 1), S_SGD = c + 1 and S_Adam = c/2 + 1 at a matched rate, so the ratio is
    /// (S_SGD + 1)/(2·S_SGD): 0.56 at S_SGD ≈ 8 (−log Γ ≈ 7), ½ as S_SGD grows.
    public static func predictedAdamRatio(referenceSensitivity s: Double) -> Double { (s + 1) / (2 * s) }

    /// S_SGD the Kramers law gives before the run: c = log(target steps) (the prefactor's constant taken as one
    /// attempt per step), S = c + 1.
    public static func plannedReferenceSensitivity(targetSteps: Double) -> Double { log(targetSteps) + 1 }

    /// The expected 95% half-width of S_x/S_ref from `repeats` repeats per k when (nearly) all escape:
    /// Var log Γ̂ ≈ 1/escapes, the two optimizers taken as independent (their shared noise streams only narrow it).
    public static func expectedHalfWidth(ratio: Double, referenceSensitivity s: Double, repeats: Int, kFactor: Double) -> Double {
        let sdS = (2 / Double(repeats)).squareRoot() / (2 * log(kFactor))
        let sx = ratio * s
        return 1.96 * ratio * ((sdS / sx) * (sdS / sx) + (sdS / s) * (sdS / s)).squareRoot()
    }

    /// S_x/S_ref for every optimizer but `reference`, with percentile bootstrap intervals: each replicate
    /// draws one set of repeat indices, shared by every optimizer and both k (the repeats' noise streams
    /// are shared, so the pairing is kept).
    public static func ratios(samples: [String: [EscapeSample]], reference: String, replicates: Int, seed: UInt64,
                              confidence: Double = 0.95) -> (sensitivities: [String: Double], ratios: [String: RatioEstimate]) {
        var s: [String: Double] = [:]
        for (name, byK) in samples {
            let sorted = byK.sorted { $0.k < $1.k }
            if let first = sorted.first, let last = sorted.last, let v = sensitivity(lower: first, upper: last) { s[name] = v }
        }
        guard let sRef = s[reference], sRef != 0 else { return (s, [:]) }
        let names = samples.keys.filter { $0 != reference && s[$0] != nil }.sorted()
        let repeats = samples.values.flatMap { $0.map(\.times.count) }.min() ?? 0
        var rng = RandomGenerator(seed: seed).fork("escape-sensitivity-bootstrap")
        var draws: [String: [Double]] = [:]
        func resampled(_ sample: EscapeSample, _ indices: [Int]) -> EscapeSample {
            EscapeSample(k: sample.k, times: indices.map { sample.times[$0] }, escaped: indices.map { sample.escaped[$0] })
        }
        func resampledS(_ name: String, _ indices: [Int]) -> Double? {
            let sorted = samples[name]!.sorted { $0.k < $1.k }
            return sensitivity(lower: resampled(sorted.first!, indices), upper: resampled(sorted.last!, indices))
        }
        if repeats > 0 {
            for _ in 0..<replicates {
                let indices = (0..<repeats).map { _ in Int(rng.nextUInt64() % UInt64(repeats)) }
                guard let ref = resampledS(reference, indices), ref != 0 else { continue }
                for name in names { if let x = resampledS(name, indices) { draws[name, default: []].append(x / ref) } }
            }
        }
        var out: [String: RatioEstimate] = [:]
        let alpha = 1 - confidence
        for name in names {
            let d = draws[name] ?? []
            guard d.count >= replicates / 2 else { continue }
            out[name] = RatioEstimate(optimizer: name, reference: reference, value: s[name]! / sRef,
                                      low: percentile(d, alpha / 2), high: percentile(d, 1 - alpha / 2), replicates: d.count)
        }
        return (s, out)
    }
}

/// S_x/S_ref with its bootstrap interval.
public struct RatioEstimate: Codable, Equatable {
    public let optimizer: String, reference: String
    public let value: Double, low: Double, high: Double
    public let replicates: Int
}

import Analyses
import enum Engine.NumberFormat
import Foundation
import Plot

extension Claim {
    /// Claim 9: the minibatch gradient-noise covariance is close to H/B (Eq. 2.1, Fig. 1, App. C).
    public static let noiseCovariance = Claim(
        id: "9",
        title: "The minibatch gradient-noise covariance is close to H/B",
        paper: "§2, Eq. 2.1 and Fig. 1 with App. C (a randomly initialised network, in the Hessian's eigenbasis)",
        prediction: "in H's eigenbasis log C'ᵢᵢ rises with log |λᵢ| at slope 1, and C' falls like 1/B",
        rule: "per replicate, (a) the slope of log C'ᵢᵢ on log |λᵢ| at the smallest B, sided 1 vs 0; (b) the slope of log(C'/|λ|) on log B, sided −1 vs 0; t-intervals over replicates, composed",
        paperScaleGain: "a larger network on more images (the paper's Fig. 1 model is not stated) and more replicates",
        needs: [.noise],
        design: { _ in [] },
        judge: { context in
            let report = try context.noise()
            guard let c = report.checkpoints.first(where: { $0.name == "initialisation" }) else {
                return ClaimVerdict(claim: "9", kind: .runsFailed, notes: ["the noise measurement has no checkpoint at the random initialisation"])
            }
            let f = NumberFormat.g(3).string
            let smallest = report.settings.batchSizes.firstIndex(of: report.settings.batchSizes.min()!)!
            let slopes = c.fits.map { fit in fit[smallest].diagonalExponent }
            // (a) is the slope on log |λ|; fitCovariance's exponent is on log(|λ|/B), the same slope.
            let a = tInterval(slopes), b = tInterval(c.batchExponents)
            let kindA = VerdictKind.sided(low: a.low, high: a.high, prediction: 1, alternative: 0)
            let kindB = VerdictKind.sided(low: b.low, high: b.high, prediction: -1, alternative: 0)
            var notes = [
                "(a) C ∝ H: slope of log C'ᵢᵢ on log |λᵢ| at B = \(report.settings.batchSizes[smallest]), mean \(f(a.mean)), 95% interval [\(f(a.low)), \(f(a.high))] over \(slopes.count) replicates (predicted 1, alternative 0) → \(kindA.rawValue)",
                "(b) 1/B: slope of log(C'/|λ|) on log B, mean \(f(b.mean)), 95% interval [\(f(b.low)), \(f(b.high))] (predicted −1, alternative 0) → \(kindB.rawValue)",
            ]
            for ck in report.checkpoints {
                let first = ck.fits[0]
                notes.append("\(ck.name)\(ck.name == "initialisation" ? " (judged)" : " (reported, not judged)"): loss \(f(ck.loss)); "
                             + first.map { "B=\($0.batch): slope \(f($0.diagonalExponent)), r \(f($0.diagonalCorrelation)), C'/(H/B) \(f($0.diagonalRatio)), off-diagonal share \(f($0.offDiagonalFraction))" }
                                .joined(separator: "; ")
                             + "; 1/B exponents \(ck.batchExponents.map(f).joined(separator: ", ")); all elements (parameter basis) slope \(f(ck.parameterBasisSlope)), r \(f(ck.parameterBasisCorrelation))")
            }
            notes.append("Hessian by gradient differences: asymmetry \(f(c.hessianAsymmetry)), Richardson change \(f(c.hessianExtrapolationChange)) (relative, Frobenius)")
            return ClaimVerdict(claim: "9", kind: compose([kindA, kindB]), notes: notes)
        },
        figure: { context, _ in
            let report = try context.noise()
            guard let c = report.checkpoints.first(where: { $0.name == "initialisation" }) else { return nil }
            var chart = NoiseFigures.covariance(c, report: report)
            chart.title = "Claim 9: " + chart.title
            return chart
        },
        scope: { context in
            "noise: \(context.scale.noise.description); judged at the random initialisation, minibatches without replacement"
        })
}

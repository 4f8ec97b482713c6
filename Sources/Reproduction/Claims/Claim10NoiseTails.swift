import Analyses
import enum Engine.NumberFormat
import Foundation
import Plot

extension Claim {
    /// Claim 10: the noise is Gaussian across minibatches and heavy-tailed only across parameters (App. C, Fig. 8).
    public static let noiseTails = Claim(
        id: "10",
        title: "Gradient noise is Gaussian across minibatches and heavy-tailed only across parameters",
        paper: "App. C and Fig. 8, after Xie et al. (2020a), against Simsekli et al. (2019)",
        prediction: "the tail index α̂ is about 2 for one parameter across minibatches and below 2 across the parameters of one minibatch",
        rule: "Mohammadi et al. (2015) tail index; (a) across minibatches per tracked parameter, sided 2 vs 1.5; (b) across parameters per minibatch, sided 1.5 vs 2; t-intervals, composed",
        paperScaleGain: "a larger network on more images and more minibatches per parameter",
        needs: [.noise],
        design: { _ in [] },
        judge: { context in
            let report = try context.noise()
            guard let c = report.checkpoints.first(where: { $0.name == "initialisation" }) else {
                return ClaimVerdict(claim: "10", kind: .runsFailed, notes: ["the noise measurement has no checkpoint at the random initialisation"])
            }
            let f = NumberFormat.g(3).string
            let a = tInterval(c.alphaAcrossMinibatches), b = tInterval(c.alphaAcrossParameters)
            let kindA = VerdictKind.sided(low: a.low, high: a.high, prediction: 2, alternative: 1.5)
            let kindB = VerdictKind.sided(low: b.low, high: b.high, prediction: 1.5, alternative: 2)
            var notes = [
                "(a) across \(report.settings.minibatches) minibatches (B = \(report.settings.batchSizes.min()!)), \(c.alphaAcrossMinibatches.count) parameters: α̂ mean \(f(a.mean)), 95% interval [\(f(a.low)), \(f(a.high))] (predicted 2, alternative 1.5) → \(kindA.rawValue)",
                "(b) across \(report.dimension) parameters, \(c.alphaAcrossParameters.count) minibatches: α̂ mean \(f(b.mean)), 95% interval [\(f(b.low)), \(f(b.high))] (predicted 1.5, alternative 2) → \(kindB.rawValue)",
            ]
            for ck in report.checkpoints {
                let g = { (xs: [Double]) in f(xs.reduce(0, +) / Double(max(1, xs.count))) }
                notes.append("\(ck.name)\(ck.name == "initialisation" ? " (judged)" : " (reported, not judged)"): mean α̂ across minibatches \(g(ck.alphaAcrossMinibatches)) (Gaussian samples of the same size: \(g(ck.gaussianAlphaMinibatches))), across parameters \(g(ck.alphaAcrossParameters)) (Gaussian: \(g(ck.gaussianAlphaParameters)))")
            }
            return ClaimVerdict(claim: "10", kind: compose([kindA, kindB]), notes: notes)
        },
        figure: { context, _ in
            let report = try context.noise()
            guard let c = report.checkpoints.first(where: { $0.name == "initialisation" }) else { return nil }
            var chart = NoiseFigures.qq(c, report: report)
            chart.title = "Claim 10: " + chart.title
            return chart
        },
        scope: { context in
            "noise: \(context.scale.noise.description); tail indices at the smallest B on the first replicate, judged at the random initialisation"
        })
}

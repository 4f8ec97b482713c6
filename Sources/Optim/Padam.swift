import Engine
import Foundation

/// Padam, partially adaptive momentum (Chen & Gu), as in the authors' reference code (docs/paper.md §3.6).
///
///     g ← g + wd·θ                                       (L2)
///     m ← β₁·m + (1 − β₁)·g      v ← β₂·v + (1 − β₂)·g²
///     v ← max(vmax, v)                                    (amsgrad, on by default)
///     θ ← θ − lr·√(1 − β₂ᵗ)/(1 − β₁ᵗ) · m / (√v + ε)^(2p)  (√(1 − β₂ᵗ) is not raised to 2p)
///
/// p = 1/2 is AMSGrad, p → 0 is SGD with momentum. Defaults: lr 0.1, betas (0.9, 0.999),
/// eps 1e-8, weightDecay 0, amsgrad true, partial 1/8 (the authors' CIFAR scripts; the class
/// itself defaults to 1/4).
final class PadamOptimizer: OptimizerCore<PadamOptimizer.Settings> {
    struct Settings {
        var betas: (Double, Double)
        var eps: Double
        var weightDecay: Double
        var amsgrad: Bool
        var partial: Double
    }

    /// The registration (see OptimizerRegistration): names, bench settings, default lr, settings reader, class.
    static let registration = OptimizerRegistration(
        position: 4, [.init("padam", benchOptions: ["weightDecay": .number(5e-4)], benchBytesPerElement: 36)],
        defaultLr: { _ in 0.1 }, settings: settings, type: PadamOptimizer.self)

    /// Reads and checks one group's settings: every key but `lr` (read first, by the same rule for every optimizer).
    static func settings(_ name: String, _ r: inout OptionReader) -> Settings {
        Settings(
            betas: r.pair("betas", default: (0.9, 0.999), .unit(includingOne: false), .unit(includingOne: false)),
            eps: r.number("eps", default: 1e-8, .nonNegative),
            weightDecay: r.number("weightDecay", default: 0, .nonNegative),
            amsgrad: r.bool("amsgrad", default: true),
            partial: r.number("partial", default: 0.125, .closed(0, 0.5)))
    }


    override func bufferLayout(_ s: Settings) -> [(name: String, initial: Float)] {
        [("exp_avg", 0), ("exp_avg_sq", 0)] + (s.amsgrad ? [("max_exp_avg_sq", 0)] : [])
    }

    override func update(_ p: Active, lr: Double, settings s: Settings) {
        let theta = p.value.data, grad = p.gradient.data
        let m = p.buffer("exp_avg"), v = p.buffer("exp_avg_sq")
        let t = p.slot.step
        let (beta1, beta2) = s.betas
        let stepSize = Float(-(lr * (1 - power(beta2, t)).squareRoot() / (1 - power(beta1, t))))
        let exponent = TensorPower(Float(s.partial * 2))
        let wd = Float(s.weightDecay), b1 = Float(beta1), w1 = Float(1 - beta1), b2 = Float(beta2), w2 = Float(1 - beta2)
        let eps = Float(s.eps)
        let vmax = s.amsgrad ? p.buffer("max_exp_avg_sq") : v
        /// One element. Called with constant switches, so that each combination compiles to its
        /// own loop and the common ones vectorize.
        @inline(__always) func element(_ i: Int, amsgrad: Bool, quarter: Bool) {
            let g = grad[i] + wd * theta[i]  // wd = 0 adds exactly 0
            let mi = m[i] * b1 + w1 * g
            let vi = v[i] * b2 + w2 * g * g
            m[i] = mi
            v[i] = vi
            var vUsed = vi
            if amsgrad {
                vUsed = max(vmax[i], vi)
                vmax[i] = vUsed
            }
            let denominator = vUsed.squareRoot() + eps
            let powered = quarter ? denominator.squareRoot().squareRoot() : exponent.apply(denominator)
            theta[i] = theta[i] + stepSize * (mi / powered)
        }
        let n = p.value.count
        switch (s.amsgrad, exponent.kind == .quarter) {  // the default, p = 1/8, has exponent 1/4
        case (true, true): forEachChunk(n) { r in for i in r { element(i, amsgrad: true, quarter: true) } }
        case (true, false): forEachChunk(n) { r in for i in r { element(i, amsgrad: true, quarter: false) } }
        case (false, true): forEachChunk(n) { r in for i in r { element(i, amsgrad: false, quarter: true) } }
        case (false, false): forEachChunk(n) { r in for i in r { element(i, amsgrad: false, quarter: false) } }
        }
    }
}

/// `x ** e` for a tensor and a scalar exponent as PyTorch computes it: exponents 0, 1, 0.5, 2
/// and 3 take exact shortcuts (fill, copy, sqrt, x·x, x·x·x); others call pow. Exponent 0.25
/// (Padam's default p = 1/8) is taken as √√x, within an ulp of pow and much faster.
struct TensorPower {
    enum Kind { case zero, one, half, quarter, two, three, general }
    let kind: Kind
    let exponent: Float

    init(_ exponent: Float) {
        self.exponent = exponent
        switch exponent {
        case 0: kind = .zero
        case 1: kind = .one
        case 0.5: kind = .half
        case 0.25: kind = .quarter
        case 2: kind = .two
        case 3: kind = .three
        default: kind = .general
        }
    }

    @inline(__always)
    func apply(_ x: Float) -> Float {
        switch kind {
        case .zero: return 1
        case .one: return x
        case .half: return x.squareRoot()
        case .quarter: return x.squareRoot().squareRoot()
        case .two: return x * x
        case .three: return x * x * x
        case .general: return powf(x, exponent)
        }
    }
}

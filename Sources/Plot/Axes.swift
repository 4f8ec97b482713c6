import Foundation

/// Tick positions and labels for one axis.
public enum Ticks {
    /// About `target` "nice" ticks (1, 2 or 5 × 10ᵏ apart) covering [low, high].
    public static func linear(_ low: Double, _ high: Double, target: Int = 6) -> [Double] {
        guard low.isFinite, high.isFinite, high > low else { return [low] }
        let raw = (high - low) / Double(max(target - 1, 1))
        let magnitude = pow(10, floor(log10(raw)))
        // The 1-2-5 step whose tick count is closest to the target.
        func ticks(step: Double) -> [Double] {
            let decimals = max(0, Int(-floor(log10(step))) + 1)
            let unit = pow(10, Double(decimals))
            var out: [Double] = []
            var k = ceil(low / step - 1e-9)
            while k * step <= high + step * 1e-9 {
                out.append((k * step * unit).rounded() / unit)
                k += 1
            }
            return out
        }
        let candidates = [0.5, 1, 2, 5, 10].map { ticks(step: $0 * magnitude) }
        return candidates.min { abs($0.count - target) < abs($1.count - target) } ?? [low, high]
    }

    /// The labelled ticks of a log axis over [low, high] (both > 0): the powers of ten, or 1, 3 × 10ᵏ or 1, 2, 5 × 10ᵏ
    /// over narrower ranges, or every digit × 10ᵏ when fewer than three of those fall inside.
    public static func logarithmic(_ low: Double, _ high: Double) -> [Double] {
        guard low > 0, high > low else { return [low] }
        let decades = log10(high / low)
        let mantissas: [Double] = decades > 2.5 ? [1] : decades > 1.5 ? [1, 3] : [1, 2, 5]
        let nice = logTicks(low, high, mantissas: mantissas)
        // Less than a decade may hold only one or two of 1, 2, 5: label every digit then.
        return nice.count >= 3 ? nice : logTicks(low, high, mantissas: [1, 2, 3, 4, 5, 6, 7, 8, 9])
    }

    /// Unlabelled minor ticks of a log axis: every digit × 10ᵏ in [low, high].
    public static func logarithmicMinor(_ low: Double, _ high: Double) -> [Double] {
        guard low > 0, high > low, log10(high / low) < 12 else { return [] }
        return logTicks(low, high, mantissas: [1, 2, 3, 4, 5, 6, 7, 8, 9])
    }

    static func logTicks(_ low: Double, _ high: Double, mantissas: [Double]) -> [Double] {
        var ticks: [Double] = []
        for e in Int(floor(log10(low)))...Int(ceil(log10(high))) {
            for m in mantissas {
                let t = Double(String(format: "%.12g", m * pow(10, Double(e))))!
                if t >= low * (1 - 1e-9) && t <= high * (1 + 1e-9) { ticks.append(t) }
            }
        }
        return ticks
    }

    /// A short label: up to 4 significant digits, scientific notation for very small or large values.
    public static func label(_ v: Double) -> String {
        if v == 0 { return "0" }
        let a = abs(v)
        if a >= 1e5 || a < 1e-3 { return String(format: "%.0e", v).replacingOccurrences(of: "e-0", with: "e-").replacingOccurrences(of: "e+0", with: "e") }
        var s = String(format: "%.4g", v)
        if s.contains("e") { s = String(format: "%.4f", v) }
        return s
    }

    /// Whether a log axis's ticks read better as plain numbers ("10", "20", "50") than in powers of ten: all
    /// of them between 0.01 and 10,000, where `label` writes them in full.
    public static func plainLogLabels(_ ticks: [Double]) -> Bool {
        !ticks.isEmpty && ticks.allSatisfy { $0 >= 0.01 && $0 <= 10_000 }
    }

    /// The label of a log-axis tick in powers of ten: "10⁻³", or "2×10⁻³" between the powers.
    public static func powerOfTenLabel(_ v: Double) -> String {
        guard v > 0, v.isFinite else { return label(v) }
        let exponent = Int(floor(log10(v) + 1e-9))
        let mantissa = (v / pow(10, Double(exponent)) * 1e6).rounded() / 1e6
        let power = "10" + superscript(exponent)
        return mantissa == 1 ? power : "\(String(format: "%g", mantissa))×\(power)"
    }

    /// `n` in superscript digits ("⁻¹²").
    public static func superscript(_ n: Int) -> String {
        let digits: [Character] = ["⁰", "¹", "²", "³", "⁴", "⁵", "⁶", "⁷", "⁸", "⁹"]
        return (n < 0 ? "⁻" : "") + String(String(abs(n)).map { digits[Int(String($0))!] })
    }
}

/// Maps data coordinates to points inside a plot rectangle.
struct Frame {
    let box: Box
    let xMin, xMax, yMin, yMax: Double
    let logX, logY: Bool

    private func fraction(_ v: Double, _ low: Double, _ high: Double, _ log: Bool) -> Double {
        log ? (log10(v) - log10(low)) / (log10(high) - log10(low)) : (v - low) / (high - low)
    }
    func px(_ x: Double) -> Double { box.x + fraction(x, xMin, xMax, logX) * box.width }
    func py(_ y: Double) -> Double { box.bottom - fraction(y, yMin, yMax, logY) * box.height }
}

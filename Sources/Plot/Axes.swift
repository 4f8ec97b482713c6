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

    /// Ticks at 1, 2, 5 × 10ᵏ (or only powers of ten over wide ranges) within [low, high], both > 0.
    public static func logarithmic(_ low: Double, _ high: Double) -> [Double] {
        guard low > 0, high > low else { return [low] }
        let decades = log10(high / low)
        let mantissas: [Double] = decades > 4 ? [1] : decades > 1.5 ? [1, 3] : [1, 2, 5]
        func ticks(_ mantissas: [Double]) -> [Double] {
            var ticks: [Double] = []
            for e in Int(floor(log10(low)))...Int(ceil(log10(high))) {
                for m in mantissas {
                    let t = Double(String(format: "%.12g", m * pow(10, Double(e))))!
                    if t >= low * (1 - 1e-9) && t <= high * (1 + 1e-9) { ticks.append(t) }
                }
            }
            return ticks
        }
        let nice = ticks(mantissas)
        // Less than a decade may hold only one or two of 1, 2, 5: label every digit then.
        return nice.count >= 3 ? nice : ticks([1, 2, 3, 4, 5, 6, 7, 8, 9])
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
}

/// Maps data coordinates to pixels inside a plot rectangle.
struct Frame {
    let left, top, width, height: Int
    let xMin, xMax, yMin, yMax: Double
    let logY: Bool

    func px(_ x: Double) -> Double { Double(left) + (x - xMin) / (xMax - xMin) * Double(width) }
    func py(_ y: Double) -> Double {
        let t = logY ? (log10(y) - log10(yMin)) / (log10(yMax) - log10(yMin)) : (y - yMin) / (yMax - yMin)
        return Double(top + height) - t * Double(height)
    }
}

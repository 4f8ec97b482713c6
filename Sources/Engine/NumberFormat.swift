import Foundation

/// How the package writes a number as text, each way named once: run ids, CSV cells and messages all pick
/// one of these instead of spelling out their own formatter, so two places that must agree do.
public enum NumberFormat: Equatable, Sendable {
    /// The shortest text that reads back as the same Double, as Swift writes it: "0.1", "1e-05", "5.0",
    /// "1000000000000000.0", "1e+16".
    case shortest
    /// A number as people write it, and as run ids spell settings (`adai-lr0.5-wd0.0005`): whole numbers
    /// without a fraction ("1", "-3"), others as `shortest` ("0.0005", "1e-05").
    case runId
    /// C's `%.<n>g`, as printf writes it (a NaN with its sign bit set comes out "-nan").
    case g(Int)
    /// `significant` significant digits (`%.<n>g`) with NaN always "nan" and infinities "inf" and "-inf":
    /// the cells of the CSV files the reports write.
    case csv(significant: Int)
    /// The cells of metrics.csv: whole numbers as integers, others with 9 significant digits (enough to
    /// round-trip a Float32 exactly), "nan", "inf", "-inf".
    case metrics

    public func string(_ x: Double) -> String {
        switch self {
        case .shortest:
            return "\(x)"
        case .runId:
            if x == x.rounded(), abs(x) < 1e15 { return String(Int(x)) }
            return "\(x)"
        case .g(let n):
            return String(format: "%.\(n)g", x)
        case .csv(let n):
            if x.isNaN { return "nan" }
            if x.isInfinite { return x > 0 ? "inf" : "-inf" }
            return String(format: "%.\(n)g", x)
        case .metrics:
            if x.isNaN { return "nan" }
            if x.isInfinite { return x > 0 ? "inf" : "-inf" }
            if x == x.rounded(), abs(x) < 1e15 { return String(Int(x)) }
            return String(format: "%.9g", x)
        }
    }
}

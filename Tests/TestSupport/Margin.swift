import Foundation

/// How close a numeric comparison came to its tolerance, printed as
/// `margin <what>: worst error / tolerance = <ratio>` so that `scripts/test-kernels.sh` can show, for
/// every OpenBLAS kernel family, the worst ratio over the suite (1 would fail).
///
/// The comparisons that report here compare float32 results with a double-precision reference or
/// with another float32 computation of the same sums in another order. Their tolerances follow one
/// error model: a float32 sum of K terms carries rounding of about √K·u (u = 2⁻²⁴ ≈ 6e-8) relative
/// to the terms' scale for random-signed data, and at most K·u in the worst case; with K ≤ 700 in
/// these tests that is ≤ 1.6e-6 typical, and the tolerances (1e-5 relative to the largest value, or
/// stated at the test) leave a factor of about 6 for the longest sums.
public enum Margin {
    /// Prints the ratio of `error` to `tolerance` for `what`.
    public static func report(_ what: String, error: Double, tolerance: Double) {
        print("margin \(what): worst error / tolerance = \(tolerance > 0 ? error / tolerance : .infinity)")
    }
}

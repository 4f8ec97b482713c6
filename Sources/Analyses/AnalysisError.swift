import Foundation

/// An error of an analysis (bad settings, unreadable run directory, …); `message` says what,
/// where and what to do.
public struct AnalysisError: Error, Equatable, CustomStringConvertible, LocalizedError {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
    public var errorDescription: String? { message }
}

/// A number with 9 significant digits (Float32 round-trips; Doubles keep what matters).
func format9(_ x: Double) -> String { String(format: "%.9g", x) }

import Engine
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
func format9(_ x: Double) -> String { NumberFormat.g(9).string(x) }

/// "0.01,0.02" → [0.01, 0.02]; `option` names the command-line option in the message.
public func parseNumberList(_ text: String, option: String) throws -> [Double] {
    try text.split(separator: ",", omittingEmptySubsequences: false).map { part in
        guard let x = Double(part.trimmingCharacters(in: .whitespaces)) else {
            throw AnalysisError("\(option): cannot read '\(part)' as a number; write comma-separated numbers, e.g. 1,2,4")
        }
        return x
    }
}

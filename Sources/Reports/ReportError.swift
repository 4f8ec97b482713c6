import Foundation

/// A problem with the inputs of a report, with a message that says what, where and what to do.
public struct ReportError: Error, CustomStringConvertible, LocalizedError, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
    public var errorDescription: String? { description }
}

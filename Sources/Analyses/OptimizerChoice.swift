import Engine
import Foundation
import Optim

/// An optimizer with its settings as written on the command line: `NAME[:key=value[:key=value…]]`,
/// e.g. `sgdm:lr=0.01:momentum=0.9`, `adam:lr=0.001:betas=0.9,0.999`, `adai:lr=0.5`.
/// `label` names it in outputs (the spec's `label=` setting, else the optimizer's name).
public struct OptimizerChoice: Equatable {
    public let name: String
    public let label: String
    public let options: OptimizerOptions

    public init(name: String, label: String? = nil, options: OptimizerOptions) throws {
        self.name = name
        self.label = label ?? name
        self.options = options
        guard !self.label.isEmpty, self.label.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else {
            throw AnalysisError("optimizer label '\(self.label)' must be letters, digits, '-', '_' or '.' (it names CSV rows)")
        }
        do {
            try validateOptimizerOptions(name, options)
        } catch {
            throw AnalysisError("optimizer '\(name)': \(error)")
        }
    }

    /// Parses `NAME[:key=value…]`; `label=TEXT` is taken out of the settings.
    public init(parsing spec: String) throws {
        let parts = spec.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        let name = parts[0].trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty else {
            throw AnalysisError("optimizer spec '\(spec)' has no name; write NAME[:key=value…], e.g. sgdm:lr=0.01:momentum=0.9")
        }
        var assignments = Array(parts.dropFirst())
        var label: String?
        if let i = assignments.firstIndex(where: { $0.hasPrefix("label=") }) {
            label = String(assignments.remove(at: i).dropFirst("label=".count))
        }
        let options: OptimizerOptions
        do {
            options = try parseOptionAssignments(assignments)
        } catch {
            throw AnalysisError("optimizer spec '\(spec)': \(error); write NAME[:key=value…], e.g. sgdm:lr=0.01:momentum=0.9")
        }
        try self.init(name: name, label: label, options: options)
    }

    /// The spec as it parses back (settings sorted by key).
    public var spec: String {
        ([name] + (label != name ? ["label=\(label)"] : []) + options.keys.sorted().map { "\($0)=\(options[$0]!)" })
            .joined(separator: ":")
    }

    /// Builds the optimizer over `parameters`.
    public func make(_ parameters: [NamedParameter]) throws -> any Optimizer {
        try makeOptimizer(name, parameters: parameters, options: options)
    }
}

import Engine
import Foundation

/// Settings of optimizers and schedules as they arrive from a JSON config or the command line,
/// and the reader that turns them into typed, validated values with precise messages.

/// An error in a setting, a state or an input of this module; `message` says what and where.
public struct OptimError: Error, Equatable, CustomStringConvertible, LocalizedError {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
    public var errorDescription: String? { message }
}

/// One setting's value: a number, a switch or a list of numbers (JSON number, bool or array).
public enum OptionValue: Equatable, Codable, CustomStringConvertible, Sendable {
    case number(Double)
    case bool(Bool)
    case list([Double])

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let b = try? container.decode(Bool.self) {
            self = .bool(b)
        } else if let x = try? container.decode(Double.self) {
            self = .number(x)
        } else if let xs = try? container.decode([Double].self) {
            self = .list(xs)
        } else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "expected a number, true/false or a list of numbers")
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .number(let x): try container.encode(x)
        case .bool(let b): try container.encode(b)
        case .list(let xs): try container.encode(xs)
        }
    }

    /// Parses a command-line value: `true`/`false`, a number, or numbers separated by commas.
    public init(parsing text: String) throws {
        let t = text.trimmingCharacters(in: .whitespaces)
        if t == "true" { self = .bool(true); return }
        if t == "false" { self = .bool(false); return }
        if !t.contains(","), let x = Double(t) { self = .number(x); return }
        let parts = t.split(separator: ",", omittingEmptySubsequences: false)
        let numbers = parts.compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
        guard !t.isEmpty, numbers.count == parts.count else {
            throw OptimError("cannot read '\(text)' as a number, true/false or a comma-separated list of numbers")
        }
        self = .list(numbers)
    }

    public var description: String {
        switch self {
        case .number(let x): return formatNumber(x)
        case .bool(let b): return String(b)
        case .list(let xs): return "[" + xs.map(formatNumber).joined(separator: ", ") + "]"
        }
    }
}

/// Settings by key, e.g. `["lr": .number(0.1), "betas": .list([0.9, 0.999])]`.
public typealias OptimizerOptions = [String: OptionValue]

/// Parses `key=value` pairs (from repeated `--set` options) into options; later pairs win.
public func parseOptionAssignments(_ assignments: [String]) throws -> OptimizerOptions {
    var options: OptimizerOptions = [:]
    for assignment in assignments {
        guard let eq = assignment.firstIndex(of: "="), eq != assignment.startIndex else {
            throw OptimError("expected key=value, got '\(assignment)'")
        }
        let key = String(assignment[..<eq]).trimmingCharacters(in: .whitespaces)
        options[key] = try OptionValue(parsing: String(assignment[assignment.index(after: eq)...]))
    }
    return options
}

/// Shortest text that reads back as the same Double ("0.1", "1e-08", "5.0").
func formatNumber(_ x: Double) -> String { NumberFormat.shortest.string(x) }

/// The allowed values of a number.
enum NumberRange {
    case any, nonNegative, positive
    /// [0, 1) when `includingOne` is false, [0, 1] when true.
    case unit(includingOne: Bool)
    case closed(Double, Double)

    func contains(_ x: Double) -> Bool {
        switch self {
        case .any: return true
        case .nonNegative: return x >= 0
        case .positive: return x > 0
        case .unit(let one): return x >= 0 && (one ? x <= 1 : x < 1)
        case .closed(let lo, let hi): return x >= lo && x <= hi
        }
    }

    var text: String {
        switch self {
        case .any: return "a number"
        case .nonNegative: return ">= 0"
        case .positive: return "> 0"
        case .unit(let one): return one ? "in [0, 1]" : "in [0, 1)"
        case .closed(let lo, let hi): return "in [\(formatNumber(lo)), \(formatNumber(hi))]"
        }
    }
}

/// Reads typed settings from options, collecting every problem instead of stopping at the first.
///
/// Each read names a key, its default (nil when the key is required) and its allowed range, and
/// returns the value, or the default when the key is absent or wrong. `finish()` then throws, in
/// this order: keys that were never read (unknown keys, listing the valid ones), then the first
/// problem with a value. Messages start with the owner's name, e.g.
/// `adai: betas[1] must be in [0, 1), got 1.2`.
struct OptionReader {
    let owner: String
    let options: OptimizerOptions
    private(set) var validKeys: [String] = []
    private var problems: [String] = []

    init(owner: String, options: OptimizerOptions) {
        self.owner = owner
        self.options = options
    }

    private mutating func declare(_ key: String) -> OptionValue? {
        if !validKeys.contains(key) { validKeys.append(key) }
        return options[key]
    }

    mutating func number(_ key: String, default value: Double?, _ range: NumberRange = .any) -> Double {
        guard let raw = declare(key) else {
            if let value { return value }
            problems.append("\(key) is required (it has no default)")
            return 0
        }
        guard case .number(let x) = raw else {
            problems.append("\(key) must be a number, got \(raw)")
            return value ?? 0
        }
        check(x, key, range)
        return x
    }

    mutating func integer(_ key: String, default value: Int?, minimum: Int) -> Int {
        let x = number(key, default: value.map(Double.init))
        guard x.isFinite, x == x.rounded(), abs(x) < 1e15 else {
            problems.append("\(key) must be a whole number, got \(formatNumber(x))")
            return value ?? minimum
        }
        if Int(x) < minimum { problems.append("\(key) must be >= \(minimum), got \(Int(x))") }
        return Int(x)
    }

    mutating func bool(_ key: String, default value: Bool) -> Bool {
        guard let raw = declare(key) else { return value }
        guard case .bool(let b) = raw else {
            problems.append("\(key) must be true or false, got \(raw)")
            return value
        }
        return b
    }

    /// A list of exactly two numbers, such as `betas`, each with its own range.
    mutating func pair(_ key: String, default value: (Double, Double), _ first: NumberRange, _ second: NumberRange)
        -> (Double, Double)
    {
        guard let raw = declare(key) else { return value }
        guard case .list(let xs) = raw, xs.count == 2 else {
            problems.append("\(key) must be a list of 2 numbers, got \(raw)")
            return value
        }
        check(xs[0], "\(key)[0]", first)
        check(xs[1], "\(key)[1]", second)
        return (xs[0], xs[1])
    }

    /// A list of exactly `count` finite numbers (a single number when `count` is 1).
    mutating func numbers(_ key: String, default value: [Double], count: Int) -> [Double] {
        guard let raw = declare(key) else { return value }
        var xs: [Double]
        switch raw {
        case .list(let list): xs = list
        case .number(let x): xs = [x]
        case .bool: xs = []
        }
        guard xs.count == count else {
            problems.append("\(key) must be a list of \(count) number\(count == 1 ? "" : "s"), got \(raw)")
            return value
        }
        for (i, x) in xs.enumerated() { check(x, "\(key)[\(i)]", .any) }
        return xs
    }

    /// A list of whole numbers, each at least `minimum`.
    mutating func integers(_ key: String, default value: [Int]?, minimum: Int) -> [Int] {
        guard let raw = declare(key) else {
            if let value { return value }
            problems.append("\(key) is required (it has no default)")
            return []
        }
        let xs: [Double]
        switch raw {
        case .list(let list): xs = list
        case .number(let x): xs = [x]
        case .bool: problems.append("\(key) must be a list of whole numbers, got \(raw)"); return value ?? []
        }
        var out: [Int] = []
        for (i, x) in xs.enumerated() {
            guard x.isFinite, x == x.rounded(), abs(x) < 1e15 else {
                problems.append("\(key)[\(i)] must be a whole number, got \(formatNumber(x))")
                continue
            }
            if Int(x) < minimum { problems.append("\(key)[\(i)] must be >= \(minimum), got \(Int(x))") }
            out.append(Int(x))
        }
        return out
    }

    /// Records `message` unless `condition` holds (for rules that involve several keys).
    mutating func require(_ condition: Bool, _ message: @autoclosure () -> String) {
        if !condition { problems.append(message()) }
    }

    private mutating func check(_ x: Double, _ name: String, _ range: NumberRange) {
        if !x.isFinite {
            problems.append("\(name) must be a finite number, got \(formatNumber(x))")
        } else if !range.contains(x) {
            problems.append("\(name) must be \(range.text), got \(formatNumber(x))")
        }
    }

    func finish() throws {
        let unknown = options.keys.filter { !validKeys.contains($0) }.sorted()
        if !unknown.isEmpty {
            let list = unknown.map { "'\($0)'" }.joined(separator: ", ")
            let guesses = unknown.compactMap { key in ClosestName.of(key, in: validKeys).map { "'\($0)'" } }
            let guess = guesses.isEmpty ? "" : " (did you mean \(guesses.joined(separator: ", "))?)"
            let valid = validKeys.isEmpty ? "it has no settings" : "valid keys: \(validKeys.joined(separator: ", "))"
            throw OptimError("\(owner): unknown key\(unknown.count > 1 ? "s" : "") \(list)\(guess); \(valid)")
        }
        if let first = problems.first { throw OptimError("\(owner): \(first)") }
    }
}

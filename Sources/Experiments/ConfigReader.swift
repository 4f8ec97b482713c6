import Engine
import Foundation

/// Every problem found in a config, each with its JSON path; the CLI prints them one per line.
public struct ConfigError: Error, CustomStringConvertible {
    public let file: String
    public let problems: [String]
    public var description: String {
        problems.count == 1 ? "\(file): \(problems[0])"
            : "\(file): \(problems.count) problems:\n" + problems.map { "  " + $0 }.joined(separator: "\n")
    }
}

/// The closest of `candidates` to `word`, if it is a likely typo (Engine's ClosestName decides).
func closestName(to word: String, in candidates: [String]) -> String? { ClosestName.of(word, in: candidates) }

/// Reads typed values out of a JSON object while collecting problems with their JSON paths
/// (`optimizers[2].lr: must be > 0, got -1`). Reading never throws; `problems` says what went wrong.
final class JSONObjectReader {
    let path: String
    let object: [String: Any]
    private(set) var consumed: Set<String> = []
    let sink: ProblemSink

    final class ProblemSink {
        var problems: [String] = []
        func add(_ path: String, _ message: String) { problems.append(path.isEmpty ? message : "\(path): \(message)") }
    }

    init(_ object: [String: Any], path: String, sink: ProblemSink) {
        self.object = object
        self.path = path
        self.sink = sink
    }

    func keyPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }
    func has(_ key: String) -> Bool { object[key] != nil }

    func problem(_ key: String, _ message: String) { sink.add(keyPath(key), message) }

    func string(_ key: String, default value: String? = nil) -> String? {
        consumed.insert(key)
        guard let raw = object[key] else {
            if value == nil { problem(key, "missing (required)") }
            return value
        }
        guard let s = raw as? String else {
            problem(key, "must be a string, got \(describe(raw))")
            return value
        }
        return s
    }

    func bool(_ key: String, default value: Bool) -> Bool {
        consumed.insert(key)
        guard let raw = object[key] else { return value }
        guard let b = raw as? Bool, isBoolean(raw) else {
            problem(key, "must be true or false, got \(describe(raw))")
            return value
        }
        return b
    }

    func number(_ key: String, default value: Double? = nil, check: ((Double) -> String?)? = nil) -> Double? {
        consumed.insert(key)
        guard let raw = object[key] else {
            if value == nil { problem(key, "missing (required)") }
            return value
        }
        guard let x = numericValue(raw) else {
            problem(key, "must be a number, got \(describe(raw))")
            return value
        }
        if let check, let message = check(x) {
            problem(key, message)
            return value
        }
        return x
    }

    func integer(_ key: String, default value: Int? = nil, minimum: Int) -> Int? {
        guard let x = number(key, default: value.map(Double.init)) else { return nil }
        guard x == x.rounded(), abs(x) < 1e15 else {
            problem(key, "must be a whole number, got \(formatValue(x))")
            return value
        }
        guard Int(x) >= minimum else {
            problem(key, "must be >= \(minimum), got \(Int(x))")
            return value
        }
        return Int(x)
    }

    func numbers(_ key: String) -> [Double]? {
        consumed.insert(key)
        guard let raw = object[key] else { return nil }
        guard let list = raw as? [Any] else {
            problem(key, "must be a list of numbers, got \(describe(raw))")
            return nil
        }
        var out: [Double] = []
        for (i, item) in list.enumerated() {
            guard let x = numericValue(item) else {
                sink.add("\(keyPath(key))[\(i)]", "must be a number, got \(describe(item))")
                return nil
            }
            out.append(x)
        }
        return out
    }

    func object(_ key: String, required: Bool = true) -> JSONObjectReader? {
        consumed.insert(key)
        guard let raw = object[key] else {
            if required { problem(key, "missing (required)") }
            return nil
        }
        guard let dict = raw as? [String: Any] else {
            problem(key, "must be an object, got \(describe(raw))")
            return nil
        }
        return JSONObjectReader(dict, path: keyPath(key), sink: sink)
    }

    func array(_ key: String) -> [Any]? {
        consumed.insert(key)
        guard let raw = object[key] else {
            problem(key, "missing (required)")
            return nil
        }
        guard let list = raw as? [Any] else {
            problem(key, "must be a list, got \(describe(raw))")
            return nil
        }
        return list
    }

    func markConsumed(_ keys: [String]) { consumed.formUnion(keys) }

    /// Reports every key that was not read, with the closest valid key.
    func rejectUnknownKeys(valid: [String]) {
        for key in object.keys.sorted() where !consumed.contains(key) {
            if let guess = closestName(to: key, in: valid) {
                problem(key, "unknown key; did you mean \"\(guess)\"?")
            } else {
                problem(key, "unknown key; valid keys here: \(valid.joined(separator: ", "))")
            }
        }
    }
}

/// JSONSerialization gives booleans as NSNumbers of type "c" (char); numbers never have that type.
func isBoolean(_ value: Any) -> Bool {
    guard let n = value as? NSNumber else { return false }
    return String(cString: n.objCType) == "c"
}

func numericValue(_ value: Any) -> Double? {
    if isBoolean(value) { return nil }
    if let n = value as? NSNumber { return n.doubleValue }
    return nil
}

func describe(_ value: Any) -> String {
    if isBoolean(value) { return (value as! Bool) ? "true" : "false" }
    if let s = value as? String { return "\"\(s)\"" }
    if let n = numericValue(value) { return formatValue(n) }
    if value is [Any] { return "a list" }
    if value is [String: Any] { return "an object" }
    if value is NSNull { return "null" }
    return "\(value)"
}

/// A number as people write it: 1, 0.1, 0.0005, 1e-05.
public func formatValue(_ x: Double) -> String { NumberFormat.runId.string(x) }

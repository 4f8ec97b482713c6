import Dispatch

/// Where the time of a training step goes, by op category (`adai-bench bench` prints it).
public enum OpCategory: String, CaseIterable, Sendable {
    case convForward = "conv forward"
    case convBackwardData = "conv backward data"
    case convBackwardWeights = "conv backward weights"
    case linear = "linear / matmul"
    case batchNorm = "batch norm"
    case activations = "activations"
    case elementwise = "element-wise"
    case pooling = "pooling"
    case loss = "loss"
    case other = "other ops"
    case optimizer = "optimizer"
    case data = "data"
}

/// Accumulates wall time per op category while `enabled`; costs one branch per op otherwise.
/// Ops are issued from one thread, so the totals need no lock.
public enum Profiler {
    nonisolated(unsafe) public static var enabled = false
    nonisolated(unsafe) private static var totals = [UInt64](repeating: 0, count: OpCategory.allCases.count)
    private static let index: [OpCategory: Int] = Dictionary(uniqueKeysWithValues: OpCategory.allCases.enumerated().map { ($1, $0) })

    @inline(__always)
    public static func measure<R>(_ category: OpCategory, _ body: () throws -> R) rethrows -> R {
        guard enabled else { return try body() }
        let start = DispatchTime.now().uptimeNanoseconds
        defer { totals[index[category]!] += DispatchTime.now().uptimeNanoseconds - start }
        return try body()
    }

    public static func add(_ category: OpCategory, nanoseconds: UInt64) { totals[index[category]!] += nanoseconds }

    public static func reset() { for i in totals.indices { totals[i] = 0 } }

    /// Seconds per category since the last `reset()`.
    public static var seconds: [OpCategory: Double] {
        Dictionary(uniqueKeysWithValues: OpCategory.allCases.map { ($0, Double(totals[index[$0]!]) / 1e9) })
    }
}

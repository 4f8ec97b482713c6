/// A token stream cut into `batch` parallel streams for truncated backpropagation through time.
///
/// Like the reference `batchify`, the remainder that does not fill a whole column is dropped and
/// the data is laid out time-major: `data[t * batch + b]` is token t of stream b.
public struct PTBBatchedStream: Sendable {
    public let batch: Int
    /// Tokens per stream.
    public let steps: Int
    /// `steps × batch` token ids, time-major.
    public let data: [Int32]

    public init(tokens: [Int32], batch: Int) throws {
        guard batch >= 1 else {
            throw DatasetError.invalidArgument("PTB batch size must be at least 1, got \(batch); fix \"batchSize\" in the config.")
        }
        let steps = tokens.count / batch
        guard steps >= 2 else {
            throw DatasetError.invalidArgument(
                "PTB: \(tokens.count) tokens cannot fill \(batch) streams of at least 2 tokens (an input and its target); "
                    + "use a smaller batch size or more data.")
        }
        var data = [Int32](repeating: 0, count: steps * batch)
        for b in 0..<batch {
            for t in 0..<steps { data[t * batch + b] = tokens[b * steps + t] }
        }
        self.batch = batch
        self.steps = steps
        self.data = data
    }

    /// Windows of length `bptt` starting at 0, bptt, 2·bptt, ...; the last may be shorter.
    public func windowCount(bptt: Int) -> Int { bptt >= 1 ? (steps - 1 + bptt - 1) / bptt : 0 }

    /// Window `index`: inputs are tokens t ..< t+length, targets the tokens one step later.
    public func window(_ index: Int, bptt: Int) -> PTBWindow {
        precondition(bptt >= 1 && index >= 0 && index < windowCount(bptt: bptt), "PTB window \(index) out of range")
        let start = index * bptt
        let length = min(bptt, steps - 1 - start)
        return PTBWindow(
            length: length, batch: batch,
            input: Array(data[(start * batch)..<((start + length) * batch)]),
            target: Array(data[((start + 1) * batch)..<((start + 1 + length) * batch)]))
    }

    /// Every window of length `bptt` (default 35), in order.
    public func windows(bptt: Int = 35) throws -> [PTBWindow] {
        guard bptt >= 1 else {
            throw DatasetError.invalidArgument("BPTT length must be at least 1, got \(bptt); fix \"bptt\" in the config.")
        }
        return (0..<windowCount(bptt: bptt)).map { window($0, bptt: bptt) }
    }
}

/// One BPTT window: `input[t * batch + b]` is predicted by `target[t * batch + b]`.
public struct PTBWindow: Equatable, Sendable {
    /// Time steps in this window (≤ bptt).
    public let length: Int
    public let batch: Int
    /// `length × batch` token ids, time-major.
    public let input: [Int32]
    /// The next token of each input, same layout.
    public let target: [Int32]
}

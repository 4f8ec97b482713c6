import Foundation

/// Produces `count` items in order, preparing up to `depth` of them ahead on a background thread
/// while the caller works on the current one. Iterate it with `next()` or `for ... in`.
///
/// `waitSeconds` is the time the caller spent blocked waiting for an item: near zero when
/// preparation is hidden behind the caller's work. Dropping the prefetcher stops the thread.
public final class Prefetcher<Element>: Sequence, IteratorProtocol {
    private let shared: PrefetchQueue<Element>
    private let produce: ((Int) -> Element)?
    private let count: Int
    private var consumed = 0
    public private(set) var waitSeconds: Double = 0

    /// With `background: false` items are made on demand in the caller's thread (no prefetch).
    public init(count: Int, depth: Int = 2, background: Bool = true, produce: @escaping (Int) -> Element) {
        self.count = Swift.max(0, count)
        self.shared = PrefetchQueue(depth: Swift.max(1, depth))
        if background {
            self.produce = nil
            let queue = shared, total = self.count
            let thread = Thread { queue.run(count: total, produce: produce) }
            thread.name = "adai-bench.prefetch"
            thread.start()
        } else {
            self.produce = produce
        }
    }

    public func next() -> Element? {
        guard consumed < count else { return nil }
        defer { consumed += 1 }
        if let produce { return produce(consumed) }
        let start = DispatchTime.now().uptimeNanoseconds
        let item = shared.take()
        waitSeconds += Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
        return item
    }

    deinit { shared.cancel() }
}

/// The queue between the producing thread and the consumer.
private final class PrefetchQueue<Element>: @unchecked Sendable {
    private let condition = NSCondition()
    private var items: [Element] = []
    private var cancelled = false
    private let depth: Int

    init(depth: Int) { self.depth = depth }

    func run(count: Int, produce: (Int) -> Element) {
        for index in 0..<count {
            condition.lock()
            while items.count >= depth && !cancelled { condition.wait() }
            let stop = cancelled
            condition.unlock()
            if stop { return }
            let item = produce(index)
            condition.lock()
            items.append(item)
            condition.broadcast()
            condition.unlock()
        }
    }

    func take() -> Element {
        condition.lock()
        while items.isEmpty { condition.wait() }
        let item = items.removeFirst()
        condition.broadcast()
        condition.unlock()
        return item
    }

    func cancel() {
        condition.lock()
        cancelled = true
        items.removeAll()
        condition.broadcast()
        condition.unlock()
    }
}

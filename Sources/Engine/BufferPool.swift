import Foundation

/// Recycles Float32 buffers by element count so that a training step reuses the
/// activation and workspace memory of the previous one instead of returning it to
/// the operating system (which would cost page faults on every step).
///
/// Buffers are 64-byte aligned. The pool is thread-safe.
public final class BufferPool: @unchecked Sendable {
    public static let shared = BufferPool()

    private var free: [Int: [UnsafeMutablePointer<Float>]] = [:]
    private let lock = NSLock()
    /// Floats currently handed out plus floats held in the free lists.
    public private(set) var reservedFloats = 0

    public func acquire(count: Int) -> UnsafeMutablePointer<Float> {
        let n = max(count, 1)
        lock.lock()
        if var list = free[n], let p = list.popLast() {
            free[n] = list
            lock.unlock()
            return p
        }
        reservedFloats += n
        lock.unlock()
        var raw: UnsafeMutableRawPointer?
        let status = posix_memalign(&raw, 64, n * MemoryLayout<Float>.stride)
        guard status == 0, let raw else {
            fatalError("out of memory: could not allocate \(n * 4) bytes for a tensor")
        }
        return raw.bindMemory(to: Float.self, capacity: n)
    }

    public func release(_ pointer: UnsafeMutablePointer<Float>, count: Int) {
        let n = max(count, 1)
        lock.lock()
        free[n, default: []].append(pointer)
        lock.unlock()
    }

    /// Returns every idle buffer to the system.
    public func trim() {
        lock.lock()
        for (n, list) in free {
            for p in list { Foundation.free(p) }
            reservedFloats -= n * list.count
        }
        free.removeAll()
        lock.unlock()
    }
}

/// Owner of one pooled buffer; freed back to the pool when the last tensor viewing it goes away.
public final class TensorStorage {
    public let pointer: UnsafeMutablePointer<Float>
    public let count: Int

    init(count: Int) {
        self.count = count
        self.pointer = BufferPool.shared.acquire(count: count)
    }

    deinit { BufferPool.shared.release(pointer, count: count) }
}

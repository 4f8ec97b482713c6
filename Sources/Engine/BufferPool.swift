import Foundation

/// Recycles Float32 buffers so that a training step reuses the activation and workspace memory
/// of the previous one instead of returning it to the operating system (which would cost page
/// faults on every step).
///
/// A request for n floats takes an idle buffer of exactly n floats if there is one, else the
/// smallest idle buffer of up to 2n floats, else a new buffer of n floats. Reusing larger buffers
/// matters where many sizes occur (DenseNet's concatenations, a change of batch size between
/// training and evaluation): with exact sizes only, the pool holds the peak of every size
/// separately. The pages of a buffer beyond what its users wrote are never touched, so they cost
/// address space but no resident memory.
///
/// Buffers are 64-byte aligned. The pool is thread-safe.
public final class BufferPool: @unchecked Sendable {
    public static let shared = BufferPool()

    /// Idle buffers by capacity.
    private var free: [Int: [UnsafeMutablePointer<Float>]] = [:]
    private let lock = NSLock()
    /// Floats currently handed out plus floats held in the free lists.
    public private(set) var reservedFloats = 0

    /// A separate pool (tensors always use `shared`).
    public init() {}

    /// A buffer for `count` floats and its capacity (at least `count`), to be given back to `release`.
    public func acquire(count: Int) -> (pointer: UnsafeMutablePointer<Float>, capacity: Int) {
        let n = max(count, 1)
        lock.lock()
        if let p = takeIdle(n) {
            lock.unlock()
            return (p, n)
        }
        // Best fit among the larger idle buffers, up to twice the request.
        var best: Int?
        for (capacity, list) in free where capacity > n && capacity <= 2 * n && !list.isEmpty {
            if capacity < best ?? .max { best = capacity }
        }
        if let best, let p = takeIdle(best) {
            lock.unlock()
            return (p, best)
        }
        reservedFloats += n
        lock.unlock()
        var raw: UnsafeMutableRawPointer?
        let status = posix_memalign(&raw, 64, n * MemoryLayout<Float>.stride)
        guard status == 0, let raw else {
            fatalError("out of memory: could not allocate \(n * 4) bytes for a tensor")
        }
        return (raw.bindMemory(to: Float.self, capacity: n), n)
    }

    /// Pops an idle buffer of exactly `capacity` floats (the lock is held).
    private func takeIdle(_ capacity: Int) -> UnsafeMutablePointer<Float>? {
        guard let p = free[capacity]?.popLast() else { return nil }
        if free[capacity]!.isEmpty { free[capacity] = nil }
        return p
    }

    public func release(_ pointer: UnsafeMutablePointer<Float>, capacity: Int) {
        lock.lock()
        free[capacity, default: []].append(pointer)
        lock.unlock()
    }

    /// Returns every idle buffer to the system. The trainer calls it when it switches between training
    /// and evaluation: the two phases ask for buffers of different sizes (another batch size, no
    /// saved activations), and without a trim the process would hold the peak of both at once.
    /// On Linux it also asks glibc to give back the free pages inside its heaps (buffers below
    /// glibc's mmap threshold live there and stay resident after `free`).
    public func trim() {
        lock.lock()
        for (n, list) in free {
            for p in list { Foundation.free(p) }
            reservedFloats -= n * list.count
        }
        free.removeAll()
        lock.unlock()
        _ = Self.mallocTrim?(0)
    }

    /// glibc's malloc_trim (not in Swift's Glibc module; absent on other C libraries).
    private static let mallocTrim: (@convention(c) (Int) -> Int32)? = {
        guard let symbol = loadedSymbol("malloc_trim") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (Int) -> Int32).self)
    }()
}

/// Owner of one pooled buffer; freed back to the pool when the last tensor viewing it goes away.
public final class TensorStorage {
    public let pointer: UnsafeMutablePointer<Float>
    /// The tensor's element count (the buffer may be larger).
    public let count: Int
    private let capacity: Int

    init(count: Int) {
        self.count = count
        (pointer, capacity) = BufferPool.shared.acquire(count: count)
    }

    deinit { BufferPool.shared.release(pointer, capacity: capacity) }
}

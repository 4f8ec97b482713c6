import Engine
import Foundation
import XCTest

/// `Parallel.run`: every part runs exactly once, also after the helpers have gone to sleep (after
/// their spin, or sent by `yieldCores`); long parts run on separate threads; a loop started inside a
/// part, or from another thread while the pool is busy, runs its parts on its own thread.
final class ParallelTests: XCTestCase {
    override func tearDown() { Parallel.setThreadCount(nil) }

    /// Runs `Parallel.run(parts:)` and returns how often each part ran.
    private func counts(parts: Int) -> [Int] {
        let lock = NSLock()
        var counts = [Int](repeating: 0, count: parts)
        Parallel.run(parts: parts) { p in
            lock.lock()
            counts[p] += 1
            lock.unlock()
        }
        return counts
    }

    func testEveryPartRunsExactlyOnce() {
        Parallel.setThreadCount(3)
        for round in 0..<300 {
            let parts = 2 + round % 3
            XCTAssertEqual(counts(parts: parts), [Int](repeating: 1, count: parts), "round \(round)")
            if round % 50 == 49 { Thread.sleep(forTimeInterval: 0.01) }  // past the helpers' spin: they sleep
            if round % 10 == 5 { Parallel.yieldCores() }  // spinning helpers sleep at once
        }
    }

    /// Parts that take a while (here: sleep) run side by side on different threads, also when the
    /// helpers were asleep.
    func testLongPartsRunOnSeparateThreads() {
        Parallel.setThreadCount(2)
        for round in 0..<3 {
            let lock = NSLock()
            var threads = Set<String>()
            Parallel.run(parts: 2) { _ in
                lock.lock()
                threads.insert("\(pthread_self())")
                lock.unlock()
                Thread.sleep(forTimeInterval: 0.02)
            }
            XCTAssertEqual(threads.count, 2, "round \(round)")
            Thread.sleep(forTimeInterval: 0.01)
        }
    }

    func testWorkIsSharedAndSummedExactly() {
        Parallel.setThreadCount(2)
        let n = 100_003
        let data = Tensor(uninitializedShape: [n])
        for i in 0..<n { data.data[i] = Float(i % 7) }
        let sums = UnsafeMutablePointer<Double>.allocate(capacity: 2)
        defer { sums.deallocate() }
        let expected = (0..<n).reduce(0.0) { $0 + Double($1 % 7) }
        for _ in 0..<20 {
            Parallel.run(parts: 2) { p in
                var s = 0.0
                for i in (p * n / 2)..<((p + 1) * n / 2) { s += Double(data.data[i]) }
                sums[p] = s
            }
            XCTAssertEqual(sums[0] + sums[1], expected)
        }
    }

    func testALoopInsideAPartRunsOnThatPartsThread() {
        Parallel.setThreadCount(2)
        let lock = NSLock()
        var inner: [[String]] = [[], []]
        Parallel.run(parts: 2) { p in
            let outer = "\(pthread_self())"
            Parallel.run(parts: 2) { _ in
                lock.lock()
                inner[p].append("\(pthread_self())" == outer ? "same" : "other")
                lock.unlock()
            }
        }
        XCTAssertEqual(inner, [["same", "same"], ["same", "same"]])
    }

    func testLoopsFromSeveralThreadsAtOnceAllComplete() {
        Parallel.setThreadCount(2)
        let total = UnsafeMutablePointer<Int>.allocate(capacity: 4)
        defer { total.deallocate() }
        total.initialize(repeating: 0, count: 4)
        DispatchQueue.concurrentPerform(iterations: 4) { caller in
            for _ in 0..<100 {
                let parts = UnsafeMutablePointer<Int>.allocate(capacity: 2)
                parts.initialize(repeating: 0, count: 2)
                Parallel.run(parts: 2) { p in parts[p] += 1 }
                total[caller] += parts[0] + parts[1]
                parts.deallocate()
            }
        }
        XCTAssertEqual((0..<4).map { total[$0] }, [200, 200, 200, 200])
    }

    /// `Kernels.zero` on several threads clears exactly its range (gradient buffers start that way).
    func testZeroClearsExactlyItsRange() {
        Parallel.setThreadCount(2)
        let count = (1 << 20) + 3
        let t = Tensor(shape: [count + 2], repeating: 7)
        Kernels.zero(t.data + 1, count: count)
        XCTAssertEqual(t.data[0], 7)
        XCTAssertEqual(t.data[count + 1], 7)
        XCTAssertTrue((1...count).allSatisfy { t.data[$0] == 0 })
    }
}

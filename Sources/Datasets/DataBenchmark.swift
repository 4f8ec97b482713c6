import Foundation

/// Measurements behind `adai-bench data bench`.
public enum DataBenchmark {
    public struct Throughput {
        public let images: Int
        public let seconds: Double
        public var imagesPerSecond: Double { Double(images) / seconds }
    }

    /// Prepares augmented, normalised training batches in the calling thread for at least
    /// `minimumSeconds` and reports images per second.
    public static func augmentationThroughput(_ batches: CIFARBatches, minimumSeconds: Double) -> Throughput {
        var images = 0
        var epoch = 0
        let start = now()
        repeat {
            let order = batches.order(epoch: epoch)
            for index in 0..<batches.batchCount {
                images += batches.batch(epoch: epoch, index: index, order: order).labels.count
            }
            epoch += 1
        } while now() - start < minimumSeconds
        return Throughput(images: images, seconds: now() - start)
    }

    public struct PrefetchComparison {
        public let batches: Int
        /// Duration of the compute stand-in per batch.
        public let computeSeconds: Double
        /// Mean time to prepare one batch, measured without prefetch.
        public let preparationSeconds: Double
        public let totalWithoutPrefetch: Double
        public let totalWithPrefetch: Double
        /// Time the training loop waited for the first batch with prefetch (nothing to overlap it with).
        public let firstWaitWithPrefetch: Double
        /// Time the training loop waited for all later batches with prefetch.
        public let laterWaitWithPrefetch: Double
    }

    /// Runs `count` training batches (spanning epochs as needed) through a loop whose model step is a
    /// stand-in that sleeps `computeSeconds` per batch, once preparing each batch in the loop and once
    /// with prefetch on a background thread.
    public static func comparePrefetch(_ batches: CIFARBatches, count: Int, computeSeconds: Double) -> PrefetchComparison {
        let epochs = 0..<((count + batches.batchCount - 1) / max(batches.batchCount, 1))
        var preparation = 0.0
        let inline = batches.epochs(epochs, prefetch: false)
        let startInline = now()
        for _ in 0..<count {
            let before = now()
            _ = inline.next()
            preparation += now() - before
            Thread.sleep(forTimeInterval: computeSeconds)
        }
        let totalInline = now() - startInline

        let startPrefetch = now()
        let prefetcher = batches.epochs(epochs, prefetch: true, depth: 2)
        var firstWait = 0.0
        for step in 0..<count {
            _ = prefetcher.next()
            if step == 0 { firstWait = prefetcher.waitSeconds }
            Thread.sleep(forTimeInterval: computeSeconds)
        }
        let totalPrefetch = now() - startPrefetch
        return PrefetchComparison(batches: count, computeSeconds: computeSeconds,
                                  preparationSeconds: preparation / Double(max(count, 1)),
                                  totalWithoutPrefetch: totalInline, totalWithPrefetch: totalPrefetch,
                                  firstWaitWithPrefetch: firstWait,
                                  laterWaitWithPrefetch: prefetcher.waitSeconds - firstWait)
    }

    static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) * 1e-9 }
}

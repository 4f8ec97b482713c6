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
        /// Time the training loop waited for data with prefetch.
        public let waitWithPrefetch: Double
    }

    /// Runs `count` batches of epoch 0 through a training-loop stand-in that sleeps `computeSeconds`
    /// per batch (the model's step), once preparing each batch in the loop and once with prefetch.
    public static func comparePrefetch(_ batches: CIFARBatches, count: Int, computeSeconds: Double) -> PrefetchComparison {
        let count = min(count, batches.batchCount)
        var preparation = 0.0
        let order = batches.order(epoch: 0)
        let startInline = now()
        for index in 0..<count {
            let before = now()
            _ = batches.batch(epoch: 0, index: index, order: order)
            preparation += now() - before
            Thread.sleep(forTimeInterval: computeSeconds)
        }
        let totalInline = now() - startInline

        let startPrefetch = now()
        let prefetcher = batches.epoch(0, prefetch: true, depth: 2)
        for _ in 0..<count {
            _ = prefetcher.next()
            Thread.sleep(forTimeInterval: computeSeconds)
        }
        let totalPrefetch = now() - startPrefetch
        return PrefetchComparison(batches: count, computeSeconds: computeSeconds,
                                  preparationSeconds: preparation / Double(max(count, 1)),
                                  totalWithoutPrefetch: totalInline, totalWithPrefetch: totalPrefetch,
                                  waitWithPrefetch: prefetcher.waitSeconds)
    }

    static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) * 1e-9 }
}

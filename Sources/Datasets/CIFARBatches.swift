import Engine

/// One mini-batch of images: `images` is `[n, 3, 32, 32]` normalised Float32, `labels` has n entries.
public struct ImageBatch {
    public let images: Tensor
    public let labels: [Int32]
    /// Record indices of the batch in the data set.
    public let indices: [Int]
    public let epoch: Int
    /// Position of the batch in its epoch.
    public let index: Int
}

/// How a CIFAR split is cut into batches.
///
/// Training batches (`training: true`) come from a fresh shuffle every epoch, drawn from
/// `RandomGenerator(seed:).fork("shuffle").fork(epoch)`, and are augmented with crops and flips
/// drawn from `fork("augment").fork(epoch).fork(batch)`; so any epoch, and any batch of it, can be
/// made again on resume. Evaluation batches cover every image once, in file order, untouched apart
/// from normalisation. The last partial batch is kept.
public struct CIFARBatches {
    public let dataset: CIFARDataset
    public let batchSize: Int
    public let seed: UInt64
    public let training: Bool
    public let normalization: CIFARNormalization
    private let table: [Float]

    public init(dataset: CIFARDataset, batchSize: Int, training: Bool, seed: UInt64,
                normalization: CIFARNormalization? = nil) throws {
        guard batchSize >= 1 else {
            throw DatasetError.invalidArgument(
                "batch size must be at least 1, got \(batchSize); fix \"batchSize\" in the config.")
        }
        self.dataset = dataset
        self.batchSize = batchSize
        self.training = training
        self.seed = seed
        self.normalization = normalization ?? dataset.variant.defaultNormalization
        self.table = self.normalization.lookupTable()
    }

    /// Batches per epoch, counting the last partial one.
    public var batchCount: Int { (dataset.count + batchSize - 1) / batchSize }

    /// The record order of an epoch: a permutation for training, `0..<count` for evaluation.
    public func order(epoch: Int) -> [Int] {
        guard training else { return Array(0..<dataset.count) }
        var generator = RandomGenerator(seed: seed).fork("shuffle").fork(epoch)
        return generator.permutation(dataset.count)
    }

    /// The crops and flips of batch `index` of `epoch` (one per image).
    public func augmentations(epoch: Int, batch index: Int, count: Int) -> [CropAndFlip] {
        var generator = RandomGenerator(seed: seed).fork("augment").fork(epoch).fork(index)
        return (0..<count).map { _ in CropAndFlip.random(&generator) }
    }

    /// The records in batch `index` of an epoch whose record order is `order`.
    public func indices(index: Int, order: [Int]) -> [Int] {
        let start = index * batchSize
        return Array(order[start..<min(order.count, start + batchSize)])
    }

    /// Batch `index` of an epoch whose record order is `order` (from `order(epoch:)`).
    public func batch(epoch: Int, index: Int, order: [Int]) -> ImageBatch {
        let indices = self.indices(index: index, order: order)
        let images = Tensor(uninitializedShape: [indices.count, CIFARImage.channels, CIFARImage.side, CIFARImage.side])
        let crops = training ? augmentations(epoch: epoch, batch: index, count: indices.count) : []
        var cropped = [UInt8](repeating: 0, count: CIFARImage.pixelCount)
        dataset.records.pixels.withUnsafeBufferPointer { pixels in
            table.withUnsafeBufferPointer { table in
                cropped.withUnsafeMutableBufferPointer { cropped in
                    for (n, record) in indices.enumerated() {
                        let source = pixels.baseAddress! + record * CIFARImage.pixelCount
                        let target = images.data + n * CIFARImage.pixelCount
                        if training {
                            crops[n].apply(source, into: cropped.baseAddress!)
                            normalizeImage(cropped.baseAddress!, table: table.baseAddress!, into: target)
                        } else {
                            normalizeImage(source, table: table.baseAddress!, into: target)
                        }
                    }
                }
            }
        }
        return ImageBatch(images: images, labels: indices.map { dataset.records.labels[$0] }, indices: indices,
                          epoch: epoch, index: index)
    }

    /// The batches of one epoch, prepared ahead on a background thread (or in the caller's thread
    /// with `prefetch: false`).
    public func epoch(_ epoch: Int, prefetch: Bool = true, depth: Int = 2) -> Prefetcher<ImageBatch> {
        epochs(epoch..<(epoch + 1), prefetch: prefetch, depth: depth)
    }

    /// The batches of several consecutive epochs as one stream, so that preparation of the next
    /// epoch's first batches overlaps the end of the current one (and any evaluation in between).
    public func epochs(_ epochs: Range<Int>, prefetch: Bool = true, depth: Int = 2) -> Prefetcher<ImageBatch> {
        let plan = self, perEpoch = batchCount
        var cachedOrder: (epoch: Int, order: [Int])? = nil
        return Prefetcher(count: perEpoch * epochs.count, depth: depth, background: prefetch) { position in
            let epoch = epochs.lowerBound + position / perEpoch
            if cachedOrder?.epoch != epoch { cachedOrder = (epoch, plan.order(epoch: epoch)) }
            return plan.batch(epoch: epoch, index: position % perEpoch, order: cachedOrder!.order)
        }
    }
}

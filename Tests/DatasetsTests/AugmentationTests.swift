import Datasets
import Engine
import XCTest

final class AugmentationTests: XCTestCase {
    /// A small in-memory data set with varied pixels.
    func makeDataset(count: Int) -> CIFARDataset {
        var generator = RandomGenerator(seed: 99)
        let pixels = (0..<(count * 3072)).map { _ in UInt8(generator.nextInt(below: 256)) }
        let labels = (0..<count).map { Int32($0 % 10) }
        return CIFARDataset(variant: .cifar10, split: .train, records: CIFARRecords(pixels: pixels, labels: labels))
    }

    /// The crop written the slow way: build the 40×40 zero-padded image, cut, then flip.
    func referenceCrop(_ image: [UInt8], _ crop: CropAndFlip) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 3072)
        for c in 0..<3 {
            var padded = [[UInt8]](repeating: [UInt8](repeating: 0, count: 40), count: 40)
            for y in 0..<32 { for x in 0..<32 { padded[y + 4][x + 4] = image[c * 1024 + y * 32 + x] } }
            for y in 0..<32 {
                for x in 0..<32 {
                    let cropX = crop.flip ? 31 - x : x
                    out[c * 1024 + y * 32 + x] = padded[crop.offsetY + y][crop.offsetX + cropX]
                }
            }
        }
        return out
    }

    func testEveryCropAndFlipMatchesThePaddedReference() {
        let image = makeDataset(count: 1).records.pixels
        var out = [UInt8](repeating: 7, count: 3072)
        for y in 0...8 {
            for x in 0...8 {
                for flip in [false, true] {
                    let crop = CropAndFlip(offsetY: y, offsetX: x, flip: flip)
                    image.withUnsafeBufferPointer { source in
                        out.withUnsafeMutableBufferPointer { crop.apply(source.baseAddress!, into: $0.baseAddress!) }
                    }
                    XCTAssertEqual(out, referenceCrop(image, crop), "offset (\(y), \(x)) flip \(flip)")
                }
            }
        }
    }

    func testPaddingIsZero() {
        let white = [UInt8](repeating: 255, count: 3072)
        var out = [UInt8](repeating: 7, count: 3072)
        let crop = CropAndFlip(offsetY: 0, offsetX: 8, flip: false)  // 4 padded rows on top, 4 padded columns on the right
        white.withUnsafeBufferPointer { source in
            out.withUnsafeMutableBufferPointer { crop.apply(source.baseAddress!, into: $0.baseAddress!) }
        }
        for c in 0..<3 {
            for y in 0..<32 {
                for x in 0..<32 {
                    let padded = y < 4 || x >= 28
                    XCTAssertEqual(out[c * 1024 + y * 32 + x], padded ? 0 : 255, "channel \(c) (\(y), \(x))")
                }
            }
        }
        // After normalisation a padded pixel is black: (0 - mean) / std.
        let dataset = CIFARDataset(variant: .cifar10, split: .train,
                                   records: CIFARRecords(pixels: white, labels: [1]))
        let batches = try! CIFARBatches(dataset: dataset, batchSize: 1, training: true, seed: 5)
        let batch = batches.batch(epoch: 0, index: 0, order: [0])
        let crop0 = batches.augmentations(epoch: 0, batch: 0, count: 1)[0]
        let values = batch.images.array
        let mean: [Float] = [0.4914, 0.4822, 0.4465], std: [Float] = [0.2023, 0.1994, 0.2010]
        var padded = 0
        for c in 0..<3 {
            for y in 0..<32 {
                for x in 0..<32 {
                    let cropX = crop0.flip ? 31 - x : x
                    let sourceY = y + crop0.offsetY - 4, sourceX = cropX + crop0.offsetX - 4
                    let inside = (0..<32).contains(sourceY) && (0..<32).contains(sourceX)
                    let expected = inside ? (1 - mean[c]) / std[c] : -mean[c] / std[c]
                    if !inside { padded += 1 }
                    XCTAssertEqual(values[c * 1024 + y * 32 + x], expected, accuracy: 1e-5)
                }
            }
        }
        XCTAssertEqual(padded, 3 * (1024 - (32 - abs(crop0.offsetY - 4)) * (32 - abs(crop0.offsetX - 4))))
    }

    func testCropsAndFlipsAreReproducibleFromTheSeed() throws {
        let dataset = makeDataset(count: 300)
        let a = try CIFARBatches(dataset: dataset, batchSize: 64, training: true, seed: 17)
        let b = try CIFARBatches(dataset: dataset, batchSize: 64, training: true, seed: 17)
        let other = try CIFARBatches(dataset: dataset, batchSize: 64, training: true, seed: 18)
        XCTAssertEqual(a.augmentations(epoch: 3, batch: 2, count: 64), b.augmentations(epoch: 3, batch: 2, count: 64))
        XCTAssertNotEqual(a.augmentations(epoch: 3, batch: 2, count: 64), a.augmentations(epoch: 4, batch: 2, count: 64))
        XCTAssertNotEqual(a.augmentations(epoch: 3, batch: 2, count: 64), other.augmentations(epoch: 3, batch: 2, count: 64))
        // The draws are the documented ones: row offset, column offset, then the flip, from fork("augment").fork(epoch).fork(batch).
        var generator = RandomGenerator(seed: 17).fork("augment").fork(3).fork(2)
        let expected = (0..<64).map { _ in
            CropAndFlip(offsetY: generator.nextInt(below: 9), offsetX: generator.nextInt(below: 9), flip: generator.bernoulli(0.5))
        }
        XCTAssertEqual(a.augmentations(epoch: 3, batch: 2, count: 64), expected)
        // Offsets cover 0...8 evenly and half the images are flipped.
        let many = a.augmentations(epoch: 0, batch: 0, count: 9_000)
        for value in 0...8 {
            XCTAssertEqual(Double(many.filter { $0.offsetY == value }.count), 1000, accuracy: 120)
            XCTAssertEqual(Double(many.filter { $0.offsetX == value }.count), 1000, accuracy: 120)
        }
        XCTAssertEqual(Double(many.filter(\.flip).count), 4500, accuracy: 200)
        // Whole batches are bit-identical when made again, e.g. after a resume.
        let first = a.batch(epoch: 3, index: 2, order: a.order(epoch: 3))
        let again = b.batch(epoch: 3, index: 2, order: b.order(epoch: 3))
        XCTAssertEqual(first.images.array, again.images.array)
        XCTAssertEqual(first.labels, again.labels)
    }

    func testTrainingOrderIsReshuffledEveryEpochAndKeepsTheLastPartialBatch() throws {
        let dataset = makeDataset(count: 300)
        let batches = try CIFARBatches(dataset: dataset, batchSize: 64, training: true, seed: 1)
        XCTAssertEqual(batches.batchCount, 5)
        let epoch0 = batches.order(epoch: 0), epoch1 = batches.order(epoch: 1)
        XCTAssertEqual(epoch0.sorted(), Array(0..<300))
        XCTAssertNotEqual(epoch0, epoch1)
        XCTAssertEqual(epoch0, batches.order(epoch: 0))
        let sizes = Array(batches.epoch(1)).map { $0.labels.count }
        XCTAssertEqual(sizes, [64, 64, 64, 64, 44])
        let seen = Array(batches.epoch(1)).flatMap(\.indices)
        XCTAssertEqual(seen, epoch1)
        assertThrowsMessage(try CIFARBatches(dataset: dataset, batchSize: 0, training: true, seed: 1),
                            contains: ["batch size must be at least 1, got 0"])
    }

    func testEvaluationCoversEveryImageOnceUntouchedApartFromNormalisation() throws {
        let dataset = makeDataset(count: 130)
        let batches = try CIFARBatches(dataset: dataset, batchSize: 50, training: false, seed: 1)
        let all = Array(batches.epoch(0))
        XCTAssertEqual(all.map { $0.labels.count }, [50, 50, 30])
        XCTAssertEqual(all.flatMap(\.indices), Array(0..<130))
        XCTAssertEqual(all.flatMap(\.labels), dataset.labels)
        let plain = dataset.images(at: Array(0..<130), normalization: .cifar10).array
        XCTAssertEqual(all.flatMap { $0.images.array }, plain)
        // And `images(at:)` is exactly (byte / 255 - mean) / std.
        let pixel = dataset.records.pixels[1024 + 5]
        XCTAssertEqual(plain[1024 + 5], (Float(pixel) / 255 - 0.4822) / 0.1994, accuracy: 1e-6)
        // Another epoch gives the same evaluation batches.
        XCTAssertEqual(Array(batches.epoch(7)).flatMap { $0.images.array }, plain)
    }

    func testPrefetchedBatchesEqualBatchesMadeOnDemand() throws {
        let dataset = makeDataset(count: 200)
        let batches = try CIFARBatches(dataset: dataset, batchSize: 32, training: true, seed: 3)
        let prefetched = Array(batches.epoch(2, prefetch: true)).map { $0.images.array }
        let inline = Array(batches.epoch(2, prefetch: false)).map { $0.images.array }
        XCTAssertEqual(prefetched, inline)
        // A stream over several epochs is the epochs one after the other, each batch tagged with its place.
        let spanning = Array(batches.epochs(1..<4))
        XCTAssertEqual(spanning.map { $0.images.array },
                       (1..<4).flatMap { Array(batches.epoch($0, prefetch: false)).map { $0.images.array } })
        XCTAssertEqual(spanning.map(\.epoch), [1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3])
        XCTAssertEqual(spanning.prefix(7).map(\.index), Array(0..<7))
        // Stopping early ends the background thread without hanging.
        let iterator = batches.epoch(2, prefetch: true, depth: 1)
        XCTAssertNotNil(iterator.next())
    }
}

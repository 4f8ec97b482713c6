import Engine
import Foundation

/// The two CIFAR data sets in their binary version.
public enum CIFARVariant: String, CaseIterable, Codable, Sendable {
    case cifar10
    case cifar100

    /// The name used in messages.
    public var displayName: String { self == .cifar10 ? "CIFAR-10" : "CIFAR-100" }

    /// Label bytes at the start of each record: 1 (CIFAR-10) or 2 (CIFAR-100: coarse, fine).
    public var labelBytes: Int { self == .cifar10 ? 1 : 2 }

    /// Bytes per record: the labels, then 1,024 red, 1,024 green and 1,024 blue bytes.
    public var recordSize: Int { labelBytes + CIFARImage.pixelCount }

    /// The folder the official archive unpacks into.
    public var directoryName: String { self == .cifar10 ? "cifar-10-batches-bin" : "cifar-100-binary" }

    /// The files of a split, in reading order.
    public func files(_ split: CIFARSplit) -> [String] {
        switch (self, split) {
        case (.cifar10, .train): return (1...5).map { "data_batch_\($0).bin" }
        case (.cifar10, .test): return ["test_batch.bin"]
        case (.cifar100, .train): return ["train.bin"]
        case (.cifar100, .test): return ["test.bin"]
        }
    }

    /// Every file of the data set (training files first).
    public var allFiles: [String] { files(.train) + files(.test) }

    public func classCount(_ labelKind: CIFARLabelKind) -> Int {
        switch (self, labelKind) {
        case (.cifar10, _): return 10
        case (.cifar100, .fine): return 100
        case (.cifar100, .coarse): return 20
        }
    }

    /// The normalisation of the paper's code for this data set.
    public var defaultNormalization: CIFARNormalization { self == .cifar10 ? .cifar10 : .cifar100 }
}

public enum CIFARSplit: String, CaseIterable, Codable, Sendable {
    case train
    case test
}

/// Which label of a CIFAR-100 record to use (CIFAR-10 has only one).
public enum CIFARLabelKind: String, CaseIterable, Codable, Sendable {
    case fine
    case coarse
}

/// Image geometry shared by both CIFAR sets.
public enum CIFARImage {
    public static let channels = 3
    public static let side = 32
    public static let planeSize = side * side
    public static let pixelCount = channels * planeSize
}

/// Per-channel mean and standard deviation applied as `(pixel / 255 - mean) / std`.
public struct CIFARNormalization: Codable, Equatable, Sendable {
    public let mean: [Float]
    public let std: [Float]

    /// Mean and std of the paper's code for CIFAR-10.
    public static let cifar10 = CIFARNormalization(unchecked: [0.4914, 0.4822, 0.4465], [0.2023, 0.1994, 0.2010])
    /// Mean and std of the paper's code for CIFAR-100.
    public static let cifar100 = CIFARNormalization(unchecked: [0.5071, 0.4865, 0.4409], [0.2673, 0.2564, 0.2762])
    /// The identity on `pixel / 255` (mean 0, std 1), for inspecting raw values.
    public static let unitScale = CIFARNormalization(unchecked: [0, 0, 0], [1, 1, 1])

    /// Checks that there are three finite means and three positive finite standard deviations.
    public init(mean: [Float], std: [Float]) throws {
        guard mean.count == 3, std.count == 3 else {
            throw DatasetError.invalidArgument(
                "normalisation needs 3 means and 3 standard deviations (red, green, blue), got \(mean.count) and "
                    + "\(std.count); fix \"mean\"/\"std\" in the dataset config.")
        }
        guard mean.allSatisfy({ $0.isFinite }), std.allSatisfy({ $0.isFinite && $0 > 0 }) else {
            throw DatasetError.invalidArgument(
                "normalisation std must be positive and finite and mean finite, got mean \(mean) std \(std); "
                    + "fix \"mean\"/\"std\" in the dataset config.")
        }
        self.mean = mean
        self.std = std
    }

    private init(unchecked mean: [Float], _ std: [Float]) {
        self.mean = mean
        self.std = std
    }

    /// 3 × 256 values: the normalised value of every byte in every channel.
    public func lookupTable() -> [Float] {
        var table = [Float](repeating: 0, count: 3 * 256)
        for c in 0..<3 {
            for byte in 0..<256 { table[c * 256 + byte] = (Float(byte) / 255 - mean[c]) / std[c] }
        }
        return table
    }
}

/// Labels and pixels of CIFAR records as stored on disk.
public struct CIFARRecords: Sendable {
    /// `count × 3 × 32 × 32` bytes: for each image the red, green and blue planes, each row-major.
    public var pixels: [UInt8]
    /// One label per record (fine or coarse for CIFAR-100).
    public var labels: [Int32]

    public var count: Int { labels.count }

    public init(pixels: [UInt8], labels: [Int32]) {
        precondition(pixels.count == labels.count * CIFARImage.pixelCount, "CIFARRecords: pixels and labels disagree")
        self.pixels = pixels
        self.labels = labels
    }
}

/// Reads the CIFAR binary format: fixed-size records of label byte(s) then 3,072 pixel bytes.
public enum CIFARBinaryReader {
    /// The number of records in `path`, from its size.
    public static func recordCount(path: String, variant: CIFARVariant) throws -> Int {
        guard DataFiles.exists(path) else {
            throw DatasetError.filesMissing(
                dataset: variant.displayName, directory: URL(fileURLWithPath: path).deletingLastPathComponent().path,
                missing: [URL(fileURLWithPath: path).lastPathComponent], expectedFiles: variant.allFiles)
        }
        let size = try DataFiles.size(of: path)
        guard size % variant.recordSize == 0 else {
            throw DatasetError.badFileSize(path: path, size: size, recordSize: variant.recordSize)
        }
        return size / variant.recordSize
    }

    /// Reads the first `limit` records of `path` (all when nil), checking every label.
    public static func read(path: String, variant: CIFARVariant, labelKind: CIFARLabelKind = .fine,
                            limit: Int? = nil) throws -> CIFARRecords {
        let available = try recordCount(path: path, variant: variant)
        let count = min(available, max(0, limit ?? available))
        let data = try DataFiles.read(path, count: count * variant.recordSize)
        guard data.count == count * variant.recordSize else {
            throw DatasetError.unreadable(
                path: path, reason: "expected \(count * variant.recordSize) bytes, read \(data.count)")
        }
        var pixels = [UInt8](repeating: 0, count: count * CIFARImage.pixelCount)
        var labels = [Int32](repeating: 0, count: count)
        try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            let bytes = raw.bindMemory(to: UInt8.self)
            try pixels.withUnsafeMutableBufferPointer { out in
                for r in 0..<count {
                    let record = r * variant.recordSize
                    labels[r] = try checkedLabel(bytes, record: r, offset: record, variant: variant,
                                                 labelKind: labelKind, path: path)
                    let source = UnsafeRawBufferPointer(rebasing: raw[(record + variant.labelBytes)..<(record + variant.recordSize)])
                    UnsafeMutableRawBufferPointer(rebasing: UnsafeMutableRawBufferPointer(out)[
                        (r * CIFARImage.pixelCount)..<((r + 1) * CIFARImage.pixelCount)]).copyMemory(from: source)
                }
            }
        }
        return CIFARRecords(pixels: pixels, labels: labels)
    }

    /// The requested label of a record; every label byte of the record is range-checked.
    private static func checkedLabel(_ bytes: UnsafeBufferPointer<UInt8>, record: Int, offset: Int,
                                     variant: CIFARVariant, labelKind: CIFARLabelKind, path: String) throws -> Int32 {
        switch variant {
        case .cifar10:
            let label = Int(bytes[offset])
            guard label < 10 else {
                throw DatasetError.labelOutOfRange(path: path, record: record, kind: "class", label: label, classCount: 10)
            }
            return Int32(label)
        case .cifar100:
            let coarse = Int(bytes[offset]), fine = Int(bytes[offset + 1])
            guard coarse < 20 else {
                throw DatasetError.labelOutOfRange(path: path, record: record, kind: "coarse", label: coarse, classCount: 20)
            }
            guard fine < 100 else {
                throw DatasetError.labelOutOfRange(path: path, record: record, kind: "fine", label: fine, classCount: 100)
            }
            return Int32(labelKind == .fine ? fine : coarse)
        }
    }
}

/// One split of CIFAR-10 or CIFAR-100 held in memory as bytes; batches are made from it as
/// normalised Float32 NCHW tensors.
public struct CIFARDataset: Sendable {
    public let variant: CIFARVariant
    public let split: CIFARSplit
    public let labelKind: CIFARLabelKind
    public let records: CIFARRecords
    /// Paths of the files read, in order.
    public let filesUsed: [String]
    /// Names of the split's files that were absent (only with `allowPartial`).
    public let filesMissing: [String]

    public var count: Int { records.count }
    public var labels: [Int32] { records.labels }
    public var classCount: Int { variant.classCount(labelKind) }

    /// Loads a split from `directory`, which holds the binary files or the folder the official
    /// archive unpacks into (`cifar-10-batches-bin`, `cifar-100-binary`).
    ///
    /// All files of the data set must be present unless `allowPartial` is set; then the files present
    /// are used and `warn` names the missing ones. Only the files of `split` are read, and with
    /// `limit` only as many records as needed.
    public init(variant: CIFARVariant, split: CIFARSplit, directory: String, labelKind: CIFARLabelKind = .fine,
                allowPartial: Bool = false, limit: Int? = nil, warn: (String) -> Void = printWarning) throws {
        let folder = CIFARDataset.resolveDirectory(directory, variant: variant)
        guard DataFiles.isDirectory(folder) else {
            throw DatasetError.directoryMissing(dataset: variant.displayName, path: directory, expectedFiles: variant.allFiles)
        }
        let missingAll = variant.allFiles.filter { !DataFiles.exists(DataFiles.join(folder, $0)) }
        let present = variant.files(split).filter { !missingAll.contains($0) }
        if !missingAll.isEmpty {
            guard allowPartial, !present.isEmpty else {
                throw DatasetError.filesMissing(dataset: variant.displayName, directory: folder,
                                                missing: allowPartial ? variant.files(split) : missingAll,
                                                expectedFiles: variant.allFiles)
            }
            warn("\(variant.displayName): using only \(present.joined(separator: ", ")) in \(folder); missing "
                 + "\(missingAll.joined(separator: ", ")) (partial data allowed)")
        }
        var pixels: [UInt8] = []
        var labels: [Int32] = []
        var used: [String] = []
        var remaining = limit.map { max(0, $0) }
        for name in present {
            if remaining == 0 { break }
            let path = DataFiles.join(folder, name)
            let part = try CIFARBinaryReader.read(path: path, variant: variant, labelKind: labelKind, limit: remaining)
            pixels += part.pixels
            labels += part.labels
            used.append(path)
            remaining = remaining.map { $0 - part.count }
        }
        self.variant = variant
        self.split = split
        self.labelKind = labelKind
        self.records = CIFARRecords(pixels: pixels, labels: labels)
        self.filesUsed = used
        self.filesMissing = variant.files(split).filter { missingAll.contains($0) }
    }

    /// The training set split in two: the last `count` records held out (the validation split, the same
    /// images for every run and seed) and the records before them.
    public func holdingOut(last count: Int) throws -> (train: CIFARDataset, held: CIFARDataset) {
        guard count > 0, count < records.count else {
            throw DatasetError.invalidArgument("dataset.validation \(count) must be at least 1 and less than the \(records.count) training images at hand")
        }
        let keep = records.count - count, bytes = CIFARImage.pixelCount
        let first = CIFARRecords(pixels: Array(records.pixels[0 ..< keep * bytes]), labels: Array(records.labels[0 ..< keep]))
        let last = CIFARRecords(pixels: Array(records.pixels[keep * bytes ..< records.count * bytes]), labels: Array(records.labels[keep...]))
        return (CIFARDataset(variant: variant, split: split, records: first, labelKind: labelKind),
                CIFARDataset(variant: variant, split: split, records: last, labelKind: labelKind))
    }

    /// A data set over records already in memory (synthetic data, tests).
    public init(variant: CIFARVariant, split: CIFARSplit, records: CIFARRecords, labelKind: CIFARLabelKind = .fine) {
        self.variant = variant
        self.split = split
        self.labelKind = labelKind
        self.records = records
        self.filesUsed = []
        self.filesMissing = []
    }

    /// `directory/cifar-10-batches-bin` (or `cifar-100-binary`) when that folder exists, else `directory`.
    public static func resolveDirectory(_ directory: String, variant: CIFARVariant) -> String {
        let nested = DataFiles.join(directory, variant.directoryName)
        return DataFiles.isDirectory(nested) ? nested : directory
    }

    /// Images `indices` as a normalised `[n, 3, 32, 32]` tensor, without augmentation.
    public func images(at indices: [Int], normalization: CIFARNormalization) -> Tensor {
        let out = Tensor(uninitializedShape: [indices.count, CIFARImage.channels, CIFARImage.side, CIFARImage.side])
        let table = normalization.lookupTable()
        records.pixels.withUnsafeBufferPointer { pixels in
            table.withUnsafeBufferPointer { table in
                for (n, index) in indices.enumerated() {
                    normalizeImage(pixels.baseAddress! + index * CIFARImage.pixelCount, table: table.baseAddress!,
                                   into: out.data + n * CIFARImage.pixelCount)
                }
            }
        }
        return out
    }

    /// The first `n` images (or fewer when the split is smaller) as a normalised tensor.
    public func firstImages(_ n: Int, normalization: CIFARNormalization) -> Tensor {
        images(at: Array(0..<min(max(n, 0), count)), normalization: normalization)
    }

    public func labels(at indices: [Int]) -> [Int32] { indices.map { records.labels[$0] } }

    /// Number of records of each class.
    public func labelHistogram() -> [Int] {
        var histogram = [Int](repeating: 0, count: classCount)
        for label in records.labels { histogram[Int(label)] += 1 }
        return histogram
    }

    /// Mean and standard deviation of each channel over all pixels, on the 0...1 scale.
    public func channelStatistics() -> (mean: [Double], std: [Double]) {
        var sums = [Double](repeating: 0, count: 3), squares = [Double](repeating: 0, count: 3)
        records.pixels.withUnsafeBufferPointer { pixels in
            for image in 0..<count {
                for c in 0..<3 {
                    var sum = 0, square = 0
                    let plane = pixels.baseAddress! + image * CIFARImage.pixelCount + c * CIFARImage.planeSize
                    for i in 0..<CIFARImage.planeSize {
                        let v = Int(plane[i])
                        sum += v
                        square += v * v
                    }
                    sums[c] += Double(sum)
                    squares[c] += Double(square)
                }
            }
        }
        let n = Double(max(count, 1) * CIFARImage.planeSize)
        let mean = sums.map { $0 / n / 255 }
        let std = (0..<3).map { c in (max(0, squares[c] / n / 65025 - mean[c] * mean[c])).squareRoot() }
        return (mean, std)
    }
}

/// Writes one image's normalised values: `out[c, y, x] = table[c][pixel[c, y, x]]`.
@inline(__always)
func normalizeImage(_ pixels: UnsafePointer<UInt8>, table: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>) {
    for c in 0..<CIFARImage.channels {
        let channelTable = table + c * 256
        let base = c * CIFARImage.planeSize
        for i in 0..<CIFARImage.planeSize { out[base + i] = channelTable[Int(pixels[base + i])] }
    }
}

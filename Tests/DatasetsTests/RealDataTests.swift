import Datasets
import Engine
import XCTest

/// Facts of the real data files, wherever `RealData` finds them: the full downloads or the project's
/// copies, which hold byte-exact prefixes of the official CIFAR-10 files (the first 4,000 training and
/// 1,000 test records). The CIFAR-10 facts are therefore stated for those prefixes, read with `limit`.
final class RealDataTests: XCTestCase {
    func testPTBTokenCountsAndVocabulary() throws {
        guard let directory = realDataPath("ptb") else { return }
        let corpus = try PTBCorpus(directory: directory)
        XCTAssertEqual(corpus.train.count, 929_589)
        XCTAssertEqual(corpus.valid.count, 73_760)
        XCTAssertEqual(corpus.test.count, 82_430)
        XCTAssertEqual(corpus.vocabulary.count, 10_000)
        XCTAssertEqual(corpus.lineCounts[.train], 42_068)
        XCTAssertEqual(corpus.lineCounts[.valid], 3_370)
        XCTAssertEqual(corpus.lineCounts[.test], 3_761)
        // Vocabulary in order of first appearance: the file begins " aer banknote berlitz calloway centrust".
        XCTAssertEqual(Array(corpus.vocabulary.words.prefix(5)), ["aer", "banknote", "berlitz", "calloway", "centrust"])
        XCTAssertEqual(Array(corpus.train.prefix(5)), [0, 1, 2, 3, 4])
        XCTAssertEqual(corpus.vocabulary.id(of: PTBCorpus.endOfSentence).map { corpus.vocabulary.words[Int($0)] }, "<eos>")
        // One <eos> per line.
        let eos = corpus.vocabulary.id(of: "<eos>")!
        XCTAssertEqual(corpus.train.filter { $0 == eos }.count, 42_068)
    }

    func testPTBFirstWindows() throws {
        guard let directory = realDataPath("ptb") else { return }
        let corpus = try PTBCorpus(directory: directory)
        let stream = try PTBBatchedStream(tokens: corpus.train, batch: 20)
        XCTAssertEqual(stream.steps, 929_589 / 20)
        let windows = try stream.windows(bptt: 35)
        XCTAssertEqual(windows.count, (stream.steps - 1 + 34) / 35)
        XCTAssertEqual(windows[0].input[0..<1], [0])  // "aer" starts stream 0
        XCTAssertEqual(windows[0].input[20], 1)  // "banknote" is token 1 of stream 0
        XCTAssertEqual(windows[0].target[0], 1)
    }

    /// The training files of `directory` that are absent (none with the full download).
    private func absentTrainingFiles(_ directory: String) -> [String] {
        ["data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"]
            .filter { !FileManager.default.fileExists(atPath: directory + "/" + $0) }
    }

    func testCIFAR10TrainingSubset() throws {
        guard let directory = realDataPath("cifar-10-batches-bin") else { return }
        var warnings: [String] = []
        let train = try CIFARDataset(variant: .cifar10, split: .train, directory: directory, allowPartial: true,
                                     limit: 4_000, warn: { warnings.append($0) })
        XCTAssertEqual(train.count, 4_000)
        XCTAssertEqual(train.filesUsed.map { URL(fileURLWithPath: $0).lastPathComponent }, ["data_batch_1.bin"])
        let absent = absentTrainingFiles(directory)
        XCTAssertEqual(train.filesMissing, absent)
        XCTAssertEqual(warnings.count, absent.isEmpty ? 0 : 1)
        if !absent.isEmpty {
            XCTAssertTrue(warnings[0].contains("missing " + absent.joined(separator: ", ")), warnings[0])
        }
        XCTAssertEqual(Array(train.labels.prefix(10)), [6, 9, 9, 4, 1, 1, 2, 7, 8, 3])
        let first = train.firstImages(1, normalization: .unitScale)
        XCTAssertEqual(first.shape, [1, 3, 32, 32])
        XCTAssertEqual(first[0] * 255, 59, accuracy: 1e-3)
        XCTAssertEqual(first[1024] * 255, 62, accuracy: 1e-3)
        XCTAssertEqual(first[2048] * 255, 63, accuracy: 1e-3)
        XCTAssertEqual(train.labelHistogram(), [396, 366, 420, 384, 422, 393, 414, 385, 407, 413])
        let (mean, std) = train.channelStatistics()
        for (value, expected) in zip(mean, [0.4916, 0.4818, 0.4447]) { XCTAssertEqual(value, expected, accuracy: 6e-5) }
        for (value, expected) in zip(std, [0.2471, 0.2440, 0.2625]) { XCTAssertEqual(value, expected, accuracy: 6e-5) }
    }

    func testCIFAR10TestSubsetAndNormalisation() throws {
        guard let directory = realDataPath("cifar-10-batches-bin") else { return }
        let test = try CIFARDataset(variant: .cifar10, split: .test, directory: directory, allowPartial: true, limit: 1_000,
                                    warn: { _ in })
        XCTAssertEqual(test.count, 1_000)
        XCTAssertEqual(Array(test.labels.prefix(10)), [3, 8, 8, 0, 6, 6, 1, 6, 3, 1])
        XCTAssertEqual(test.labelHistogram(), [103, 89, 100, 103, 90, 86, 112, 102, 106, 109])
        let image = test.images(at: [0], normalization: .cifar10)
        XCTAssertEqual(image[0], (158 / 255 - 0.4914) / 0.2023, accuracy: 1e-5)
        XCTAssertEqual(image[1024], (112 / 255 - 0.4822) / 0.1994, accuracy: 1e-5)
        XCTAssertEqual(image[2048], (49 / 255 - 0.4465) / 0.2010, accuracy: 1e-5)
    }

    func testCIFAR10FirstImagesReadOnlyWhatIsAsked() throws {
        guard let directory = realDataPath("cifar-10-batches-bin") else { return }
        let subset = try CIFARDataset(variant: .cifar10, split: .train, directory: directory, allowPartial: true,
                                      limit: 16, warn: { _ in })
        XCTAssertEqual(subset.count, 16)
        XCTAssertEqual(Array(subset.labels.prefix(10)), [6, 9, 9, 4, 1, 1, 2, 7, 8, 3])
        // The parent folder works too: the reader finds cifar-10-batches-bin inside it.
        let parent = URL(fileURLWithPath: directory).deletingLastPathComponent().path
        let viaParent = try CIFARDataset(variant: .cifar10, split: .test, directory: parent,
                                         allowPartial: true, limit: 3, warn: { _ in })
        XCTAssertEqual(viaParent.labels, [3, 8, 8])
    }

    func testCIFAR100SampleWithBothLabelKinds() throws {
        // The project's copy holds 100 real records (sample100.bin); a download holds test.bin.
        guard let folder = realDataPath("cifar-100-binary") else { return }
        let path = ["sample100.bin", "test.bin"].map { folder + "/" + $0 }.first { FileManager.default.fileExists(atPath: $0) }
        guard let path else { return XCTFail("\(folder) holds neither sample100.bin nor test.bin") }
        let records = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) / 3_074
        let fine = try CIFARBinaryReader.read(path: path, variant: .cifar100, labelKind: .fine)
        let coarse = try CIFARBinaryReader.read(path: path, variant: .cifar100, labelKind: .coarse)
        XCTAssertEqual(fine.count, records)
        XCTAssertEqual(coarse.count, records)
        XCTAssertEqual(fine.pixels, coarse.pixels)
        XCTAssertTrue(fine.labels.allSatisfy { (0..<100).contains($0) })
        XCTAssertTrue(coarse.labels.allSatisfy { (0..<20).contains($0) })
        XCTAssertNotEqual(fine.labels, coarse.labels)
        // Each fine class belongs to exactly one coarse superclass.
        var superclass: [Int32: Int32] = [:]
        for (f, c) in zip(fine.labels, coarse.labels) {
            if let known = superclass[f] { XCTAssertEqual(known, c, "fine class \(f) in two superclasses") }
            superclass[f] = c
        }
        // The raw bytes agree with the file: record 0 begins with its two labels, then red pixel 0.
        let bytes = [UInt8](FileManager.default.contents(atPath: path)!.prefix(3))
        XCTAssertEqual(coarse.labels[0], Int32(bytes[0]))
        XCTAssertEqual(fine.labels[0], Int32(bytes[1]))
        XCTAssertEqual(fine.pixels[0], bytes[2])
    }
}

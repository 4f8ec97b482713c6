import Datasets
import Engine
import TestSupport
import XCTest

final class SyntheticAndStatsTests: XCTestCase {
    func testSyntheticCIFAR10IsInTheRealFormatAndDeterministic() throws {
        let a = makeTemporaryDirectory(self), b = makeTemporaryDirectory(self)
        let written = try SyntheticData.writeCIFAR(variant: .cifar10, train: 203, test: 50, seed: 9, directory: a)
        try SyntheticData.writeCIFAR(variant: .cifar10, train: 203, test: 50, seed: 9, directory: b)
        XCTAssertEqual(written.map { URL(fileURLWithPath: $0).lastPathComponent },
                       ["data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin",
                        "test_batch.bin", "batches.meta.txt"])
        for path in written {
            let other = path.replacingOccurrences(of: a, with: b)
            XCTAssertEqual(FileManager.default.contents(atPath: path), FileManager.default.contents(atPath: other), path)
        }
        // Exactly 3,073 bytes a record; no temporary files are left behind.
        let folder = a + "/cifar-10-batches-bin"
        let sizes = try (1...5).map { try CIFARBinaryReader.recordCount(path: folder + "/data_batch_\($0).bin", variant: .cifar10) }
        XCTAssertEqual(sizes.reduce(0, +), 203)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasPrefix(".") }, [])
        let train = try CIFARDataset(variant: .cifar10, split: .train, directory: a)
        let test = try CIFARDataset(variant: .cifar10, split: .test, directory: a)
        XCTAssertEqual(train.count, 203)
        XCTAssertEqual(test.count, 50)
        XCTAssertEqual(test.labelHistogram(), [Int](repeating: 5, count: 10))
        // Another seed gives other images.
        let c = makeTemporaryDirectory(self)
        try SyntheticData.writeCIFAR(variant: .cifar10, train: 203, test: 50, seed: 10, directory: c)
        XCTAssertNotEqual(try CIFARDataset(variant: .cifar10, split: .test, directory: c).records.pixels, test.records.pixels)
    }

    /// The classes are separable: nearest class mean on the three channel averages classifies most test images.
    func testSyntheticCIFAR10ClassesAreLearnable() throws {
        let directory = makeTemporaryDirectory(self)
        try SyntheticData.writeCIFAR(variant: .cifar10, train: 1_000, test: 300, seed: 4, directory: directory)
        let train = try CIFARDataset(variant: .cifar10, split: .train, directory: directory)
        let test = try CIFARDataset(variant: .cifar10, split: .test, directory: directory)
        func features(_ dataset: CIFARDataset, _ i: Int) -> [Double] {
            (0..<3).map { c in
                let start = i * 3072 + c * 1024
                return Double(dataset.records.pixels[start..<(start + 1024)].reduce(0) { $0 + Int($1) }) / 1024
            }
        }
        var centroids = [[Double]](repeating: [0, 0, 0], count: 10), counts = [Double](repeating: 0, count: 10)
        for i in 0..<train.count {
            let label = Int(train.labels[i]), f = features(train, i)
            for c in 0..<3 { centroids[label][c] += f[c] }
            counts[label] += 1
        }
        centroids = centroids.enumerated().map { k, sum in sum.map { $0 / counts[k] } }
        var correct = 0
        for i in 0..<test.count {
            let f = features(test, i)
            let distances = centroids.map { centroid in zip(centroid, f).map { ($0 - $1) * ($0 - $1) }.reduce(0, +) }
            if distances.firstIndex(of: distances.min()!) == Int(test.labels[i]) { correct += 1 }
        }
        XCTAssertGreaterThan(Double(correct) / Double(test.count), 0.8, "nearest-mean accuracy \(correct)/\(test.count)")
    }

    func testSyntheticCIFAR100HasBothLabels() throws {
        let directory = makeTemporaryDirectory(self)
        try SyntheticData.writeCIFAR(variant: .cifar100, train: 400, test: 200, seed: 2, directory: directory)
        let fine = try CIFARDataset(variant: .cifar100, split: .train, directory: directory)
        let coarse = try CIFARDataset(variant: .cifar100, split: .train, directory: directory, labelKind: .coarse)
        XCTAssertEqual(fine.labelHistogram(), [Int](repeating: 4, count: 100))
        XCTAssertEqual(coarse.labelHistogram(), [Int](repeating: 20, count: 20))
        XCTAssertEqual(zip(fine.labels, coarse.labels).filter { $0 / 5 != $1 }.count, 0)
        XCTAssertEqual(try CIFARDataset(variant: .cifar100, split: .test, directory: directory).count, 200)
    }

    func testSyntheticPTBReadsBackAndHasStructure() throws {
        let directory = makeTemporaryDirectory(self)
        try SyntheticData.writePTB(trainLines: 3_000, testLines: 40, seed: 1, vocabularySize: 100, directory: directory)
        let corpus = try PTBCorpus(directory: directory)  // finds directory/ptb
        XCTAssertEqual(corpus.lineCounts[.train], 3_000)
        XCTAssertEqual(corpus.lineCounts[.valid], 40)
        XCTAssertEqual(corpus.lineCounts[.test], 40)
        XCTAssertEqual(corpus.vocabulary.count, 101)  // 100 words + <eos>
        let text = try String(contentsOfFile: directory + "/ptb/ptb.train.txt", encoding: .utf8)
        XCTAssertTrue(text.hasPrefix(" w") && text.hasSuffix(" \n"))
        // Next-word entropy given the word is far below the unigram entropy: a language model can learn it.
        let v = corpus.vocabulary.count
        var unigram = [Double](repeating: 0, count: v), bigram = [Double](repeating: 0, count: v * v)
        for (a, b) in zip(corpus.train, corpus.train.dropFirst()) {
            unigram[Int(b)] += 1
            bigram[Int(a) * v + Int(b)] += 1
        }
        func entropy(_ counts: ArraySlice<Double>) -> Double {
            let total = counts.reduce(0, +)
            return counts.filter { $0 > 0 }.map { -$0 / total * log2($0 / total) }.reduce(0, +)
        }
        let unigramEntropy = entropy(unigram[...])
        var conditional = 0.0
        for a in 0..<v {
            let row = bigram[(a * v)..<((a + 1) * v)]
            conditional += row.reduce(0, +) / Double(corpus.train.count - 1) * entropy(row)
        }
        XCTAssertLessThan(conditional, unigramEntropy - 2, "H(next|word) \(conditional) vs H(next) \(unigramEntropy)")
    }

    func testSyntheticPTBWritesUnknownWordsAsUnk() throws {
        let directory = makeTemporaryDirectory(self)
        // Two training lines cannot hold all 300 words, so validation and test words are mapped to <unk>.
        try SyntheticData.writePTB(trainLines: 2, testLines: 50, seed: 5, vocabularySize: 300, directory: directory)
        let corpus = try PTBCorpus(directory: directory)
        XCTAssertNotNil(corpus.vocabulary.id(of: "<unk>"))
        XCTAssertTrue(corpus.valid.contains(corpus.vocabulary.id(of: "<unk>")!))
    }

    func testSyntheticArgumentErrors() {
        let directory = makeTemporaryDirectory(self)
        assertThrowsMessage(try SyntheticData.writeCIFAR(variant: .cifar10, train: -1, test: 5, seed: 0, directory: directory),
                            contains: ["non-negative counts, got --train -1 --test 5"])
        assertThrowsMessage(try SyntheticData.writePTB(trainLines: 0, testLines: 5, seed: 0, directory: directory),
                            contains: ["at least one line per file, got --train 0 --test 5"])
        assertThrowsMessage(try SyntheticData.writePTB(trainLines: 5, testLines: 5, seed: 0, vocabularySize: 2,
                                                       directory: directory),
                            contains: ["vocabulary of at least 4 words, got 2"])
        writeFile(directory + "/file", "x")
        assertThrowsMessage(try SyntheticData.writePTB(trainLines: 5, testLines: 5, seed: 0, directory: directory + "/file"),
                            contains: ["\(directory)/file/ptb: cannot write the file"])
    }

    func testPTBStatsReportOnTheRealFiles() throws {
        guard let directory = realDataPath("ptb") else { return }
        let report = try DataStatistics.ptbReport(directory: directory)
        XCTAssertTrue(report.contains("train: 42068 lines, 929589 tokens"), report)
        XCTAssertTrue(report.contains("valid: 3370 lines, 73760 tokens"), report)
        XCTAssertTrue(report.contains("test: 3761 lines, 82430 tokens"), report)
        XCTAssertTrue(report.contains("vocabulary: 10000 words"), report)
    }

    func testCIFARStatsReportOnTheRealFiles() throws {
        guard let directory = realDataPath("cifar-10-batches-bin") else { return }
        let parent = URL(fileURLWithPath: directory).deletingLastPathComponent().path
        guard !FileManager.default.fileExists(atPath: directory + "/data_batch_2.bin") else {
            // The full download: every record, nothing missing.
            let report = try DataStatistics.cifarReport(variant: .cifar10, directory: parent)
            XCTAssertTrue(report.contains("train: 50000 records from data_batch_1.bin, data_batch_2.bin"), report)
            XCTAssertTrue(report.contains("test: 10000 records from test_batch.bin"), report)
            XCTAssertFalse(report.contains("missing"), report)
            return
        }
        // The project's copy: the first 4,000 training and 1,000 test records of the official files.
        assertThrowsMessage(try DataStatistics.cifarReport(variant: .cifar10, directory: parent),
                            contains: ["missing data_batch_2.bin", "--allow-partial-data"])
        let report = try DataStatistics.cifarReport(variant: .cifar10, directory: parent,
                                                    allowPartial: true, warn: { _ in })
        XCTAssertTrue(report.contains("train: 4000 records from data_batch_1.bin"), report)
        XCTAssertTrue(report.contains("396 366 420 384 422 393 414 385 407 413"), report)
        XCTAssertTrue(report.contains("channel mean (R, G, B): 0.4916, 0.4818, 0.4447"), report)
        XCTAssertTrue(report.contains("channel std  (R, G, B): 0.2471, 0.2440, 0.2625"), report)
        XCTAssertTrue(report.contains("test: 1000 records from test_batch.bin"), report)
    }
}

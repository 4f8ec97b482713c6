import Datasets
import TestSupport
import XCTest

/// Every error of the readers, with its message.
final class ReaderErrorTests: XCTestCase {
    func testCIFARDirectoryMissing() {
        let missing = makeTemporaryDirectory(self) + "/nowhere"
        assertThrowsMessage(try CIFARDataset(variant: .cifar10, split: .train, directory: missing),
                            contains: ["CIFAR-10: data directory \(missing) does not exist",
                                       "data_batch_1.bin, data_batch_2.bin, data_batch_3.bin, data_batch_4.bin, "
                                           + "data_batch_5.bin, test_batch.bin",
                                       "scripts/download-data.sh cifar10"])
        assertThrowsMessage(try CIFARDataset(variant: .cifar100, split: .test, directory: missing),
                            contains: ["CIFAR-100: data directory", "train.bin, test.bin", "scripts/download-data.sh cifar100"])
    }

    func testCIFARFilesMissingUnlessPartialAllowed() throws {
        let directory = makeTemporaryDirectory(self)
        writeFile(directory + "/data_batch_1.bin", cifarBytes(labels: [[3], [4]]))
        writeFile(directory + "/test_batch.bin", cifarBytes(labels: [[5]]))
        assertThrowsMessage(try CIFARDataset(variant: .cifar10, split: .train, directory: directory),
                            contains: ["missing data_batch_2.bin, data_batch_3.bin, data_batch_4.bin, data_batch_5.bin in \(directory)",
                                       "expected files: data_batch_1.bin", "scripts/download-data.sh cifar10",
                                       "--allow-partial-data"])
        var warnings: [String] = []
        let partial = try CIFARDataset(variant: .cifar10, split: .train, directory: directory, allowPartial: true,
                                       warn: { warnings.append($0) })
        XCTAssertEqual(partial.labels, [3, 4])
        XCTAssertEqual(warnings, ["CIFAR-10: using only data_batch_1.bin in \(directory); missing data_batch_2.bin, "
                                  + "data_batch_3.bin, data_batch_4.bin, data_batch_5.bin (partial data allowed)"])
        // A split with none of its files is an error even with partial data allowed.
        try FileManager.default.removeItem(atPath: directory + "/test_batch.bin")
        assertThrowsMessage(try CIFARDataset(variant: .cifar10, split: .test, directory: directory, allowPartial: true,
                                             warn: { _ in }),
                            contains: ["missing test_batch.bin in \(directory)"])
    }

    func testCIFARSizeNotAMultipleOfTheRecord() {
        let directory = makeTemporaryDirectory(self)
        let path = directory + "/test_batch.bin"
        writeFile(path, cifarBytes(labels: [[1], [2]]) + [0, 0, 0, 0, 0])
        assertThrowsMessage(try CIFARBinaryReader.read(path: path, variant: .cifar10),
                            contains: ["\(path): size 6151 bytes is not a multiple of the 3073-byte record size",
                                       "2 whole records and 5 bytes left over", "scripts/download-data.sh"])
        // A CIFAR-10 file read as CIFAR-100 has the wrong record size.
        writeFile(path, cifarBytes(labels: [[1], [2]]))
        assertThrowsMessage(try CIFARBinaryReader.read(path: path, variant: .cifar100),
                            contains: ["size 6146 bytes is not a multiple of the 3074-byte record size"])
    }

    func testCIFARLabelOutOfRange() {
        let directory = makeTemporaryDirectory(self)
        let path10 = directory + "/bad10.bin"
        writeFile(path10, cifarBytes(labels: [[9], [10]]))
        assertThrowsMessage(try CIFARBinaryReader.read(path: path10, variant: .cifar10),
                            contains: ["\(path10): record 1 has class label 10, outside 0..<10", "Download it again"])
        let path100 = directory + "/bad100.bin"
        writeFile(path100, cifarBytes(labels: [[19, 99], [3, 17], [2, 100]]))
        assertThrowsMessage(try CIFARBinaryReader.read(path: path100, variant: .cifar100, labelKind: .coarse),
                            contains: ["\(path100): record 2 has fine label 100, outside 0..<100"])
        writeFile(path100, cifarBytes(labels: [[20, 99]]))
        assertThrowsMessage(try CIFARBinaryReader.read(path: path100, variant: .cifar100),
                            contains: ["\(path100): record 0 has coarse label 20, outside 0..<20"])
    }

    func testCIFARUnreadableFile() throws {
        let directory = makeTemporaryDirectory(self)
        try FileManager.default.createDirectory(atPath: directory + "/test.bin", withIntermediateDirectories: false)
        writeFile(directory + "/train.bin", cifarBytes(labels: [[1, 2]]))
        assertThrowsMessage(try CIFARDataset(variant: .cifar100, split: .test, directory: directory),
                            contains: ["\(directory)/test.bin: cannot read the file (it is a directory, not a file)",
                                       "download it again"])
    }

    func testNormalisationChecks() {
        assertThrowsMessage(try CIFARNormalization(mean: [0.5, 0.5], std: [0.2, 0.2, 0.2]),
                            contains: ["needs 3 means and 3 standard deviations", "got 2 and 3", "dataset config"])
        assertThrowsMessage(try CIFARNormalization(mean: [0.5, 0.5, 0.5], std: [0.2, 0, 0.2]),
                            contains: ["std must be positive and finite"])
    }

    func testPTBDirectoryOrFilesMissing() {
        let directory = makeTemporaryDirectory(self)
        assertThrowsMessage(try PTBCorpus(directory: directory + "/absent"),
                            contains: ["PTB: data directory \(directory)/absent does not exist",
                                       "ptb.train.txt, ptb.valid.txt, ptb.test.txt", "scripts/download-data.sh ptb"])
        writeFile(directory + "/ptb.train.txt", " a b \n")
        assertThrowsMessage(try PTBCorpus(directory: directory),
                            contains: ["PTB: missing ptb.valid.txt, ptb.test.txt in \(directory)",
                                       "scripts/download-data.sh ptb"])
    }

    func testPTBUnknownWordNamesFileAndLine() throws {
        let directory = makeTemporaryDirectory(self)
        writeFile(directory + "/ptb.train.txt", " the cat sat \n the dog \n")
        writeFile(directory + "/ptb.valid.txt", " the cat \n")
        writeFile(directory + "/ptb.test.txt", " the dog \n the cat \n the bird sat \n")
        assertThrowsMessage(try PTBCorpus(directory: directory),
                            contains: ["\(directory)/ptb.test.txt:3: word \"bird\" is not in the vocabulary"])
        writeFile(directory + "/ptb.test.txt", " the dog \n")
        let corpus = try PTBCorpus(directory: directory)
        XCTAssertEqual(corpus.vocabulary.words, ["the", "cat", "sat", "<eos>", "dog"])
        XCTAssertEqual(corpus.train, [0, 1, 2, 3, 0, 4, 3])
        XCTAssertEqual(corpus.test, [0, 4, 3])
    }

    func testPTBEmptyOrUnreadableFile() throws {
        let directory = makeTemporaryDirectory(self)
        writeFile(directory + "/ptb.train.txt", "")
        writeFile(directory + "/ptb.valid.txt", " a \n")
        writeFile(directory + "/ptb.test.txt", " a \n")
        assertThrowsMessage(try PTBCorpus(directory: directory),
                            contains: ["\(directory)/ptb.train.txt: the file holds no words"])
        try FileManager.default.removeItem(atPath: directory + "/ptb.train.txt")
        try FileManager.default.createDirectory(atPath: directory + "/ptb.train.txt", withIntermediateDirectories: false)
        assertThrowsMessage(try PTBCorpus(directory: directory),
                            contains: ["ptb.train.txt: cannot read the file (it is a directory, not a file)"])
    }

    func testPTBBatchifyAndWindows() throws {
        let tokens: [Int32] = Array(0..<23)
        let stream = try PTBBatchedStream(tokens: tokens, batch: 4)  // 5 steps per stream, 3 tokens dropped
        XCTAssertEqual(stream.steps, 5)
        XCTAssertEqual(Array(stream.data.prefix(8)), [0, 5, 10, 15, 1, 6, 11, 16])
        let windows = try stream.windows(bptt: 3)
        XCTAssertEqual(windows.map(\.length), [3, 1])  // 4 input steps: a full window and a shorter last one
        XCTAssertEqual(windows[0].input, [0, 5, 10, 15, 1, 6, 11, 16, 2, 7, 12, 17])
        XCTAssertEqual(windows[0].target, [1, 6, 11, 16, 2, 7, 12, 17, 3, 8, 13, 18])
        XCTAssertEqual(windows[1].input, [3, 8, 13, 18])
        XCTAssertEqual(windows[1].target, [4, 9, 14, 19])
        XCTAssertEqual(try stream.windows().count, 1)  // default bptt 35
        assertThrowsMessage(try PTBBatchedStream(tokens: tokens, batch: 0),
                            contains: ["PTB batch size must be at least 1, got 0"])
        assertThrowsMessage(try PTBBatchedStream(tokens: tokens, batch: 12),
                            contains: ["23 tokens cannot fill 12 streams of at least 2 tokens"])
        assertThrowsMessage(try stream.windows(bptt: 0), contains: ["BPTT length must be at least 1, got 0"])
    }
}

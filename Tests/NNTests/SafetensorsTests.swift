import Engine
import Foundation
import NN
import TestSupport
import XCTest

final class SafetensorsTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = URL(fileURLWithPath: try makeTemporaryDirectory("nn-tests"))
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    private func url(_ name: String) -> URL { directory.appendingPathComponent(name) }

    /// A file with a hand-written header and `dataBytes` zero bytes of data.
    private func writeRaw(_ name: String, header: String, dataBytes: Int, claimedLength: UInt64? = nil) throws -> URL {
        var data = Data()
        let headerBytes = Array(header.utf8)
        withUnsafeBytes(of: (claimedLength ?? UInt64(headerBytes.count)).littleEndian) { data.append(contentsOf: $0) }
        data.append(contentsOf: headerBytes)
        data.append(Data(count: dataBytes))
        let u = url(name)
        try data.write(to: u)
        return u
    }

    private func readError(_ u: URL) -> String? {
        do {
            _ = try SafetensorsArchive.read(contentsOf: u)
            return nil
        } catch {
            return (error as? SafetensorsError)?.message ?? "not a SafetensorsError: \(error)"
        }
    }

    func testSaveLoadRoundTripIsExact() throws {
        for name in ["resnet-tiny", "vgg-tiny", "densenet-tiny", "googlenet-tiny", "lstm-tiny"] {
            let configuration = ModelConfiguration(name: name, classes: 10, vocabulary: 50)
            let original = try ModelZoo.make(configuration, seed: 42)
            // Make buffers and counters non-trivial.
            if case .imageClassifier(let net) = original {
                var rng = RandomGenerator(seed: 1)
                let images = Tensor(uninitializedShape: [2, 3, 32, 32])
                rng.fillNormal(images)
                var context = ForwardContext(training: true)
                _ = Tape.withoutGradients { net.forward(Variable(images), &context) }
            }
            let file = url("\(name).safetensors")
            try original.module.saveState(to: file, metadata: ["model": name])
            let loaded = try ModelZoo.makeUninitialized(configuration)
            try loaded.module.loadState(contentsOf: file, modelDescription: configuration.description)
            let a = original.module.namedState(), b = loaded.module.namedState()
            XCTAssertEqual(a.map(\.0), b.map(\.0))
            for ((n, x), (_, y)) in zip(a, b) {
                switch (x, y) {
                case (.parameter(let p), .parameter(let q)): XCTAssertEqual(p.value.array, q.value.array, n)
                case (.buffer(let p), .buffer(let q)): XCTAssertEqual(p.array, q.array, n)
                case (.counter(let p), .counter(let q)): XCTAssertEqual(p.value, q.value, n)
                default: XCTFail("kinds differ for \(n)")
                }
            }
            XCTAssertEqual(try SafetensorsArchive.read(contentsOf: file).metadata, ["model": name])
        }
    }

    func testFileLayoutIsSafetensors() throws {
        let archive = SafetensorsArchive(tensors: [("b", .float32(Tensor(shape: [2], values: [1.5, -2]))),
                                                   ("a.count", .int64(shape: [], values: [7]))])
        let data = archive.serialized()
        let headerLength = data.prefix(8).withUnsafeBytes { Int(UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self))) }
        XCTAssertEqual(headerLength % 8, 0, "header padded to 8 bytes")
        let header = String(decoding: data[8..<(8 + headerLength)], as: UTF8.self).trimmingCharacters(in: .whitespaces)
        XCTAssertEqual(header, #"{"b":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"a.count":{"dtype":"I64","shape":[],"data_offsets":[8,16]}}"#)
        XCTAssertEqual(data.count, 8 + headerLength + 16)
        let body = [UInt8](data[(8 + headerLength)...])
        XCTAssertEqual(Array(body[0..<4]), [0x00, 0x00, 0xC0, 0x3F])  // 1.5f little-endian
        XCTAssertEqual(Array(body[8..<16]), [7, 0, 0, 0, 0, 0, 0, 0])
    }

    func testWrongShapeFailsNamingTheTensorAndExpectedShape() throws {
        let ten = try ModelZoo.make(ModelConfiguration(name: "resnet-tiny", classes: 10), seed: 1)
        let file = url("ten.safetensors")
        try ten.module.saveState(to: file)
        let hundred = try ModelZoo.makeUninitialized(ModelConfiguration(name: "resnet-tiny", classes: 100))
        let before = Dictionary(uniqueKeysWithValues: hundred.module.namedParameters)["conv1.weight"]!.value.array
        XCTAssertThrowsError(try hundred.module.loadState(contentsOf: file, modelDescription: "resnet-tiny with 100 classes")) { error in
            XCTAssertEqual((error as? SafetensorsError)?.message,
                           "\(file.path) does not match resnet-tiny with 100 classes: tensor `linear.weight` has shape [10, 16] but resnet-tiny with 100 classes expects [100, 16]; tensor `linear.bias` has shape [10] but resnet-tiny with 100 classes expects [100]. Check --model and --classes (or the vocabulary) against the ones the checkpoint was written with.")
        }
        // Nothing was loaded.
        XCTAssertEqual(Dictionary(uniqueKeysWithValues: hundred.module.namedParameters)["conv1.weight"]!.value.array, before)
    }

    func testMissingAndUnexpectedTensorsFail() throws {
        let model = try ModelZoo.make(ModelConfiguration(name: "lstm-tiny", vocabulary: 20), seed: 1)
        var archive = model.module.stateArchive()
        archive.tensors.removeAll { $0.name == "lstm.bias_hh_l1" }
        archive.tensors.append((name: "encoder.weight", value: .float32(Tensor(zeros: [20, 8]))))
        XCTAssertThrowsError(try model.module.loadState(from: archive, source: "x.safetensors", modelDescription: "lstm-tiny")) { error in
            XCTAssertEqual((error as? SafetensorsError)?.message,
                           "x.safetensors does not match lstm-tiny: missing tensor `lstm.bias_hh_l1` (expected shape [32], F32); unexpected tensor `encoder.weight` (shape [20, 8]), which lstm-tiny does not have. Check --model and --classes (or the vocabulary) against the ones the checkpoint was written with.")
        }
    }

    func testCounterWithWrongDtypeFails() throws {
        let model = try ModelZoo.make(ModelConfiguration(name: "resnet-tiny"), seed: 1)
        var archive = model.module.stateArchive()
        let index = archive.tensors.firstIndex { $0.name == "bn1.num_batches_tracked" }!
        archive.tensors[index].value = .float32(Tensor(scalar: 3))
        XCTAssertThrowsError(try model.module.loadState(from: archive, source: "c.safetensors", modelDescription: "resnet-tiny")) { error in
            XCTAssertTrue((error as? SafetensorsError)?.message.contains("tensor `bn1.num_batches_tracked` is F32 but resnet-tiny expects I64") == true, "\(error)")
        }
    }

    func testCorruptFilesAreRejectedBeforeAllocating() throws {
        let tooShort = url("short.safetensors")
        try Data([1, 2, 3]).write(to: tooShort)
        XCTAssertEqual(readError(tooShort), "\(tooShort.path) is 3 bytes, too short for a safetensors file (it starts with an 8-byte header length); the file is truncated or not a checkpoint")

        let huge = try writeRaw("huge.safetensors", header: "{}", dataBytes: 0, claimedLength: 200_000_000)
        XCTAssertEqual(readError(huge), "\(huge.path) claims a header of 200000000 bytes, over the 100 MB limit; the file is corrupt or not a safetensors checkpoint")

        let longHeader = try writeRaw("long.safetensors", header: "{}", dataBytes: 4, claimedLength: 1000)
        XCTAssertEqual(readError(longHeader), "\(longHeader.path) claims a header of 1000 bytes but the file holds only 6 bytes after the length; the file is truncated or corrupt")

        let notJSON = try writeRaw("json.safetensors", header: "{\"a\": [", dataBytes: 0)
        XCTAssertTrue(readError(notJSON)?.hasPrefix("\(notJSON.path): the header is not valid JSON") == true, readError(notJSON) ?? "")

        // Claims far more data than the file holds: a [100000, 100000] tensor must not be allocated.
        let beyond = try writeRaw("beyond.safetensors",
            header: #"{"w":{"dtype":"F32","shape":[100000,100000],"data_offsets":[0,40000000000]}}"#, dataBytes: 16)
        XCTAssertEqual(readError(beyond), "\(beyond.path): tensor `w` claims bytes 0..<40000000000 but the file holds only 16 bytes of data; the file is truncated or corrupt")

        let overlap = try writeRaw("overlap.safetensors",
            header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#, dataBytes: 12)
        XCTAssertEqual(readError(overlap), "\(overlap.path): tensors `a` (bytes 0..<8) and `b` (bytes 4..<12) overlap; the file is corrupt")

        let reversed = try writeRaw("reversed.safetensors", header: #"{"a":{"dtype":"F32","shape":[0],"data_offsets":[8,4]}}"#, dataBytes: 8)
        XCTAssertEqual(readError(reversed), "\(reversed.path): tensor `a` has data_offsets [8, 4], which is not a valid byte range; the file is corrupt")

        let unknown = try writeRaw("dtype.safetensors", header: #"{"a":{"dtype":"F17","shape":[1],"data_offsets":[0,4]}}"#, dataBytes: 4)
        XCTAssertEqual(readError(unknown), "\(unknown.path): tensor `a` has unknown dtype \"F17\"; safetensors dtypes are BOOL, U8, I8, F8_E5M2, F8_E4M3, I16, U16, F16, BF16, I32, U32, F32, F64, I64, U64")

        let half = try writeRaw("half.safetensors", header: #"{"a":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}"#, dataBytes: 4)
        XCTAssertEqual(readError(half), "\(half.path): tensor `a` is F16; adai-bench reads F32 tensors and I64 counters only (convert the state_dict with .float() before saving)")

        let sizeMismatch = try writeRaw("size.safetensors", header: #"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, dataBytes: 8)
        XCTAssertEqual(readError(sizeMismatch), "\(sizeMismatch.path): tensor `a` of shape [3] and dtype F32 needs 3 × 4 bytes but its data_offsets span 8; the file is corrupt")

        let badShape = try writeRaw("shape.safetensors", header: #"{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#, dataBytes: 4)
        XCTAssertEqual(readError(badShape), "\(badShape.path): tensor `a` has no valid shape (a list of non-negative integers)")

        let noOffsets = try writeRaw("offsets.safetensors", header: #"{"a":{"dtype":"F32","shape":[1]}}"#, dataBytes: 4)
        XCTAssertEqual(readError(noOffsets), "\(noOffsets.path): tensor `a` has no valid data_offsets (two integers)")

        let missing = url("nothing-here.safetensors")
        XCTAssertEqual(readError(missing), "cannot open \(missing.path): no such file or not readable")
    }

    func testReadsHandWrittenFileWithMetadataAndPadding() throws {
        // As the reference writer lays it out: metadata, header padded with spaces.
        var data = Data()
        let header = #"{"__metadata__":{"format":"pt"},"x":{"dtype":"F32","shape":[1,2],"data_offsets":[0,8]}}"# + "   "
        withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(contentsOf: Array(header.utf8))
        for v: Float in [3.25, -1] { withUnsafeBytes(of: v.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
        let u = url("hand.safetensors")
        try data.write(to: u)
        let archive = try SafetensorsArchive.read(contentsOf: u)
        XCTAssertEqual(archive.metadata, ["format": "pt"])
        XCTAssertEqual(try archive.floatTensor("x", source: "hand").array, [3.25, -1])
        XCTAssertEqual(try archive.floatTensor("x", source: "hand").shape, [1, 2])
        XCTAssertThrowsError(try archive.floatTensor("y", source: "hand")) { error in
            XCTAssertEqual((error as? SafetensorsError)?.message, "hand has no tensor `y`; it holds x")
        }
    }

    func testWriteIntoMissingFolderFails() {
        let archive = SafetensorsArchive(tensors: [("a", .float32(Tensor(scalar: 1)))])
        let target = directory.appendingPathComponent("no/such/folder/a.safetensors")
        XCTAssertThrowsError(try archive.write(to: target)) { error in
            XCTAssertTrue((error as? SafetensorsError)?.message.hasPrefix("cannot write \(target.path): ") == true, "\(error)")
        }
    }
}

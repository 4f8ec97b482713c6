import Datasets
import Engine
import Foundation
import NN
import TestSupport
import XCTest

/// `model grad` builds its batch from the real data with the Datasets readers (first images of a
/// split with the paper's normalisation; PTB windows i·bptt ..< (i+1)·bptt). These tests check that
/// this gives exactly the batch the PyTorch fixtures were computed on (read independently by
/// numpy), so the fixture comparisons hold for `model grad` on the real files. They need the real
/// data (found by `RealData`: $ADAI_BENCH_DATA, data/, ../shared/data) and fail if it is missing.
final class ModelGradDataTests: XCTestCase {
    /// The folder that holds `relative`, or a failure naming the places searched.
    private func dataDirectory(holding relative: String) throws -> String {
        guard let folder = RealData.folder(holding: relative) else { throw MissingRealData(RealData.missingMessage(relative)) }
        return folder
    }

    private func fixture(_ name: String) throws -> SafetensorsArchive {
        let url = try XCTUnwrap(Bundle.module.url(forResource: name, withExtension: "safetensors", subdirectory: "Fixtures"))
        return try SafetensorsArchive.read(contentsOf: url)
    }

    func testFirstCIFARTestImagesEqualTheFixtureBatch() throws {
        let reference = try fixture("resnet18")
        let expected = try reference.floatTensor("input", source: "fixture")
        let data = try CIFARDataset(variant: .cifar10, split: .test, directory: try dataDirectory(holding: "cifar-10-batches-bin"), allowPartial: true,
                                    limit: expected.shape[0], warn: { _ in })
        let images = data.firstImages(expected.shape[0], normalization: CIFARVariant.cifar10.defaultNormalization)
        XCTAssertEqual(images.shape, expected.shape)
        for (a, b) in zip(images.array, expected.array) { XCTAssertEqual(a, b, accuracy: 1e-5) }
        guard case .int64(_, let labels) = reference["labels"] else { return XCTFail("fixture labels") }
        XCTAssertEqual(Array(data.labels.prefix(labels.count)), labels.map { Int32($0) })
        XCTAssertEqual(Array(data.labels.prefix(2)), [3, 8])  // the data README's first test labels
    }

    func testFirstPTBWindowsEqualTheFixtureBatch() throws {
        let reference = try fixture("lstm")
        guard case .int64(let shape, let tokens) = reference["tokens"], case .int64(_, let targets) = reference["targets"] else {
            return XCTFail("fixture tokens")
        }
        let (steps, windows) = (shape[0], shape[1])
        let corpus = try PTBCorpus(directory: try dataDirectory(holding: "ptb"))
        XCTAssertEqual(corpus.vocabulary.count, Int(reference.metadata["vocabulary"]!))
        let test = corpus.tokens(.test)
        let positions = (0..<steps).flatMap { t in (0..<windows).map { i in i * steps + t } }
        XCTAssertEqual(positions.map { test[$0] }, tokens.map { Int32($0) })
        XCTAssertEqual(positions.map { test[$0 + 1] }, targets.map { Int32($0) })
    }
}

/// An error whose description is the message itself, so a thrown one reads as the failure's reason.
private struct MissingRealData: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

import Foundation
import NN
import TestSupport
import XCTest

/// The model zoo is collected at build time (the RegistrationCollector plugin) from the model files'
/// `static let registration`; these tests check the collected zoo against the files themselves, as
/// RegistryTests does for the optimizers.
final class ModelRegistryTests: XCTestCase {
    /// Sources/NN.
    var nnSources: URL { Repository.url("Sources/NN") }

    /// The Swift files under Sources/NN (its Models and Layers folders included) and their text.
    func sourceTexts() throws -> [(file: String, text: String)] {
        let enumerator = try XCTUnwrap(FileManager.default.enumerator(atPath: nnSources.path))
        return try enumerator.compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") }.sorted().map {
            ($0, try String(contentsOf: nnSources.appendingPathComponent($0), encoding: .utf8))
        }
    }

    /// Every source file that declares a registration (a declaration line, not a comment) is in the zoo,
    /// once, and every name the zoo lists is written in the file of its registration: a file the build
    /// missed would be a model no config could name.
    func testEveryFileWithARegistrationIsInTheZoo() throws {
        var declaring: [String] = []
        for (file, text) in try sourceTexts() {
            let lines = text.split(separator: "\n").filter {
                $0.contains(#/^\s+(public\s+)?static\s+let\s+registration\b/#)
            }
            declaring += lines.map { _ in file }
        }
        XCTAssertGreaterThanOrEqual(declaring.count, 6, "ResNet, VGG, DenseNet, GoogLeNet, the LSTM and the AWD-LSTM each register")
        XCTAssertEqual(ModelZoo.registrations.count, declaring.count,
                       "ModelZoo.registrations (collected by the build) and the files declaring `static let registration` disagree")
        let texts = try sourceTexts().filter { declaring.contains($0.file) }.map(\.text)
        for name in ModelZoo.allNames {
            XCTAssertEqual(texts.filter { $0.contains("\"\(name)\"") }.count, 1, "\(name) should be written in exactly one model file")
        }
    }

    /// Names are unique, the paper's models are listed in the order of its tables, and every name
    /// answers with the kind its file registered.
    func testNamesAreUniqueAndThePaperModelsKeepTheirOrder() throws {
        let all = ModelZoo.allNames
        XCTAssertEqual(Set(all).count, all.count, "a name is claimed twice: \(all)")
        let paper = ["resnet18", "resnet34", "resnet50", "vgg11", "vgg13", "vgg16", "vgg19", "densenet121", "googlenet", "lstm",
                     "awd-lstm-1layer", "awd-lstm-2layer", "awd-lstm-3layer"]
        XCTAssertEqual(ModelZoo.names.filter(paper.contains), paper, "the paper's models, in the order of its tables")
        XCTAssertEqual(Set(ModelZoo.reducedNames),
                       ["resnet-tiny", "vgg-tiny", "densenet-tiny", "googlenet-tiny", "lstm-tiny", "resnet18-narrow", "awd-lstm-tiny"])
        let positions = ModelZoo.registrations.map(\.position)
        XCTAssertEqual(positions, positions.sorted(), "ModelZoo.registrations is not in position order")

        XCTAssertEqual(all.filter { ModelZoo.kind(of: $0) == .languageModel }, ["lstm", "lstm-tiny"])
        XCTAssertEqual(all.filter(ModelZoo.isAWDLSTM), ["awd-lstm-1layer", "awd-lstm-2layer", "awd-lstm-3layer", "awd-lstm-tiny"])
        XCTAssertEqual(all.filter(ModelZoo.isLanguageModel), all.filter { $0.contains("lstm") })
        XCTAssertNil(ModelZoo.kind(of: "resnet19"))
        XCTAssertFalse(ModelZoo.isLanguageModel("resnet19"))
    }

    /// Every reduced variant builds into the case of its registered kind (the full-size ones are built by
    /// ModelZooTests.testOutputShapesOfEveryModel).
    func testEveryReducedVariantBuildsAsItsKind() throws {
        for name in ModelZoo.reducedNames {
            let model = try ModelZoo.makeUninitialized(ModelConfiguration(name: name, classes: 10, vocabulary: 50))
            switch (model, ModelZoo.kind(of: name)) {
            case (.imageClassifier, .imageClassifier?), (.languageModel, .languageModel?), (.awdLanguageModel, .awdLanguageModel?): break
            default: XCTFail("\(name) built a model of another kind than it registered")
            }
        }
    }
}

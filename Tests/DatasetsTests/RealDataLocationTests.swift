import Foundation
import TestSupport
import XCTest

/// Where the tests look for real data: $ADAI_BENCH_DATA, then data/, then ../shared/data.
final class RealDataLocationTests: XCTestCase {
    func testTheUsersFolderComesFirstAndEachDataSetIsFoundOnItsOwn() throws {
        let own = makeTemporaryDirectory(self)
        try FileManager.default.createDirectory(atPath: own + "/ptb", withIntermediateDirectories: true)
        let environment = [RealData.environmentVariable: own]
        let folders = RealData.searchedFolders(environment: environment).map(\.path)
        XCTAssertEqual(folders.count, 3)
        XCTAssertEqual(folders[0], URL(fileURLWithPath: own).standardized.path)
        XCTAssertEqual(folders[1], RealData.repositoryRoot + "/data")
        XCTAssertTrue(folders[2].hasSuffix("/shared/data"), folders[2])
        XCTAssertEqual(RealData.path("ptb", environment: environment), URL(fileURLWithPath: own).standardized.path + "/ptb")
        // A data set the user's folder lacks is still looked for in the other places.
        XCTAssertNotEqual(RealData.folder(holding: "cifar-10-batches-bin", environment: environment), folders[0])
        // Without the variable, two places are searched.
        XCTAssertEqual(RealData.searchedFolders(environment: [:]).count, 2)
        XCTAssertEqual(RealData.searchedFolders(environment: [RealData.environmentVariable: ""]).count, 2)
    }

    func testAMissingDataSetNamesEveryPlaceAndTheDownloadCommand() {
        let message = RealData.missingMessage("cifar-100-binary/train.bin", environment: [:])
        for fragment in ["real data missing: cifar-100-binary/train.bin is in none of", "$ADAI_BENCH_DATA (not set)",
                         RealData.repositoryRoot + "/data (data/ (scripts/download-data.sh))", "shared/data (../shared/data)",
                         "`scripts/download-data.sh cifar100`", "or set ADAI_BENCH_DATA to the folder that holds it"] {
            XCTAssertTrue(message.contains(fragment), "lacks \"\(fragment)\": \(message)")
        }
        let withVariable = RealData.missingMessage("ptb", environment: [RealData.environmentVariable: "/nowhere"])
        XCTAssertTrue(withVariable.contains("/nowhere ($ADAI_BENCH_DATA)"), withVariable)
        XCTAssertTrue(withVariable.contains("`scripts/download-data.sh ptb`"), withVariable)
        XCTAssertTrue(RealData.missingMessage("cifar-10-batches-bin", environment: [:]).contains("download-data.sh cifar10`"))
    }
}

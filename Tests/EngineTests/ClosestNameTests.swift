import Engine
import XCTest

final class ClosestNameTests: XCTestCase {
    func testSuggestsALikelyTypoAndNothingElse() {
        XCTAssertEqual(ClosestName.of("batchSzie", in: ["epochs", "batchSize"]), "batchSize", "a swap of neighbours is one edit")
        XCTAssertEqual(ClosestName.of("adia", in: ["adam", "adai"]), "adai")
        XCTAssertEqual(ClosestName.of("weight_decay", in: ["lr", "weightDecay"]), "weightDecay", "case is ignored")
        XCTAssertEqual(ClosestName.of("adamx", in: ["adam", "adamw"]), "adam", "ties go to the earlier candidate")
        XCTAssertNil(ClosestName.of("p", in: ["lr", "eps", "partial"]), "one letter is too short to guess from")
        XCTAssertNil(ClosestName.of("x", in: ["lr", "betas"]))
        XCTAssertNil(ClosestName.of("learningRate", in: ["lr", "betas", "eps", "weightDecay"]))
        XCTAssertNil(ClosestName.of("anything", in: []))
    }
}

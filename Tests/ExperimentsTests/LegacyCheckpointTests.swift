import Experiments
import Foundation
import XCTest

/// Checkpoints written by an older version of the code still resume, to the same metrics.
///
/// Fixtures/legacy-checkpoint was written by commit 76c30d1, before the optimizers' state was
/// renamed from buffer indices to names (issue 22): `interrupted/` holds three runs (adai, amsgrad,
/// sgdm: every kind of buffer, `beta1_prod` starting at 1 included) stopped one step into their
/// second and last epoch, with their checkpoints; `complete/` the metrics of the same runs trained
/// without a stop. See Fixtures/legacy-checkpoint/README.md. Cost: about 2 s (debug build).
final class LegacyCheckpointTests: XCTestCase {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/legacy-checkpoint").path
    static let configJSON = tinyConfigJSON(name: "legacy", epochs: 2, optimizers: #"""
        [{"name": "adai", "lr": 0.5, "weightDecay": 5e-4}, {"name": "amsgrad", "lr": 0.01, "weightDecay": 5e-4},
         {"name": "sgdm", "lr": 0.05, "weightDecay": 5e-4}]
        """#, train: 128, test: 64)

    func testACheckpointWrittenBeforeTheStateRenamingResumesToTheSameMetrics() throws {
        let results = try makeTemporaryDirectory("legacy-checkpoint")
        defer { try? FileManager.default.removeItem(atPath: results) }
        try FileManager.default.removeItem(atPath: results)
        try FileManager.default.copyItem(atPath: "\(Self.fixture)/interrupted", toPath: results)
        var o = TrainOptions()
        o.results = results
        o.resume = true
        o.liveProgress = false
        o.log = { _ in }
        o.warn = { _ in }
        let config = try parseConfig(Self.configJSON)
        let outcomes = try ExperimentRunner(config: config, options: o).run()
        XCTAssertEqual(outcomes.map(\.1), [.completed, .completed, .completed])
        for run in ["adai-lr0.5-wd0.0005", "amsgrad-lr0.01-wd0.0005", "sgdm-lr0.05-wd0.0005"] {
            let id = "legacy/\(run)/seed-1/metrics.csv"
            let resumed = try metricsWithoutTiming("\(results)/\(id)")
            XCTAssertEqual(resumed.count, 3, run)  // header and both epochs
            XCTAssertEqual(resumed, try metricsWithoutTiming("\(Self.fixture)/complete/\(id)"), run)
        }
    }
}

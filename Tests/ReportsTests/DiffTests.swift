import Foundation
@testable import Reports
import XCTest

final class DiffTests: XCTestCase {
    private var results: FabricatedResults!

    override func setUpWithError() throws { results = try FabricatedResults() }
    override func tearDownWithError() throws { results.remove() }

    private func metrics(_ run: URL) throws -> CSVTable { try CSVTable.read(run.appendingPathComponent("metrics.csv").path) }

    func testFindsAPlantedDifference() throws {
        // Same numbers except the test error of epoch 3 (5.0 vs 5.5) and the timing column (seed-dependent).
        let a = try results.run(experiment: "a", optimizer: "adai", lr: 1, seed: 1, testErrors: [10, 6, 5, 4.5])
        var b = try results.run(experiment: "b", optimizer: "adai", lr: 1, seed: 1, testErrors: [10, 6, 5.5, 4.5])
        let tableA = try metrics(a)
        var tableB = try metrics(b)
        var difference = try MetricDiff.compare(tableA, tableB, tolerance: 0.1)
        XCTAssertTrue(difference.differs)
        let testError = difference.columns.first { $0.column == "test_error" }!
        XCTAssertEqual(testError.largest, 0.5, accuracy: 1e-12)
        XCTAssertEqual(testError.largestAt, "epoch 3")
        XCTAssertEqual(testError.firstBeyondTolerance, "epoch 3")
        // train_error is 1.5 × test error: 7.5 vs 8.25 at epoch 3.
        XCTAssertEqual(difference.columns.first { $0.column == "train_error" }!.firstBeyondTolerance, "epoch 3")
        XCTAssertEqual(difference.columns.first { $0.column == "train_loss" }!.largest, 0)
        XCTAssertEqual(difference.ignoredColumns, ["epoch_seconds", "examples_per_second"])
        XCTAssert(difference.report().contains("DIFFER: train_error from epoch 3; test_error from epoch 3"), difference.report())

        // Within a tolerance of 1 they agree.
        difference = try MetricDiff.compare(tableA, tableB, tolerance: 1)
        XCTAssertFalse(difference.differs)
        XCTAssertEqual(difference.columns.first { $0.column == "test_error" }!.largest, 0.5, accuracy: 1e-12)
        XCTAssert(difference.report().hasSuffix("SAME within the tolerance"), difference.report())

        // Timing columns count only when asked: seed 2 writes another epoch_seconds.
        b = try results.run(experiment: "c", optimizer: "adai", lr: 1, seed: 2, testErrors: [10, 6, 5, 4.5])
        tableB = try metrics(b)
        XCTAssertEqual(try MetricDiff.compare(tableA, tableB, tolerance: 0, includeTiming: true)
            .columns.first { $0.column == "epoch_seconds" }!.firstBeyondTolerance, "epoch 1")
    }

    func testIdenticalFilesAndShapeDifferences() throws {
        let a = try metrics(try results.run(experiment: "a", optimizer: "adai", lr: 1, seed: 1, testErrors: [10, 6, 5]))
        XCTAssertFalse(try MetricDiff.compare(a, a, tolerance: 0).differs)
        let shorter = try metrics(try results.run(experiment: "b", optimizer: "adai", lr: 1, seed: 1, testErrors: [10, 6]))
        let difference = try MetricDiff.compare(a, shorter, tolerance: 0)
        XCTAssertTrue(difference.differs, "row counts differ")
        XCTAssert(difference.report().contains("row counts differ: A has 3, B has 2"), difference.report())
    }

    func testNaNAgainstANumberParts() throws {
        let a = try CSVTable.parse("epoch,test_error\n1,5\n2,nan\n", path: "a.csv")
        let b = try CSVTable.parse("epoch,test_error\n1,5\n2,4\n", path: "b.csv")
        let difference = try MetricDiff.compare(a, b, tolerance: 100)
        XCTAssertEqual(difference.columns[1].firstBeyondTolerance, "epoch 2")
        XCTAssertFalse(try MetricDiff.compare(a, a, tolerance: 0).differs, "NaN equals NaN in a diff")
    }

    func testCurvesCSVRowsAreNamedByTheirKey() throws {
        let a = try CSVTable.parse("optimizer,lr,weight_decay,seed,epoch,test_error\nadai,1,0.0005,1,1,5\nadam,0.001,0.0005,1,1,6\n", path: "a.csv")
        let b = try CSVTable.parse("optimizer,lr,weight_decay,seed,epoch,test_error\nadai,1,0.0005,1,1,5\nadam,0.001,0.0005,1,1,7\n", path: "b.csv")
        let difference = try MetricDiff.compare(a, b, tolerance: 0)
        XCTAssertEqual(difference.columns.last!.firstBeyondTolerance, "optimizer adam lr 0.001 weight_decay 0.0005 seed 1 epoch 1")
    }

    func testBadDiffInputs() throws {
        let empty = try CSVTable.parse("epoch,test_error\n", path: "empty.csv")
        let a = try CSVTable.parse("epoch,test_error\n1,5\n", path: "a.csv")
        XCTAssertThrowsError(try MetricDiff.compare(a, empty, tolerance: 0)) { error in
            XCTAssertEqual("\(error)", "empty.csv: no data rows below the header; nothing to compare")
        }
        XCTAssertThrowsError(try MetricDiff.compare(a, a, tolerance: -1)) { error in
            XCTAssert("\(error)".contains("the tolerance must be a number >= 0"), "\(error)")
        }
        XCTAssertThrowsError(try CSVTable.parse("", path: "blank.csv")) { error in
            XCTAssertEqual("\(error)", "blank.csv: the file is empty (no header line); regenerate it or pass another file")
        }
        XCTAssertThrowsError(try CSVTable.read(results.root.path)) { error in
            XCTAssert("\(error)".contains("is a directory, not a CSV file"), "\(error)")
        }
    }
}

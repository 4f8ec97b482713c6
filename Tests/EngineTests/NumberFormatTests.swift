import Engine
import Foundation
import XCTest

/// The named number formats print exactly what the formatters they replaced printed: run ids and the
/// CSV files depend on every byte.
final class NumberFormatTests: XCTestCase {
    func testEachFormatPrintsExactlyTheseStrings() {
        let negativeNaN = -Double.nan
        let table: [(Double, shortest: String, runId: String, g6: String, csv9: String, metrics: String)] = [
            (0.0005, "0.0005", "0.0005", "0.0005", "0.0005", "0.0005"),
            (1e-05, "1e-05", "1e-05", "1e-05", "1e-05", "1e-05"),
            (0.1, "0.1", "0.1", "0.1", "0.1", "0.1"),
            (0.5, "0.5", "0.5", "0.5", "0.5", "0.5"),
            (3.0, "3.0", "3", "3", "3", "3"),
            (-2.0, "-2.0", "-2", "-2", "-2", "-2"),
            (0.0, "0.0", "0", "0", "0", "0"),
            (-0.0, "-0.0", "0", "-0", "-0", "0"),
            (1.0 / 3, "0.3333333333333333", "0.3333333333333333", "0.333333", "0.333333333", "0.333333333"),
            (1234567.0, "1234567.0", "1234567", "1.23457e+06", "1234567", "1234567"),
            (1234567890.0, "1234567890.0", "1234567890", "1.23457e+09", "1.23456789e+09", "1234567890"),
            (1e15, "1000000000000000.0", "1000000000000000.0", "1e+15", "1e+15", "1e+15"),
            (1e16, "1e+16", "1e+16", "1e+16", "1e+16", "1e+16"),
            (2.5e-7, "2.5e-07", "2.5e-07", "2.5e-07", "2.5e-07", "2.5e-07"),
            (Double.nan, "nan", "nan", "nan", "nan", "nan"),
            (negativeNaN, "-nan", "-nan", "-nan", "nan", "nan"),
            (Double.infinity, "inf", "inf", "inf", "inf", "inf"),
            (-Double.infinity, "-inf", "-inf", "-inf", "-inf", "-inf"),
        ]
        for row in table {
            XCTAssertEqual(NumberFormat.shortest.string(row.0), row.shortest, "shortest \(row.0)")
            XCTAssertEqual(NumberFormat.runId.string(row.0), row.runId, "runId \(row.0)")
            XCTAssertEqual(NumberFormat.g(6).string(row.0), row.g6, "g6 \(row.0)")
            XCTAssertEqual(NumberFormat.csv(significant: 9).string(row.0), row.csv9, "csv9 \(row.0)")
            XCTAssertEqual(NumberFormat.metrics.string(row.0), row.metrics, "metrics \(row.0)")
        }
        XCTAssertEqual(NumberFormat.g(5).string(0.000123456), "0.00012346")
        XCTAssertEqual(NumberFormat.g(9).string(Double(Float(0.1))), "0.100000001")
        XCTAssertEqual(NumberFormat.csv(significant: 4).string(12.3456), "12.35")
    }

    /// A run directory's name spells lr and wd in the run-id form.
    func testRunIdSpellsSettingsAsRunDirectoriesDo() {
        let f = NumberFormat.runId
        XCTAssertEqual("adai-lr\(f.string(0.5))-wd\(f.string(0.0005))", "adai-lr0.5-wd0.0005")
        XCTAssertEqual("sgdm-lr\(f.string(1))-wd\(f.string(0))", "sgdm-lr1-wd0")
        XCTAssertEqual("adam-lr\(f.string(0.001))-wd\(f.string(1e-05))", "adam-lr0.001-wd1e-05")
    }
}

import Foundation
import Plot
@testable import Reports
import XCTest

/// A run of ours beside the AdaMomentum authors' five runs: the prediction interval by hand, the matching of
/// configurations, the messages when nothing matches, and the command line (`compare`, `plot curves`).
final class BesideAuthorsTests: XCTestCase {
    private var results: FabricatedResults!

    override func setUpWithError() throws { results = try FabricatedResults() }
    override func tearDownWithError() throws { results.remove() }

    /// t(4, 0.975), from tables (e.g. NIST/SEMATECH e-Handbook 1.3.6.7.2: 2.776).
    static let t4 = 2.7764451051977987

    func writeAuthorsCurves() throws -> String { try results.authorsCurves() }

    @discardableResult
    func writeRun(experiment: String = "awd", model: String = "awd-lstm-1layer", optimizer: String = "adamomentum",
                  lr: Double = 0.001, eps: Double? = 1e-16, seed: Int = 0, weightDrop: String = "authors", testPpl: [Double]) throws -> String {
        try results.awdRun(experiment: experiment, model: model, optimizer: optimizer, lr: lr, eps: eps, seed: seed,
                           weightDrop: weightDrop, testPpl: testPpl)
    }

    func testThePredictionIntervalByHand() throws {
        // 100...108: mean 104, s = √10, half-width t4 · √10 · √1.2 = t4 · √12 = 9.61788...
        let i = try XCTUnwrap(PredictionInterval([100, 102, 104, 106, 108]))
        XCTAssertEqual(i.n, 5)
        XCTAssertEqual(i.mean, 104, accuracy: 1e-12)
        XCTAssertEqual(i.std, 10.0.squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(i.high - 104, Self.t4 * 12.0.squareRoot(), accuracy: 1e-9)
        XCTAssertEqual(i.low, 104 - 9.617884, accuracy: 1e-5)
        XCTAssert(i.contains(113.6) && !i.contains(113.7) && i.contains(94.4) && !i.contains(94.3))
        XCTAssertFalse(i.contains(.nan))
        XCTAssertNil(PredictionInterval([104]))                   // one run has no spread
    }

    func testEachEpochIsJudgedAgainstTheAuthorsInterval() throws {
        let curves = try AuthorsCurves.read(try writeAuthorsCurves())
        // epoch 1: 110 inside [94.38, 113.62]; epoch 2: 70 below [82 ∓ t4·√2.5·√1.2 = 82 ∓ 4.808944 = 77.19, 86.81]; epoch 3: 87 above
        // [71.19, 80.81]; epoch 4: the authors have no epoch 4.
        let experiment = try writeRun(testPpl: [110, 70, 87, 60])
        let c = try BesideAuthors.compare(runs: try RunLoader.load(experiment: experiment), curves: curves)
        XCTAssertEqual(c.count, 1)
        XCTAssertEqual(c[0].configuration, .init(optimizer: "adamomentum", scriptOptimizer: "adam3", layers: 1, lr: "0.001", eps: "1e-16"))
        XCTAssertEqual(c[0].rows.map(\.inside), [true, false, false, nil])
        XCTAssertEqual(c[0].rows[1].interval!.low, 82 - Self.t4 * 3.0.squareRoot(), accuracy: 1e-9)
        XCTAssertEqual(c[0].rows[2].interval!.high, 76 + Self.t4 * 3.0.squareRoot(), accuracy: 1e-9)
        XCTAssertEqual(c[0].summary, "inside at 1 of 3 epochs; outside at 2 (below), 3 (above)")
        let md = BesideAuthors.markdown(c)
        XCTAssert(md.contains("| 1 | 110.00 | 104.00 | 3.16 | 5 | [94.38, 113.62] | yes |"), md)
        XCTAssert(md.contains("| 2 | 70.00 | 82.00 | 1.58 | 5 | [77.19, 86.81] | no (below) |"), md)
        XCTAssert(md.contains("| 4 | 60.00 | | | | | (no authors' interval) |"), md)
        XCTAssert(md.contains("= mean ± 3.0414·s with n = 5"), md)
        XCTAssert(md.contains("compared: test perplexity"), md)
        // The training curve: ours train_ppl_window (test + 50) against their train_ppl (test + 50): the same verdicts.
        let train = try BesideAuthors.compare(runs: try RunLoader.load(experiment: experiment), curves: curves, quantity: .train)
        XCTAssertEqual(train[0].rows.map(\.inside), [true, false, false, nil])
        XCTAssertEqual(train[0].rows[0].interval!.mean, 154, accuracy: 1e-12)
        let csv = BesideAuthors.csv(c).split(separator: "\n")
        XCTAssertEqual(csv.count, 5)
        XCTAssert(csv[2].hasSuffix(",test,2,70,5,82,1.58113883,77.191056,86.808944,no"), String(csv[2]))
    }

    func testSGDMatchesWithoutAnEpsAndAnotherWeightDropIsWarned() throws {
        let curves = try AuthorsCurves.read(try writeAuthorsCurves())
        let experiment = try writeRun(optimizer: "sgd", lr: 30, eps: nil, weightDrop: "correct", testPpl: [201])
        let c = try BesideAuthors.compare(runs: try RunLoader.load(experiment: experiment), curves: curves)
        XCTAssertEqual(c[0].configuration.scriptOptimizer, "sgd")
        XCTAssertEqual(c[0].rows.map(\.inside), [true])
        XCTAssert(c[0].notes.contains { $0.hasPrefix("warning: this run's weight drop is 'correct'") })
    }

    func testNoMatchingConfigurationSaysWhatTheAuthorsRan() throws {
        let curves = try AuthorsCurves.read(try writeAuthorsCurves())
        let experiment = try writeRun(optimizer: "adam", lr: 0.5, eps: 1e-8, testPpl: [100])
        XCTAssertThrowsError(try BesideAuthors.compare(runs: try RunLoader.load(experiment: experiment), curves: curves)) { error in
            XCTAssertEqual("\(error)", "no configuration of the authors matches adam, 1 layer, lr 0.5, eps 1e-08 (\(curves.path)); "
                           + "with 1 layer they ran: adamomentum (main.py --optimizer adam3), 1 layer, lr 0.001, eps 1e-16; "
                           + "sgdm (main.py --optimizer sgd), 1 layer, lr 30.0, eps 1e-08. Train one of those settings "
                           + "(configs/ptb-awd-lstm-1layer.json) to compare with their runs")
        }
        let tiny = try writeRun(experiment: "tiny", model: "awd-lstm-tiny", testPpl: [100])
        XCTAssertThrowsError(try BesideAuthors.compare(runs: try RunLoader.load(experiment: tiny), curves: curves)) { error in
            XCTAssert("\(error)".hasSuffix("model awd-lstm-tiny is not one of the authors' AWD-LSTMs (awd-lstm-1layer, awd-lstm-2layer, "
                                           + "awd-lstm-3layer); their curves compare only with those"), "\(error)")
        }
        XCTAssertThrowsError(try AuthorsCurves.read(results.root.appendingPathComponent("none.csv").path)) { error in
            XCTAssert("\(error)".contains("no such file"), "\(error)")
        }
    }

    func testTheChartDrawsTheirBandAndOurRun() throws {
        let curves = try AuthorsCurves.read(try writeAuthorsCurves())
        let experiment = try writeRun(testPpl: [110, 70])
        let c = try BesideAuthors.compare(runs: try RunLoader.load(experiment: experiment), curves: curves)
        let chart = try BesideAuthors.chart(c, title: "t")
        XCTAssertEqual(chart.series.map(\.name), ["adamomentum: authors (n=5)", "adamomentum: ours, seed 0"])
        XCTAssertEqual(chart.series[0].xs, [1, 2])                  // up to our last epoch
        XCTAssertEqual(chart.series[0].upper![0], 104 + Self.t4 * 12.0.squareRoot(), accuracy: 1e-9)
        XCTAssertEqual(chart.series[1].ys, [110, 70])
        XCTAssertFalse(chart.logY)
        let path = results.root.appendingPathComponent("beside.png").path
        try chart.figure().write(to: path)
        if let keep = ProcessInfo.processInfo.environment["REPORTS_TESTS_KEEP"] { try chart.figure().write(to: keep + "/beside-authors.png") }
        XCTAssertEqual(chart.figure().layoutProblems(), [])
    }
}

extension FabricatedResults {
    /// The authors' curves: adamomentum (main.py adam3) 1 layer lr 0.001 eps 1e-16, five runs, epochs 1-3, and SGD
    /// 1 layer lr 30 (one epoch). Test perplexity per run at epoch 1: 100, 102, 104, 106, 108 (mean 104, s = √10);
    /// epoch 2: 80...84 (mean 82, s = √2.5); epoch 3: 74...78 (mean 76, s = √2.5). Training perplexity = test + 50.
    func authorsCurves() throws -> String {
        var lines = ["# fabricated for the tests", "optimizer,script_optimizer,layers,lr,eps,run,epoch,train_ppl,test_ppl"]
        for run in 0..<5 {
            for (epoch, base) in [(1, 100.0), (2, 80.0), (3, 74.0)] {
                let test = base + Double(run) * (epoch == 1 ? 2 : 1)
                lines.append("adamomentum,adam3,1,0.001,1e-16,\(run),\(epoch),\(test + 50),\(test)")
            }
            lines.append("sgdm,sgd,1,30.0,1e-08,\(run),1,\(300 + run),\(200 + run)")
            lines.append("adam,adam,2,0.01,1e-08,\(run),1,\(300 + run),\(200 + run)")
        }
        let path = root.appendingPathComponent("curves.csv").path
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// One AWD-LSTM run of ours with the given test perplexities per epoch (train_ppl_window = test + 50).
    @discardableResult
    func awdRun(experiment: String = "awd", model: String = "awd-lstm-1layer", optimizer: String = "adamomentum",
                  lr: Double = 0.001, eps: Double? = 1e-16, seed: Int = 0, weightDrop: String = "authors", testPpl: [Double]) throws -> String {
        let directory = root.appendingPathComponent(experiment).appendingPathComponent("\(optimizer)-lr\(lr)-wd1.2e-06/seed-\(seed)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var lines = ["epoch,lr,train_loss,train_ppl,train_ppl_window,valid_loss,valid_ppl,test_loss,test_ppl,epoch_seconds,tokens_per_second"]
        for (i, p) in testPpl.enumerated() {
            lines.append("\(i + 1),\(lr),\(log(p + 40)),\(p + 40),\(p + 50),\(log(p + 5)),\(p + 5),\(log(p)),\(p),100,9000")
        }
        try (lines.joined(separator: "\n") + "\n").write(to: directory.appendingPathComponent("metrics.csv"), atomically: true, encoding: .utf8)
        let epsJSON = eps.map { ", \"eps\": \($0)" } ?? ""
        let json = """
            {
              "experiment": "\(experiment)", "runId": "\(optimizer)/seed-\(seed)", "dataset": "ptb", "model": "\(model)",
              "optimizer": "\(optimizer)", "lr": \(lr), "weightDecay": 1.2e-06, "seed": \(seed),
              "epochsPlanned": 200, "epochsCompleted": \(testPpl.count), "status": "interrupted", "metric": "test_ppl",
              "config": { "name": "\(experiment)", "dataset": { "name": "ptb" }, "training": { "epochs": 200 },
                          "model": { "name": "\(model)", "weightDrop": "\(weightDrop)" },
                          "optimizer": { "name": "\(optimizer)", "lr": \(lr)\(epsJSON) } }
            }
            """
        try json.write(to: directory.appendingPathComponent("run.json"), atomically: true, encoding: .utf8)
        return root.appendingPathComponent(experiment).path
    }

}

import Foundation
@testable import Reports
import XCTest

final class CompareTests: XCTestCase {
    private var results: FabricatedResults!

    override func setUpWithError() throws { results = try FabricatedResults() }
    override func tearDownWithError() throws { results.remove() }

    func testKendallTauByHand() {
        // Pairs of [1,2,3,4] vs [1,3,2,4]: 5 concordant, 1 discordant → (5 − 1) / 6.
        XCTAssertEqual(kendallTau([1, 2, 3, 4], [1, 3, 2, 4])!, 4.0 / 6.0, accuracy: 1e-12)
        XCTAssertEqual(kendallTau([1, 2, 3], [3, 2, 1])!, -1, accuracy: 1e-12)
        // τ-b with a tie in x: pairs (0,1) tied in x, (0,2) and (1,2) concordant → 2 / sqrt((3 − 1)(3 − 0)).
        XCTAssertEqual(kendallTau([1, 1, 2], [1, 2, 3])!, 2 / 6.0.squareRoot(), accuracy: 1e-12)
        XCTAssertNil(kendallTau([1], [2]))
        XCTAssertNil(kendallTau([1, 1], [2, 3]))
    }

    func testStatisticUsesTheSampleStd() {
        let s = Statistic([4.6, 4.8])
        XCTAssertEqual(s.mean, 4.7, accuracy: 1e-12)
        XCTAssertEqual(s.std, 0.02.squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(s.n, 2)
        XCTAssert(Statistic([3]).std.isNaN)
    }

    func testCompareProducesTheExpectedTableAndTau() throws {
        let experiment = try results.comparisonExperiment()
        let comparisons = try Compare.compare(experiment: experiment, paper: try PaperTable.read(try results.paperTable()))
        XCTAssertEqual(comparisons.count, 1)
        let c = comparisons[0]
        XCTAssertEqual([c.dataset, c.model, c.metric], ["cifar10", "resnet18", "test_error"])
        XCTAssertEqual(c.rows.map(\.ours.optimizer), ["adabelief", "adai", "adam", "sgdm"])

        let adai = c.rows[1]
        XCTAssertEqual(adai.ours.chosen.setting.lr, 1, "the lr with the lower mean best error is chosen")
        XCTAssertEqual(adai.ours.settingsTried, 2)
        XCTAssertEqual(adai.ours.chosen.best.mean, 4.7, accuracy: 1e-12)
        XCTAssertEqual(adai.ours.chosen.final.mean, 4.8, accuracy: 1e-12)
        XCTAssertEqual(adai.difference!, 4.7 - 4.74, accuracy: 1e-12)
        XCTAssertEqual(adai.differenceInStd!, (4.7 - 4.74) / 0.14, accuracy: 1e-12)  // −0.29
        XCTAssertEqual(adai.verdict, .within(2))
        XCTAssertTrue(adai.short, "3 epochs of the 200-epoch protocol")

        XCTAssertEqual(c.rows[3].differenceInStd!, (5.3 - 5.01) / 0.03, accuracy: 1e-9)  // +9.67
        XCTAssertEqual(c.rows[3].verdict, .worse)
        XCTAssertEqual(c.rows[2].differenceInStd!, (5.0 - 6.53) / 0.03, accuracy: 1e-9)  // −51
        XCTAssertEqual(c.rows[2].verdict, .better)
        XCTAssertEqual(c.rows[0].verdict, .notInPaper)

        // Ours: adai 4.7 < adam 5.0 < sgdm 5.3; paper: adai 4.74 < sgdm 5.01 < adam 6.53.
        // Pairs: (adai, adam) and (adai, sgdm) concordant, (adam, sgdm) discordant → τ = (2 − 1) / 3.
        XCTAssertEqual(c.tau!, 1.0 / 3.0, accuracy: 1e-12)
        XCTAssertEqual(c.tauCount, 3)
        XCTAssertEqual(c.ourWinner, "adai")
        XCTAssertEqual(c.paperWinner, "adai")
        XCTAssertEqual(c.paperOverallWinner, "adaiw")

        let markdown = Compare.markdown(comparisons)
        XCTAssert(markdown.contains("| optimizer | setting | n | epochs | final | best | paper | diff | diff/std | verdict |"), markdown)
        XCTAssert(markdown.contains(
            "| adai | lr=1 wd=0.0005 (best of 2) | 2 | 3/200 (short) | 4.80 ± 0.14 | 4.70 ± 0.14 | 4.74 ± 0.14 | -0.04 | -0.29 | within 2 std |"),
            markdown)
        XCTAssert(markdown.contains("| sgdm | lr=0.1 wd=0.0005 | 2 | 3/200 (short) | 5.40 ± 0.14 | 5.30 ± 0.14 | 5.01 ± 0.03 | +0.29 | +9.67 | worse |"), markdown)
        XCTAssert(markdown.contains("| adam | lr=0.001 wd=0.0005 | 2 | 3/200 (short) | 5.10 ± 0.14 | 5.00 ± 0.14 | 6.53 ± 0.03 | -1.53 | -51.00 | better |"), markdown)
        XCTAssert(markdown.contains("| adabelief | lr=0.001 wd=0.0005 | 1 | 3/200 (short) | 5.00 | 5.00 | - | - | - | not in paper |"), markdown)
        XCTAssert(markdown.contains("Kendall's tau between our ordering and the paper's (3 optimizers in both): 0.333"), markdown)
        XCTAssert(markdown.contains("Winner among them: ours adai, paper adai (the paper's best over its whole row: adaiw)"), markdown)
        XCTAssert(markdown.contains("Short: adabelief, adai, adam, sgdm ran fewer epochs than the paper's protocol (200)"), markdown)

        let csv = try CSVTable.parse(Compare.csv(comparisons), path: "compare.csv")
        XCTAssertEqual(csv.rows.count, 4)
        let sgdm = csv.rows[3]
        XCTAssertEqual(sgdm[try csv.requireColumn("optimizer")], "sgdm")
        XCTAssertEqual(sgdm[try csv.requireColumn("verdict")], "worse")
        XCTAssertEqual(sgdm[try csv.requireColumn("short")], "true")
        XCTAssertEqual(Double(sgdm[try csv.requireColumn("difference_in_std")])!, 9.66667, accuracy: 1e-4)
        XCTAssert(csv.comments.contains { $0.contains("kendall_tau=0.333333") }, "\(csv.comments)")
    }

    func testFullLengthRunsAreNotMarkedShort() throws {
        let e = "full"
        try results.run(experiment: e, optimizer: "adai", lr: 1, seed: 1, testErrors: Array(repeating: 4.74, count: 200))
        let c = try Compare.compare(experiment: results.root.appendingPathComponent(e).path,
                                    paper: try PaperTable.read(try results.paperTable()))[0]
        XCTAssertFalse(c.rows[0].short)
        XCTAssertEqual(c.rows[0].differenceInStd!, 0, accuracy: 1e-12)
        XCTAssertFalse(Compare.markdown([c]).contains("short"))
    }

    func testFailOutsideExitStatus() throws {
        let comparisons = try Compare.compare(experiment: try results.comparisonExperiment(),
                                              paper: try PaperTable.read(try results.paperTable()))
        XCTAssertEqual(Compare.exitStatus(comparisons, failOutside: nil), 0, "no --fail-outside: always 0")
        XCTAssertEqual(Compare.exitStatus(comparisons, failOutside: 2), 1, "sgdm is 9.7 std and adam 51 std away")
        XCTAssertEqual(comparisons[0].rowsOutside(10).map(\.ours.optimizer), ["adam"])
        XCTAssertEqual(Compare.exitStatus(comparisons, failOutside: 10), 1)
        XCTAssertEqual(Compare.exitStatus(comparisons, failOutside: 52), 0, "every cell within 52 std")
    }

    func testTheCheckedInPaperTablesParse() throws {
        // Tests run from the package root; the tables are part of the repository.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let table2 = try PaperTable.read(root.appendingPathComponent("results/paper/table2.csv").path)
        XCTAssertEqual(table2.rows.count, 50, "5 rows × 10 optimizers (AdaBelief not found)")
        XCTAssertEqual(table2.rows(dataset: "cifar100", model: "resnet34", metric: "test_error").first { $0.optimizer == "adai" },
                       PaperRow(dataset: "cifar100", model: "resnet34", metric: "test_error", optimizer: "adai", mean: 20.79, std: 0.22))
        let registry: Set<String> = ["adaiw", "adai", "sgdm", "adam", "amsgrad", "adamw", "adabound", "padam", "yogi", "radam"]
        XCTAssertEqual(Set(table2.rows.map(\.optimizer)), registry)
        let v1 = try PaperTable.read(root.appendingPathComponent("results/paper/arxiv-v1.csv").path)
        XCTAssertEqual(v1.rows.count, 36)
        XCTAssertEqual(v1.rows(dataset: "imagenet", model: "resnet50", metric: "top5_error").first { $0.optimizer == "adai" }?.mean, 6.62)
        XCTAssert(v1.rows.allSatisfy { $0.std.isNaN })
        let ptb = try CSVTable.read(root.appendingPathComponent("results/paper/adamomentum-ptb.csv").path)
        XCTAssertEqual(ptb.header, ["optimizer", "layers", "lr", "mean", "std"])
        XCTAssertEqual(ptb.rows.count, 26, "8 optimizers × 3 layer counts + 2 extra AdaBelief lr variants")
    }

    /// The authors' per-epoch curves (every number of their 130 files) give back the recomputed
    /// table: 26 configurations × 5 runs × 200 epochs; min over epochs per run, mean and population
    /// std over runs equal `adamomentum-ptb.csv` at its two decimals.
    func testTheAuthorsPTBCurvesGiveTheirTable() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let curves = try CSVTable.read(root.appendingPathComponent("results/paper/adamomentum-ptb-curves.csv").path)
        XCTAssertEqual(curves.header, ["optimizer", "script_optimizer", "layers", "lr", "eps", "run", "epoch", "train_ppl", "test_ppl"])
        XCTAssertEqual(curves.rows.count, 130 * 200)
        XCTAssert(curves.comments.contains { $0.contains("e715cde47d7f77d0fdb4e083511dec03a6b0ff3c") }, "the commit read is recorded")
        let epoch = try curves.requireColumn("epoch"), test = try curves.requireColumn("test_ppl"), train = try curves.requireColumn("train_ppl")
        let run = try curves.requireColumn("run")
        // (optimizer, layers, lr) → run → the test perplexities in epoch order.
        var groups: [String: [String: [Double]]] = [:]
        for r in curves.rows.indices {
            let row = curves.rows[r]
            let key = "\(row[0]),\(row[2]),\(Double(row[3])!)"
            XCTAssertEqual(Int(row[epoch]), (groups[key]?[row[run]]?.count ?? 0) + 1, "epochs in order at line \(curves.lineNumbers[r])")
            groups[key, default: [:]][row[run], default: []].append(try curves.number(row: r, column: test))
            let trainValue = try curves.number(row: r, column: train)
            XCTAssert(trainValue.isFinite && trainValue > 1, "train perplexity \(trainValue) at line \(curves.lineNumbers[r])")
        }
        XCTAssertEqual(groups.count, 26)
        let table = try CSVTable.read(root.appendingPathComponent("results/paper/adamomentum-ptb.csv").path)
        var checked = 0
        for r in table.rows.indices {
            let row = table.rows[r]
            let runs = try XCTUnwrap(groups["\(row[0]),\(row[1]),\(Double(row[2])!)"], "no curves for \(row)")
            XCTAssertEqual(runs.keys.sorted(), ["0", "1", "2", "3", "4"])
            XCTAssert(runs.values.allSatisfy { $0.count == 200 })
            let best = runs.values.map { $0.min()! }
            let mean = best.reduce(0, +) / Double(best.count)
            let std = (best.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(best.count)).squareRoot()
            XCTAssertEqual(String(format: "%.2f", mean), row[3], "mean of \(row[0]) \(row[1]) layers lr \(row[2])")
            XCTAssertEqual(String(format: "%.2f", std), row[4], "std of \(row[0]) \(row[1]) layers lr \(row[2])")
            checked += 1
        }
        XCTAssertEqual(checked, 26)
    }

    // MARK: Bad inputs: what, where, what to do.

    func testMissingDirectory() {
        let path = results.root.appendingPathComponent("nope").path
        XCTAssertThrowsError(try RunLoader.load(experiment: path)) { error in
            XCTAssertEqual("\(error)", "\(path): no such directory; pass the results directory of an experiment, "
                           + "e.g. results/<name> as written by `adai-bench train`")
        }
    }

    func testDirectoryWithoutRuns() throws {
        let path = results.root.appendingPathComponent("empty").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        XCTAssertThrowsError(try RunLoader.load(experiment: path)) { error in
            XCTAssert("\(error)".hasPrefix("\(path): no runs found"), "\(error)")
            XCTAssert("\(error)".contains("adai-bench train"), "\(error)")
        }
    }

    func testRunsWithoutAFinishedEpoch() throws {
        try results.run(experiment: "fresh", optimizer: "adai", lr: 1, seed: 1, testErrors: [], epochsPlanned: 200, status: "running")
        let path = results.root.appendingPathComponent("fresh").path
        XCTAssertThrowsError(try Compare.compare(experiment: path, paper: try PaperTable.read(try results.paperTable()))) { error in
            XCTAssert("\(error)".contains("none of its 1 runs has finished an epoch"), "\(error)")
        }
    }

    func testMalformedMetricsCSV() throws {
        let run = try results.run(experiment: "bad", optimizer: "adai", lr: 1, seed: 1, testErrors: [10, 5])
        let metrics = run.appendingPathComponent("metrics.csv").path
        try (FabricatedResults.header + "\n1,1,2.0,15,2.4,10,11.5,4761.9\n2,1,1.0,7.5\n").write(toFile: metrics, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try RunLoader.load(experiment: results.root.appendingPathComponent("bad").path)) { error in
            XCTAssertEqual("\(error)", "\(metrics):3: 4 fields where the header has 8 (\(FabricatedResults.header)); fix or remove that line")
        }
        try (FabricatedResults.header + "\n1,1,2.0,15,2.4,ten,11.5,4761.9\n").write(toFile: metrics, atomically: true, encoding: .utf8)
        let runs = try RunLoader.load(experiment: results.root.appendingPathComponent("bad").path)
        XCTAssertThrowsError(try runs[0].finalAndBest()) { error in
            XCTAssertEqual("\(error)", "\(metrics):2: column 'test_error' holds 'ten', which is not a number; fix that field")
        }
    }

    func testMalformedRunJSON() throws {
        let run = try results.run(experiment: "badjson", optimizer: "adai", lr: 1, seed: 1, testErrors: [10])
        let json = run.appendingPathComponent("run.json").path
        try #"{"dataset": "cifar10", "model": "resnet18"}"#.write(toFile: json, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try RunLoader.load(experiment: results.root.appendingPathComponent("badjson").path)) { error in
            XCTAssert("\(error)".hasPrefix("\(json) is damaged (field '"), "\(error)")
            XCTAssert("\(error)".contains("is missing); it is not a run.json written by `adai-bench train`"), "\(error)")
        }
        try #"{"dataset": "cifar10", "#.write(toFile: json, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try RunLoader.load(experiment: results.root.appendingPathComponent("badjson").path)) { error in
            XCTAssert("\(error)".hasPrefix("\(json) is damaged (not valid JSON)"), "\(error)")
        }
    }

    /// A data set and model the paper has no row for (a researcher's own experiment, such as the quick start's
    /// resnet-tiny): our table is written, every row "not in paper", with one line saying the paper has no row.
    func testExperimentWithoutAPaperRowGetsItsOwnTable() throws {
        try results.run(experiment: "r50", model: "resnet50", optimizer: "adai", lr: 1, seed: 1, testErrors: [10])
        try results.run(experiment: "r50", model: "resnet50", optimizer: "sgdm", lr: 1, seed: 1, testErrors: [12])
        let path = results.root.appendingPathComponent("r50").path
        let paper = try results.paperTable()
        let comparisons = try Compare.compare(experiment: path, paper: try PaperTable.read(paper))
        XCTAssertEqual(comparisons.count, 1)
        XCTAssertFalse(comparisons[0].paperHasRow)
        XCTAssertEqual(comparisons[0].rows.map(\.verdict.text), ["not in paper", "not in paper"])
        let line = "The paper (\(paper)) has no row for cifar10/resnet50/test_error: this table is our experiment's alone "
            + "(the paper's rows: cifar10/resnet18/test_error, cifar10/vgg16/test_error)."
        XCTAssertEqual(comparisons[0].noPaperRowLine, line)
        let markdown = Compare.markdown(comparisons)
        XCTAssertTrue(markdown.contains("| adai |"), markdown)
        XCTAssertTrue(markdown.contains(line), markdown)
        XCTAssertTrue(Compare.csv(comparisons).contains("\n# " + line + "\n"))
        let table = ComparisonTable(comparisons)
        XCTAssertTrue(table.latex().contains("\n% " + line + "\n"), table.latex())
        XCTAssertTrue(table.latex().contains("$\\mathbf{10.00}"), "our own numbers are in the table:\n" + table.latex())
        XCTAssertTrue(table.markdown().hasSuffix(line + "\n"))
        XCTAssertTrue(table.csv().hasSuffix("# " + line + "\n"))
        XCTAssertEqual(Compare.exitStatus(comparisons, failOutside: 2), 0, "nothing to be outside of")
        // With a row, no such line.
        try results.run(experiment: "r18", optimizer: "adai", lr: 1, seed: 1, testErrors: [10])
        let withRow = try Compare.compare(experiment: results.root.appendingPathComponent("r18").path, paper: try PaperTable.read(paper))
        XCTAssertNil(withRow[0].noPaperRowLine)
    }

    func testMalformedPaperTable() throws {
        let noMean = try results.write("dataset,model,optimizer,avg,std\ncifar10,resnet18,adai,4.74,0.14\n", to: "p1.csv")
        XCTAssertThrowsError(try PaperTable.read(noMean)) { error in
            XCTAssert("\(error)".hasPrefix("\(noMean): no column 'mean' (a paper table needs dataset,model,optimizer,mean,std"), "\(error)")
        }
        let twice = try results.write("dataset,model,optimizer,mean,std\ncifar10,resnet18,adai,4.74,0.14\ncifar10,resnet18,adai,4.8,0.1\n", to: "p2.csv")
        XCTAssertThrowsError(try PaperTable.read(twice)) { error in
            XCTAssertEqual("\(error)", "\(twice):3: a second row for cifar10/resnet18/adai; keep one")
        }
        XCTAssertThrowsError(try PaperTable.read(results.root.appendingPathComponent("missing.csv").path)) { error in
            XCTAssert("\(error)".contains("missing.csv: no such file; check the path"), "\(error)")
        }
    }
}

final class ComparisonTableTests: XCTestCase {
    private var results: FabricatedResults!

    override func setUpWithError() throws { results = try FabricatedResults() }
    override func tearDownWithError() throws { results.remove() }

    private func table(withPaper: Bool) throws -> ComparisonTable {
        let paper = try PaperTable.read(try results.paperTable())
        let comparisons = try Compare.compare(experiment: try results.comparisonExperiment(), paper: paper)
        return ComparisonTable(comparisons, paperOrder: paper.rows.map(\.optimizer), withPaper: withPaper)
    }

    /// Table 2's layout: columns in the paper's order then ours, best of the row in bold, std as a subscript,
    /// † for runs shorter than the 200-epoch protocol (3 epochs here), the paper's row below ours.
    func testLatexHasTable2Layout() throws {
        let latex = try table(withPaper: true).latex()
        let lines = latex.split(separator: "\n").map(String.init)
        XCTAssert(lines.contains("\\begin{tabular}{lllcccc}"), latex)
        XCTAssert(lines.contains("Dataset & Model &  & adai & sgdm & adam & adabelief \\\\"), latex)
        XCTAssert(lines.contains("cifar10 & resnet18 & ours & $\\mathbf{4.70}_{\\pm 0.14}^{\\dag}$ & $5.30_{\\pm 0.14}^{\\dag}$ & "
                                 + "$5.00_{\\pm 0.14}^{\\dag}$ & $5.00^{\\dag}$ \\\\"), latex)
        XCTAssert(lines.contains(" &  & paper & $\\mathbf{4.74}_{\\pm 0.14}$ & $5.01_{\\pm 0.03}$ & $6.53_{\\pm 0.03}$ & -- \\\\"), latex)
        XCTAssertEqual(lines.last, "\\end{tabular}")
        XCTAssertFalse(try table(withPaper: false).latex().contains("paper &"))
    }

    func testMarkdownAndCSVHaveTheSameLayout() throws {
        let t = try table(withPaper: false)
        let md = t.markdown().split(separator: "\n").map(String.init)
        XCTAssertEqual(md[0], "| dataset | model | adai | sgdm | adam | adabelief |")
        XCTAssertEqual(md[2], "| cifar10 | resnet18 | **4.70** ± 0.14 † | 5.30 ± 0.14 † | 5.00 ± 0.14 † | 5.00 † |")
        let csv = t.csv().split(separator: "\n").map(String.init)
        XCTAssertEqual(csv[0], "dataset,model,source,adai,adai_std,sgdm,sgdm_std,adam,adam_std,adabelief,adabelief_std,best")
        XCTAssert(csv[1].hasPrefix("cifar10,resnet18,ours,4.7,0.141421,5.3,0.141421,5,0.141421,5,,adai"), csv[1])
    }

    func testLatexSpecialCharactersAreEscaped() {
        XCTAssertEqual(ComparisonTable.latexEscaped("adam_w 50% #1 & {x} ~^\\"),
                       "adam\\_w 50\\% \\#1 \\& \\{x\\} \\textasciitilde{}\\textasciicircum{}\\textbackslash{}")
    }
}

import Foundation
import XCTest

/// `adai-bench` as a user runs it: plot and compare formats, the messages of bad options, and every subcommand's error line.
final class CommandLineTests: XCTestCase {
    private var results: FabricatedResults!

    override func setUpWithError() throws { results = try FabricatedResults() }
    override func tearDownWithError() throws { results.remove() }

    /// The adai-bench executable built beside the test bundle (`swift build` builds it).
    private func executable() throws -> String {
        let bundle = Bundle(for: CommandLineTests.self).bundleURL
        let candidates = [bundle, bundle.deletingLastPathComponent()].map { $0.appendingPathComponent("adai-bench").path }
        guard let path = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw NSError(domain: "CommandLineTests", code: 1, userInfo: [NSLocalizedDescriptionKey:
                "adai-bench was not built next to the tests (\(candidates[0])); run `swift build` before `swift test`"])
        }
        return path
    }

    private func run(_ arguments: [String], executable path: String? = nil, in directory: URL? = nil) throws -> (status: Int32, output: String, errors: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try path ?? executable())
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let out = output.fileHandleForReading.readDataToEndOfFile(), err = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
    }

    /// An AWD-LSTM run is compared and drawn beside the authors' runs; a setting they did not run is refused with their list.
    func testAWDLSTMRunsAreComparedWithTheAuthorsRuns() throws {
        let curves = try results.authorsCurves()
        let experiment = try results.awdRun(testPpl: [110, 70, 87])
        let a = try run(["compare", experiment, "--authors-curves", curves])
        XCTAssertEqual(a.status, 0, a.errors)
        XCTAssert(a.output.contains("inside at 1 of 3 epochs; outside at 2 (below), 3 (above)"), a.output)
        let b = try run(["compare", experiment, "--authors-curves", curves, "--fail-outside", "1"])
        XCTAssertEqual(b.status, 1)
        XCTAssert(b.errors.contains("outside the authors' prediction interval"), b.errors)
        let c = try run(["plot", "curves", experiment, "--authors-curves", curves, "--dpi", "72"])
        XCTAssertEqual(c.status, 0, c.errors)
        XCTAssert(c.output.hasPrefix("wrote \(experiment)/curves.png (360×240 px at 72 dpi)\n"), c.output)
        XCTAssert(c.output.contains("inside at 1 of 3 epochs"), c.output)
        let d = try run(["plot", "curves", experiment, "--authors-curves", curves, "--metric", "valid_ppl"])
        XCTAssertNotEqual(d.status, 0)
        XCTAssert(d.errors.contains("beside the authors' runs --metric is test_ppl or train_ppl_window"), d.errors)
        let other = try results.awdRun(experiment: "other", optimizer: "adam", lr: 0.5, eps: 1e-8, testPpl: [100])
        let e = try run(["compare", other, "--authors-curves", curves])
        XCTAssertNotEqual(e.status, 0)
        XCTAssert(e.errors.contains("no configuration of the authors matches adam, 1 layer, lr 0.5, eps 1e-08"), e.errors)
    }

    func testPlotWritesTheFormatOfTheExtensionOrOfFormat() throws {
        let experiment = try results.comparisonExperiment()
        let pdf = results.root.appendingPathComponent("curves.pdf").path
        let a = try run(["plot", "curves", experiment, "--out", pdf, "--width", "234", "--height", "160"])
        XCTAssertEqual(a.status, 0, a.errors)
        XCTAssertEqual(a.output, "wrote \(pdf) (234×160 pt)\n")
        XCTAssertEqual(String(decoding: FileManager.default.contents(atPath: pdf)!.prefix(5), as: UTF8.self), "%PDF-")
        let svg = results.root.appendingPathComponent("figure").path
        let b = try run(["plot", "loss", experiment, "--out", svg, "--format", "svg"])
        XCTAssertEqual(b.status, 0, b.errors)
        XCTAssert(String(decoding: FileManager.default.contents(atPath: svg)!, as: UTF8.self).contains("<svg"))
        let c = try run(["plot", "curves", experiment, "--dpi", "72"])
        XCTAssertEqual(c.status, 0, c.errors)
        XCTAssertEqual(c.output, "wrote \(experiment)/curves.png (360×240 px at 72 dpi)\n")
    }

    /// `collect` reports each optimizer's basin (claim 11) and writes basin.csv; `plot heatmap --basin` outlines it; a
    /// negative distance is refused with what to pass.
    func testCollectReportsTheBasinAndTheHeatmapOutlinesIt() throws {
        for (lr, final) in [(0.1, 6.0), (1, 4.5), (10, 5.25)] {
            try results.run(experiment: "grid", optimizer: "adai", lr: lr, seed: 1, testErrors: [20, final])
        }
        let experiment = results.root.appendingPathComponent("grid").path
        let r = try run(["collect", experiment])
        XCTAssertEqual(r.status, 0, r.errors)
        XCTAssert(r.output.contains("\(experiment)/basin.csv: the basin of each optimizer (docs/claims.md, claim 11)\n"
                                    + "  adai: 2 of 3 cells within 1 of the best cell (lr 1, wd 0.0005: 4.5, mean of 1); per seed 1: 2\n"), r.output)
        XCTAssert(FileManager.default.fileExists(atPath: "\(experiment)/basin.csv"))
        let wide = try run(["collect", experiment, "--basin-distance", "2"])
        XCTAssert(wide.output.contains("adai: 3 of 3 cells within 2"), wide.output)
        let bad = try run(["collect", experiment, "--basin-distance=-1"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertEqual(bad.errors, "error: --basin-distance -1.0: must be a number ≥ 0 in the metric's units (e.g. 1 for 1 percentage point of test error)\n")
        let plot = try run(["plot", "heatmap", experiment, "--optimizer", "adai", "--basin"])
        XCTAssertEqual(plot.status, 0, plot.errors)
        XCTAssert(FileManager.default.fileExists(atPath: "\(experiment)/heatmap-adai.png"))
        XCTAssertEqual(try run(["plot", "heatmap", experiment, "--optimizer", "adai", "--basin-distance", "0.5"]).status, 0)
        let badPlot = try run(["plot", "heatmap", experiment, "--optimizer", "adai", "--basin-distance=-1"])
        XCTAssertNotEqual(badPlot.status, 0)
        XCTAssert(badPlot.errors.hasPrefix("error: the basin distance must be a number ≥ 0 in the metric's units (e.g. 1 for 1 percentage point of test error), got -1.0"), badPlot.errors)
    }

    /// `model summary` of an AWD-LSTM names the weight-drop variant; an unknown variant is refused with the two choices.
    func testTheAWDLSTMWeightDropVariantIsAnOption() throws {
        for variant in ["authors", "correct"] {
            let r = try run(["model", "summary", "--model", "awd-lstm-tiny", "--weight-drop", variant])
            XCTAssertEqual(r.status, 0, r.errors)
            XCTAssert(r.output.contains("LSTM 6→10, weight drop 0.5 (\(variant))"), r.output)
        }
        let bad = try run(["model", "summary", "--model", "awd-lstm-tiny", "--weight-drop", "fixed"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssert(bad.errors.contains("error: --weight-drop must be authors or correct, got \"fixed\""), bad.errors)
    }

    func testBadPlotOptionsSayWhatToDo() throws {
        let experiment = try results.comparisonExperiment()
        let cases: [([String], String)] = [
            (["plot", "curves", experiment, "--dpi", "20"], "error: --dpi must be 36...1200, got 20"),
            (["plot", "curves", experiment, "--out", "x.jpg"], "error: --out x.jpg: unknown extension; use .png, .pdf or .svg, or pass --format"),
            (["plot", "curves", experiment, "--format", "eps"], "error: The value 'eps' is invalid for '--format <format>'"),
            (["plot", "loss", experiment, "--width", "50"], "error: --width must be 150...2000 and --height 100...2000 points, got 50×240"),
            (["compare", experiment, "--format", "latex", "--layout", "detail"],
             "error: --format latex has only the table layout; drop --layout detail or use --format md"),
            (["compare", experiment, "--with-paper"],
             "error: --with-paper belongs to the table layout; add --layout table (the detail layout always shows the paper)"),
        ]
        for (arguments, message) in cases {
            let r = try run(arguments)
            XCTAssertNotEqual(r.status, 0, arguments.joined(separator: " "))
            XCTAssert(r.errors.hasPrefix(message), "\(arguments.joined(separator: " ")): \(r.errors)")
        }
    }

    /// Every subcommand ends a failure the same way: one line on stderr that starts with `error:` and a non-zero status
    /// (2 for a bad config, 64 for a bad option, 1 otherwise), whether the error comes from the options or from the run.
    /// A binary installed by scripts/install.sh finds the paper's tables in share/adai-bench beside its bin/ from any
    /// working directory; a working directory with its own results/paper/ takes precedence; with neither, the error
    /// names the file.
    func testAnInstalledBinaryFindsThePaperTablesBesideIt() throws {
        let experiment = try results.comparisonExperiment()
        let fm = FileManager.default
        func install(_ name: String, withShare: Bool) throws -> String {
            let prefix = results.root.appendingPathComponent(name)
            try fm.createDirectory(at: prefix.appendingPathComponent("bin"), withIntermediateDirectories: true)
            let binary = prefix.appendingPathComponent("bin/adai-bench").path
            try fm.copyItem(atPath: try executable(), toPath: binary)
            if withShare {
                let paper = prefix.appendingPathComponent("share/adai-bench/results/paper")
                try fm.createDirectory(at: paper, withIntermediateDirectories: true)
                try fm.copyItem(atPath: try results.paperTable(), toPath: paper.appendingPathComponent("table2.csv").path)
            }
            return binary
        }
        let elsewhere = results.root.appendingPathComponent("elsewhere")
        try fm.createDirectory(at: elsewhere, withIntermediateDirectories: true)

        let installed = try install("prefix", withShare: true)
        let a = try run(["compare", experiment], executable: installed, in: elsewhere)
        XCTAssertEqual(a.status, 0, a.errors)
        XCTAssert(a.output.contains("4.74"), "the installed table's adai row: \(a.output)")

        let own = elsewhere.appendingPathComponent("results/paper")
        try fm.createDirectory(at: own, withIntermediateDirectories: true)
        try "dataset,model,optimizer,mean,std\ncifar10,resnet18,adai,9.87,0.11\n".write(to: own.appendingPathComponent("table2.csv"), atomically: true, encoding: .utf8)
        let b = try run(["compare", experiment], executable: installed, in: elsewhere)
        XCTAssertEqual(b.status, 0, b.errors)
        XCTAssert(b.output.contains("9.87") && !b.output.contains("4.74"), "the working directory's table wins: \(b.output)")
        try fm.removeItem(at: own)

        let bare = try install("bare", withShare: false)
        let c = try run(["compare", experiment], executable: bare, in: elsewhere)
        XCTAssertEqual(c.status, 1)
        XCTAssert(c.errors.hasPrefix("error: results/paper/table2.csv"), c.errors)
    }

    func testEverySubcommandReportsAnErrorOnOneLine() throws {
        let missing = "/nonexistent-adai-bench"
        let scratch = results.root.path
        // Two blank CIFAR-10 images, so that `data bench` reads them instead of writing synthetic ones first.
        let cifar = "\(scratch)/cifar"
        try FileManager.default.createDirectory(atPath: cifar, withIntermediateDirectories: true)
        try Data(count: 2 * 3073).write(to: URL(fileURLWithPath: "\(cifar)/data_batch_1.bin"))
        let cases: [(arguments: [String], status: Int32, message: String)] = [
            (["train", "--config", "\(missing)/c.json"], 2, "error: \(missing)/c.json: cannot read the file; check the path"),
            (["sweep", "--plan", "--calibration-steps", "0", "--config", "configs/quickstart.json"], 64,
             "error: --calibration-steps must be at least 1, got 0\n"),
            (["collect", missing], 1, "error: \(missing): no such directory; pass the results directory of an experiment"),
            (["data", "synth", "--kind", "cifar10", "--out", "/dev/null/x"], 1, "error: /dev/null/x/cifar-10-batches-bin: cannot write the file"),
            (["data", "stats", "--dataset", "cifar10", "--data-dir", missing], 1, "error: CIFAR-10: data directory \(missing) does not exist"),
            (["data", "bench", "--data-dir", cifar, "--batch-size", "0"], 1, "error: batch size must be at least 1, got 0"),
            (["model", "summary", "--model", "nope"], 1, "error: unknown model \"nope\"; known models: "),
            (["model", "init", "--model", "nope", "--seed", "1", "--out", "\(scratch)/w.safetensors"], 1, "error: unknown model \"nope\""),
            (["model", "grad", "--model", "resnet-tiny", "--weights", "\(missing)/w.safetensors", "--dataset", "cifar10",
              "--data-dir", missing, "--first", "1", "--out", "\(scratch)/g.csv"], 1, "error: CIFAR-10: data directory \(missing) does not exist"),
            (["optimize", "--function", "nope", "--dim", "1", "--optimizer", "adai", "--steps", "1", "--init", "0"], 1,
             "error: unknown function 'nope'; known functions: rosenbrock, styblinski-tang, quadratic, saddle\n"),
            (["compare", missing], 1, "error: \(missing): no such directory"),
            (["diff", "\(missing)/a.csv", "\(missing)/b.csv"], 1, "error: \(missing)/a.csv: no such file"),
            (["plot", "curves", missing], 1, "error: \(missing): no such directory"),
            (["bench", "--model", "nope", "--steps", "1"], 1, "error: unknown model \"nope\""),
            (["escape", "--optimizer", "nope"], 1, "error: optimizer 'nope': unknown optimizer 'nope'"),
            (["hessian"], 1, "error: give exactly one of --run DIR or --weights FILE\n"),
            (["sharpness"], 1, "error: give exactly one of --run DIR or --weights FILE\n"),
            (["saddle", "--optimizer", "nope"], 1, "error: optimizer 'nope': unknown optimizer 'nope'"),
            (["noise", "--out", "\(scratch)/noise", "--batch-sizes", "4"], 1, "error: --batch-sizes needs at least two batch sizes"),
            (["reproduce", "--scale", "huge"], 64, "error: --scale huge: unknown; use one of smoke, small, medium, paper\n"),
            // ArgumentParser's own parse errors take the same shape.
            (["train", "--no-such-option"], 64, "error: Unknown option '--no-such-option'"),
        ]
        for (arguments, status, message) in cases {
            let r = try run(arguments)
            let command = arguments.joined(separator: " ")
            XCTAssertEqual(r.status, status, "\(command): \(r.errors)")
            XCTAssert(r.errors.hasPrefix(message), "\(command): \(r.errors)")
            XCTAssertEqual(r.errors.filter { $0 == "\n" }.count, 1, "\(command): one line, got \(r.errors)")
        }
    }

    /// A config with several problems lists them one per line after the `error:` line, and exits 2.
    func testAConfigsProblemsFollowTheErrorLine() throws {
        let config = results.root.appendingPathComponent("bad.json").path
        try Data(#"{"name": "x", "bogus": 1}"#.utf8).write(to: URL(fileURLWithPath: config))
        let r = try run(["train", "--config", config])
        XCTAssertEqual(r.status, 2, r.errors)
        let lines = r.errors.split(separator: "\n", omittingEmptySubsequences: false)
        XCTAssertEqual(lines.first.map(String.init), "error: \(config): 5 problems:", r.errors)
        XCTAssert(lines.dropFirst().dropLast().allSatisfy { $0.hasPrefix("  ") }, r.errors)
        XCTAssert(r.errors.contains("  bogus: unknown key"), r.errors)
    }
}

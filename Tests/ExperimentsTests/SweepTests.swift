@testable import Experiments
import Foundation
import RunFormat
import Reports
import TestSupport
import XCTest

/// A tiny experiment with a sweep: sgdm over 2 learning rates × 2 seeds (4 runs), adam left out.
func tinySweepJSON(name: String = "tiny", epochs: Int = 2, sweep: String = #"{"lr": {"sgdm": [0.05, 0.1]}, "seeds": [1, 2], "optimizers": ["sgdm"]}"#) -> String {
    tinyConfigJSON(name: name, epochs: epochs, optimizers: #"[{"name": "sgdm", "lr": 0.05, "weightDecay": 5e-4}, {"name": "adam", "lr": 0.001}]"#)
        .replacingOccurrences(of: #""optimizers": [{"#, with: #""sweep": \#(sweep), "optimizers": [{"#)
}

final class SweepTests: XCTestCase {
    private var directory: String!

    override func setUpWithError() throws { directory = try makeTemporaryDirectory("sweep") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: directory) }

    private func options() -> TrainOptions {
        var o = TrainOptions()
        o.results = directory
        o.maxSteps = 2
        o.liveProgress = false
        o.log = { _ in }
        return o
    }

    private func sweepErrors(_ json: String, file: StaticString = #filePath, line: UInt = #line) -> [String] {
        do {
            _ = try parseConfig(json).sweepGrid()
            XCTFail("the sweep was accepted", file: file, line: line)
        } catch let error as ConfigError {
            return error.problems
        } catch {
            XCTFail("unexpected error \(error)", file: file, line: line)
        }
        return []
    }

    func testGridIsTheCartesianProductPerOptimizerInAStableOrder() throws {
        let json = tinyConfigJSON(optimizers: #"""
            [{"name": "adai", "lr": 1, "weightDecay": 5e-4}, {"name": "sgdm", "lr": 0.1, "weightDecay": 5e-4},
             {"name": "adam", "lr": 0.001, "weightDecay": 5e-4}]
            """#).replacingOccurrences(of: #""optimizers": ["#, with: #"""
            "sweep": {"lr": {"adai": [0.3, 1], "sgdm": [0.1]}, "weightDecay": [1e-4, 5e-4], "seeds": [1, 2],
                      "adam": {"weightDecay": [0], "eps": [1e-8, 1e-6]}},
            "optimizers": [
            """#)
        let grid = try parseConfig(json).sweepGrid()
        XCTAssertEqual(grid.runs.map(\.id), [
            "adai-lr0.3-wd0.0001/seed-1", "adai-lr0.3-wd0.0001/seed-2", "adai-lr0.3-wd0.0005/seed-1", "adai-lr0.3-wd0.0005/seed-2",
            "adai-lr1-wd0.0001/seed-1", "adai-lr1-wd0.0001/seed-2", "adai-lr1-wd0.0005/seed-1", "adai-lr1-wd0.0005/seed-2",
            "sgdm-lr0.1-wd0.0001/seed-1", "sgdm-lr0.1-wd0.0001/seed-2", "sgdm-lr0.1-wd0.0005/seed-1", "sgdm-lr0.1-wd0.0005/seed-2",
            // adam: its own weight-decay list overrides the global one; eps is swept and joins the id.
            "adam-lr0.001-wd0-eps1e-08/seed-1", "adam-lr0.001-wd0-eps1e-08/seed-2",
            "adam-lr0.001-wd0-eps1e-06/seed-1", "adam-lr0.001-wd0-eps1e-06/seed-2",
        ])
        let adam = grid.runs[14]
        XCTAssertEqual(adam.optimizer.options["eps"], .number(1e-6))
        XCTAssertEqual(adam.optimizer.weightDecay, 0)
        XCTAssertEqual(adam.directory(results: "results"), "results/tiny/adam-lr0.001-wd0-eps1e-06/seed-1")

        // `optimizers` restricts the grid; without a sweep section the grid is train's runs.
        let restricted = try parseConfig(tinySweepJSON()).sweepGrid()
        XCTAssertEqual(restricted.runs.map(\.id), ["sgdm-lr0.05-wd0.0005/seed-1", "sgdm-lr0.05-wd0.0005/seed-2",
                                                   "sgdm-lr0.1-wd0.0005/seed-1", "sgdm-lr0.1-wd0.0005/seed-2"])
        XCTAssertThrowsError(try restricted.run(index: 4)) { error in
            XCTAssertEqual("\(error)", "--index 4: the sweep of tiny has 4 runs, numbered 0 to 3; `adai-bench sweep --plan` lists them")
        }
    }

    func testIdsAreStableAndEqualTrainsDirectories() throws {
        let plain = try parseConfig(tinyConfigJSON())
        XCTAssertEqual(try plain.sweepGrid().runs.map(\.id), plain.runs.map(\.id))
        XCTAssertEqual(try plain.sweepGrid().runs.map { $0.directory(results: "r") }, plain.runs.map { $0.directory(results: "r") })
        // The same grid written in another key order gives the same runs in the same order.
        let a = try parseConfig(tinySweepJSON(sweep: #"{"lr": [0.1, 0.05], "weightDecay": [0, 1e-4], "seeds": [3, 1]}"#)).sweepGrid()
        let b = try parseConfig(tinySweepJSON(sweep: #"{"seeds": [3, 1], "weightDecay": [0, 1e-4], "lr": [0.1, 0.05]}"#)).sweepGrid()
        XCTAssertEqual(a.runs.map(\.id), b.runs.map(\.id))
        XCTAssertEqual(a.runs.count, 16)
        XCTAssertEqual(a.runs.first?.id, "sgdm-lr0.1-wd0/seed-3")
        // A sweep's run and train's run of the same settings share the directory.
        let trained = try parseConfig(tinySweepJSON()).applying({ var o = TrainOverrides(); o.optimizer = "sgdm"; o.lr = 0.1; o.seed = 2; return o }())
        XCTAssertEqual(trained.runs.map(\.id), ["sgdm-lr0.1-wd0.0005/seed-2"])
        XCTAssertTrue(try parseConfig(tinySweepJSON()).sweepGrid().runs.map(\.id).contains(trained.runs[0].id))
    }

    func testBadSweepsAreReportedWithWhatToDo() throws {
        XCTAssertEqual(sweepErrors(tinySweepJSON(sweep: #"{"optimizers": ["adai"]}"#)),
                       [#"sweep.optimizers: "adai" has no entry in "optimizers"; add {"name": "adai", ...} there or remove it from the sweep (the config has sgdm, adam)"#])
        XCTAssertEqual(sweepErrors(tinySweepJSON(sweep: #"{"lr": {"adai": [1]}}"#)),
                       [#"sweep.lr.adai: the config has no "adai" entry in "optimizers"; add one or remove this list"#])
        XCTAssertEqual(sweepErrors(tinySweepJSON(sweep: #"{"lr": {"sgdm": [-1]}, "optimizers": ["sgdm"]}"#)),
                       ["sweep: sgdm with lr=-1: sgdm: lr must be > 0, got -1.0"])
        let bogus = sweepErrors(tinySweepJSON(sweep: #"{"momentum": {"sgdm": [-1]}, "optimizers": ["sgdm"]}"#))
        XCTAssertEqual(bogus.count, 1)
        XCTAssertTrue(bogus.first?.hasPrefix("sweep: sgdm with momentum=-1: ") ?? false, "\(bogus)")
        let duplicate = tinyConfigJSON(optimizers: #"[{"name": "adam", "lr": 0.001, "eps": 1e-8}, {"name": "adam", "lr": 0.001, "eps": 1e-6}]"#)
        XCTAssertEqual(sweepErrors(duplicate), [#"sweep: runs 0 and 1 both have the id adam-lr0.001-wd0/seed-1 (two "adam" entries that differ only in keys the id leaves out); give them different lr or weight decay, or sweep the differing key so that it joins the id"#])
        // Shapes are checked when the config is read.
        XCTAssertEqual(configProblems(tinySweepJSON(sweep: #"{"optimizers": "sgdm", "seeds": [1.5]}"#)),
                       [#"sweep.optimizers: must be a non-empty list of optimizer names, e.g. ["adai", "sgdm"], got "sgdm""#,
                        "sweep.seeds: must be a non-empty list of whole numbers >= 0, got a list"])
        XCTAssertEqual(configProblems(tinySweepJSON(sweep: #"{"slurm": {"cpus": 4}, "sgdm": {"seeds": [1]}}"#)),
                       [#"sweep.sgdm.seeds: "seeds" belongs at the top of "sweep", not under an optimizer"#,
                        "sweep.slurm.cpus: unknown key; valid keys here: cpusPerTask, mem, time, partition, account, concurrency, options"])
    }

    func testFinishedRunsAreSkippedLockedRunsLeftAloneAndFailuresRecorded() throws {
        let grid = try parseConfig(tinySweepJSON()).sweepGrid()
        let run = grid.runs[0]
        XCTAssertEqual(grid.states(results: directory)[0], .left(epochs: 0))
        // Another holder of the lock: the worker leaves the run alone and --plan shows it running.
        let runDirectory = run.directory(results: directory)
        let lock = try XCTUnwrap(try RunLock.acquire(RunDirectory(runDirectory)))
        guard case .heldElsewhere(let holder) = try SweepWorker.train(run, options: options()) else { return XCTFail("trained a locked run") }
        XCTAssertTrue(holder.hasPrefix("pid \(getpid()) on "), holder)
        XCTAssertEqual(grid.states(results: directory)[0], .running(holder: holder))
        XCTAssertNil(try? RunDirectory(runDirectory).readAttempts().first)
        lock.release()

        XCTAssertEqual(try SweepWorker.train(run, options: options()), .completed)
        XCTAssertEqual(try SweepWorker.train(run, options: options()), .alreadyDone(.completed))
        XCTAssertEqual(grid.states(results: directory)[0], .done(.completed))
        let attempts = try RunDirectory(runDirectory).readAttempts()
        XCTAssertEqual(attempts.map(\.status), [.completed])
        XCTAssertEqual(attempts.map(\.fromEpoch), [0])

        // A run whose data is missing fails; the failure and its message are in run.json, and the next run still trains.
        let broken = try parseConfig(tinySweepJSON().replacingOccurrences(
            of: #""synthetic": {"train": 384, "test": 128, "seed": 3}"#, with: #""dir": "\#(directory!)/no-data""#)).sweepGrid()
        guard case .failed(let message) = try SweepWorker.train(broken.runs[1], options: options()) else { return XCTFail("did not fail") }
        XCTAssertTrue(message.contains("scripts/download-data.sh cifar10"), message)
        let record = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(broken.runs[1].directory(results: directory))/run.json"))) as! [String: Any]
        XCTAssertEqual(record["status"] as? String, "failed")
        XCTAssertEqual(record["error"] as? String, message)
        XCTAssertEqual(grid.states(results: directory)[1], .failed(message))
        XCTAssertEqual(try SweepWorker.train(grid.runs[1], options: options()), .completed)

        // collect: one row for the setting, both seeds done; a failed run of another setting is counted, not averaged.
        try SweepWorker.recordFailure(grid.runs[2], message: "out of memory", results: directory)
        let settings = try Collect.settings(experiment: "\(directory!)/tiny")
        XCTAssertEqual(settings.map(\.name), ["sgdm-lr0.05-wd0.0005", "sgdm-lr0.1-wd0.0005"])
        XCTAssertEqual(settings[0].seedsDone, [1, 2])
        XCTAssertEqual(settings[1].seedsDone, [])
        XCTAssertEqual(settings[1].statuses, ["failed": 1])
        let rows = Collect.csv(settings).split(separator: "\n")
        XCTAssertEqual(rows[0], "setting,optimizer,lr,weight_decay,metric,seeds_done,seeds,final_mean,final_std,best_mean,best_std,completed,diverged,failed,interrupted,running,other,epochs_planned")
        XCTAssertTrue(rows[1].hasPrefix("sgdm-lr0.05-wd0.0005,sgdm,0.05,0.0005,test_error,2,1 2,"), String(rows[1]))
        XCTAssertTrue(rows[1].hasSuffix(",2,0,0,0,0,0,2"), String(rows[1]))
        XCTAssertEqual(rows[2], "sgdm-lr0.1-wd0.0005,sgdm,0.1,0.0005,test_error,0,,,,,,0,0,1,0,0,0,2")
        XCTAssertThrowsError(try Collect.settings(experiment: "\(directory!)/nothing")) { error in
            XCTAssertTrue("\(error)".contains("no such directory; pass the results directory of an experiment"), "\(error)")
        }
    }

    /// sweep.slurm.options reach the script (they were refused as an unknown key before).
    func testSlurmOptionsFromTheConfigAreAccepted() throws {
        let grid = try parseConfig(tinySweepJSON(sweep: #"{"seeds": [1], "slurm": {"cpusPerTask": 2, "options": ["--qos=long", "--signal=B:CONT@1"]}}"#)).sweepGrid()
        XCTAssertEqual(grid.slurm.options, ["--qos=long", "--signal=B:CONT@1"])
        XCTAssertEqual(grid.slurm.cpusPerTask, 2)
        XCTAssertEqual(configProblems(tinySweepJSON(sweep: #"{"slurm": {"options": "--qos=long"}}"#)),
                       [#"sweep.slurm.options: must be a list of sbatch options such as ["--qos=long"], got "--qos=long""#])
    }

    func testSlurmScriptHasOneTaskPerUnfinishedRun() throws {
        var settings = SlurmSettings()
        settings.cpusPerTask = 4
        settings.time = "1-00:00:00"
        settings.concurrency = 2
        settings.options = ["--qos=long"]
        let grid = try parseConfig(tinySweepJSON()).sweepGrid()
        var slurm = SlurmSweep(grid: grid, settings: settings, executable: "/opt/adai-bench", configPath: "/w/tiny.json",
                               results: "/w/results", workingDirectory: "/w")
        slurm.workerArguments = ["--epochs", "3"]
        XCTAssertEqual(SlurmSweep.arraySpec([0, 1, 2, 5, 7, 8]), "0-2,5,7-8")
        let script = slurm.script(indices: [0, 2, 3])
        for line in ["#SBATCH --array=0,2-3%2", "#SBATCH --cpus-per-task=4", "#SBATCH --time=1-00:00:00", "#SBATCH --qos=long",
                     "#SBATCH --output=/w/results/tiny/slurm/%A_%a.out", "#SBATCH --requeue", "RUN_ID[2]='sgdm-lr0.1-wd0.0005/seed-1'",
                     #"exec /opt/adai-bench sweep --config /w/tiny.json --results /w/results --epochs 3 --index "$SLURM_ARRAY_TASK_ID" --expect-id "${RUN_ID[$SLURM_ARRAY_TASK_ID]}" --threads "${SLURM_CPUS_PER_TASK:-4}""#] {
            XCTAssertTrue(script.split(separator: "\n").contains(Substring(line)), "missing \(line) in\n\(script)")
        }
        XCTAssertFalse(script.contains("RUN_ID[1]"))
        XCTAssertThrowsError(try slurm.submit(indices: [0], sbatch: "/nonexistent/sbatch")) { error in
            XCTAssertTrue("\(error)".hasPrefix("/nonexistent/sbatch not found on PATH; run this on a Slurm login node, or pass --dry-run"), "\(error)")
        }
    }

    // MARK: - Processes

    private func writeConfig(_ json: String) throws -> String {
        let path = "\(directory!)/sweep.json"
        try json.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    private func sweepArguments(config: String, results: String) -> [String] {
        ["sweep", "--config", config, "--results", results, "--workers", "2", "--threads", "2", "--max-steps", "3"]
    }

    private func runDirectories(_ results: String, _ grid: SweepGrid) -> [String] { grid.runs.map { $0.directory(results: results) } }

    /// A Slurm task whose run changed since submission (the config was edited) stops with a message.
    func testATaskForAnotherRunIdRefusesToRun() throws {
        guard let executable = adaiBenchExecutable() else { return }
        let config = try writeConfig(tinySweepJSON())
        let log = "\(directory!)/task.log"
        let pid = try ChildProcess.spawn(executable, ["sweep", "--config", config, "--results", "\(directory!)/results",
                                                      "--index", "1", "--expect-id", "sgdm-lr0.3-wd0.0005/seed-2"], outputFile: log)
        XCTAssertEqual(ChildProcess.wait(pid), .exited(1))
        XCTAssertEqual(try String(contentsOfFile: log, encoding: .utf8),
                       "error: --index 1 is sgdm-lr0.05-wd0.0005/seed-2 in \(config), but this task was submitted for sgdm-lr0.3-wd0.0005/seed-2; the config's grid changed since submission, so submit the sweep again\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(directory!)/results/tiny/sgdm-lr0.05-wd0.0005"))
    }

    /// Two sweeps started at once on the same results: every run trained by exactly one worker, once.
    func testTwoSweepsStartedTogetherNeverTrainARunTwice() throws {
        guard let executable = adaiBenchExecutable() else { return }
        let config = try writeConfig(tinySweepJSON(epochs: 2))
        let results = "\(directory!)/results"
        let logs = (0..<2).map { "\(directory!)/sweep-\($0).log" }
        let pids = try logs.map { try ChildProcess.spawn(executable, sweepArguments(config: config, results: results), outputFile: $0) }
        let endings = pids.map(ChildProcess.wait)
        let output = logs.map { (try? String(contentsOfFile: $0, encoding: .utf8)) ?? "" }.joined()
        XCTAssertEqual(endings, [.exited(0), .exited(0)], output)
        let grid = try ExperimentConfig.load(path: config).sweepGrid()
        var trainedBy: Set<Int32> = []
        for dir in runDirectories(results, grid) {
            let attempts = try RunDirectory(dir).readAttempts()
            XCTAssertEqual(attempts.count, 1, "\(dir) was trained \(attempts.count) times")
            XCTAssertEqual(attempts.first?.status, .completed)
            XCTAssertEqual(attempts.first?.fromEpoch, 0)
            trainedBy.insert(attempts.first?.pid ?? 0)
            XCTAssertEqual(RunDirectory(dir).status(), .completed)
            XCTAssertEqual(try MetricsTable.read(path: "\(dir)/metrics.csv").column("epoch"), [1, 2])
        }
        XCTAssertEqual(trainedBy.count, grid.runs.count)  // one worker process per run
    }
}

final class ShippedSweepTests: XCTestCase {
    /// Every config in configs/ reads and its sweep expands; cifar10-resnet18's is the lr × wd grid of Adai, SGD-M and Adam.
    func testEveryShippedConfigExpands() throws {
        let configs = Repository.path("configs")
        let files = try FileManager.default.contentsOfDirectory(atPath: configs).filter { $0.hasSuffix(".json") }.sorted()
        XCTAssertTrue(files.contains("cifar10-resnet18.json"))
        for file in files {
            let grid = try ExperimentConfig.load(path: "\(configs)/\(file)").sweepGrid()
            XCTAssertFalse(grid.runs.isEmpty, file)
        }
        let grid = try ExperimentConfig.load(path: "\(configs)/cifar10-resnet18.json").sweepGrid()
        XCTAssertEqual(grid.runs.count, 3 * 4 * 2 * 3)
        XCTAssertEqual(Set(grid.runs.map(\.optimizer.name)), ["adai", "sgdm", "adam"])
    }
}

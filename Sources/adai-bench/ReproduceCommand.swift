import ArgumentParser
import Engine
import Experiments
import Foundation
import RunFormat
import Reports
import Reproduction

struct ReproduceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reproduce",
        abstract: "Test the paper's claims (docs/claims.md) at a chosen scale and write a report with a verdict per claim.",
        discussion: """
            Runs, or reuses, the training runs and analyses each claim needs through the sweep machinery (finished \
            runs are skipped, interrupted ones resume), applies the decision rules of docs/claims.md to the results \
            files, and writes <results>/REPORT.md, report.json and a figure per claim. Scales (Sources/Reproduction/Scales.swift): \
            smoke (synthetic data, tiny models, a few minutes: checks the machinery), small (the real CIFAR-10 files and \
            Penn Treebank at hand, reduced to about 2 hours of 2 cores), medium (the full CIFAR-10 with the real ResNet18, \
            a workstation night or a cluster day), paper (the paper's protocol, for a cluster). \
            --plan lists the runs, CPU-hours and design checks per claim; --backend slurm submits the training stages as job \
            arrays (--dry-run prints them); run reproduce again once they finish to run the analyses and write the report. \
            The Slurm options, when any is given, replace the configs' sweep.slurm settings as a whole.

            Each verdict is supported, contradicted or inconclusive, with its kind (effect below the margin; contradicted \
            because reversed or equivalent; inconclusive because underpowered, scale too small, tuning not converged, runs \
            failed, or the design cannot discriminate) and its scope (settings, steps, seeds or repeats compared). The \
            synthetic claims check their design before running: a design whose repeats cannot tell the paper's prediction \
            from the alternative is refused with its numbers.

            Claims (--claims takes their identifiers):
            """ + Claims.all.map { "\n  \($0.id). \($0.title) [\($0.needs.map(\.rawValue).joined(separator: ", "))]" }.joined())

    @Option(help: "smoke, small, medium or paper.")
    var scale: String

    @Option(help: "Only these claims, e.g. 3,6 (default: all; the list is below).")
    var claims: String?

    @Flag(help: "List the runs and estimated CPU-hours per claim; trains nothing.")
    var plan = false

    @Option(help: "Where the training runs go: local (worker processes here) or slurm (job arrays).")
    var backend: SweepCommand.Backend = .local

    @Flag(name: .customLong("dry-run"), help: "Slurm: print the sbatch scripts instead of submitting them.")
    var dryRun = false

    // --out is the name this option had before every command wrote to --results; scripts that pass it still work.
    @Option(name: [.customLong("results"), .customLong("out")],
            help: "Where the runs, the report and its figures go (default: results/reproduce-<scale>); --out is its old spelling.")
    var results: String?

    @Option(help: "Directory that holds cifar-10-batches-bin, cifar-100-binary and ptb (small and paper scales).")
    var data: String = "data"

    @Option(help: ArgumentHelp("Where configs/ and results/paper/ are.",
                               discussion: "Default: the working directory when it has configs/, else the installation or checkout the binary comes from."))
    var repository: String?

    /// The directory with the paper's configs and tables (`ProjectFiles`), absolute.
    var repositoryRoot: String { absolute(repository ?? ProjectFiles.root(holding: "configs") ?? ".") }

    @Option(help: "Threads in all (default: all cores).")
    var threads: Int?

    @Option(name: .customLong("calibration-steps"), help: "--plan: training steps timed per model for the estimate.")
    var calibrationSteps: Int = 2

    @OptionGroup var slurmOptions: SlurmOptions

    func validate() throws {
        do {
            _ = try ReproductionScale.parse(scale)
            _ = try Claims.parse(claims)
        } catch let error as ReproductionError {
            throw ValidationError(error.description)
        }
        if dryRun && backend != .slurm { throw ValidationError("--dry-run goes with --backend slurm") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
        if calibrationSteps < 1 { throw ValidationError("--calibration-steps must be at least 1, got \(calibrationSteps)") }
    }

    func claimSet() throws -> Set<String> { try Claims.parse(claims) }

    func run() throws {
        let scale = ReproductionScale.named(self.scale)!
        let outDirectory = absolute(results ?? "results/reproduce-\(scale.name)")
        let total = threads ?? ProcessInfo.processInfo.activeProcessorCount
        Parallel.setThreadCount(total)
        var runner = ReproductionRunner(scale: scale, out: outDirectory, dataRoot: absolute(data), repositoryRoot: repositoryRoot,
                                        executable: ChildProcess.currentExecutable(), threads: total, claims: try claimSet())
        runner.log = { print($0); fflush(stdout) }
        runner.dataLabel = data
        if plan {
            print(try runner.planText(calibrationSteps: calibrationSteps), terminator: "")
            return
        }
        if backend == .slurm { return try slurm(runner) }
        StopSignals.install()
        let paperTable = try? PaperTable.read("\(repositoryRoot)/results/paper/table2.csv")
        let (verdicts, training, cells, tau, power, figures) = try runner.runAll(paperTable: paperTable)
        let formatter = ISO8601DateFormatter()
        let report = ReproductionReport(
            scale: scale.name, summary: scale.summary,
            command: "adai-bench " + CommandLine.arguments.dropFirst().joined(separator: " "),
            commit: Provenance.gitCommit(), writtenAt: formatter.string(from: Date()),
            paperVsThisRun: try runner.paperComparison(), reductions: runner.reductions, openPoints: scale.openPoints,
            claims: verdicts, training: training, table2Cells: cells, kendallTau: tau,
            paperGapPower: power, figures: figures)
        try ReportWriter.write(report, to: outDirectory)
        for v in verdicts { print("claim \(v.claim): \(v.verdict.rawValue) (\(v.kind.rawValue))") }
        print("wrote \(outDirectory)/REPORT.md and report.json")
    }

    private func slurm(_ runner: ReproductionRunner) throws {
        let settings = slurmOptions.isEmpty ? nil : slurmOptions.applied(to: SlurmSettings())
        for (name, sweep, indices, note) in try runner.slurmArrays(settings: settings) {
            guard !indices.isEmpty else { print("# \(name): nothing to submit (\(note) is done or running)"); continue }
            if dryRun {
                print("# ---- \(name): \(note)")
                print(sweep.script(indices: indices), terminator: "")
            } else {
                let (jobID, script) = try sweep.submit(indices: indices)
                print("\(name): submitted job array \(jobID) (\(indices.count) tasks, \(note)); script \(script)")
            }
        }
        print("# the analyses (escape, saddle, Hessian) and the report run where `adai-bench reproduce --scale \(runner.scale.name)` runs, once the arrays have finished")
    }
}

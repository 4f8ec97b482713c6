import ArgumentParser
import Foundation
import Reports

/// `adai-bench diff A.csv B.csv`: where two metric files part.
struct DiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Compare two metric CSVs row by row: per column the largest difference and the first epoch where they part.",
        discussion: """
            Works on metrics.csv and curves.csv files (docs/RESULTS.md). Rows are paired in order and named by \
            their epoch (and optimizer, lr, weight_decay, seed in curves.csv). Timing columns (epoch_seconds, \
            examples_per_second, tokens_per_second) are left out unless --include-timing. Exit status 0 when the \
            files agree within the tolerance, 1 when they differ (also when their row counts or columns differ).
            """)

    @Argument(help: "The first CSV file.")
    var a: String

    @Argument(help: "The second CSV file.")
    var b: String

    @Option(help: "Largest absolute difference still counted as equal.")
    var tolerance: Double = 0

    @Flag(help: "Compare the timing columns too.")
    var includeTiming = false

    func run() throws {
        let difference = try MetricDiff.compare(try CSVTable.read(a), try CSVTable.read(b), tolerance: tolerance, includeTiming: includeTiming)
        print(difference.report())
        if difference.differs { throw ExitCode(1) }
    }
}

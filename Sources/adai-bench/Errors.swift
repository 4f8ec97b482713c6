import Analyses
import ArgumentParser
import Datasets
import Engine
import Experiments
import Foundation
import NN
import Optim
import Plot
import Reports
import Reproduction
import RunFormat

/// An error whose message is written for the person who ran the command: `AdaiBench.main` prints it after
/// `error:` and exits with `exitCode`. Every error type of the project conforms here, in one place, so that
/// no subcommand needs a list of the errors it may meet.
protocol UserFacingError: Error, CustomStringConvertible {
    /// The process's exit status when this error ends a command.
    var exitCode: Int32 { get }
}

extension UserFacingError {
    var exitCode: Int32 { EXIT_FAILURE }
}

// A bad config exits 2, as train, sweep and reproduce always did, so scripts can tell it from a failed run.
extension ConfigError: UserFacingError { var exitCode: Int32 { 2 } }

extension SweepError: UserFacingError {}
extension TrainError: UserFacingError {}
extension ReportError: UserFacingError {}
extension RunFileError: UserFacingError {}
extension ReproductionError: UserFacingError {}
extension DatasetError: UserFacingError {}
extension OptimError: UserFacingError {}
extension AnalysisError: UserFacingError {}
extension ModelError: UserFacingError {}
extension SafetensorsError: UserFacingError {}
extension PlotError: UserFacingError {}
extension AtomicFile.WriteError: UserFacingError {}

extension AdaiBench {
    /// Parses the arguments, runs the subcommand, and ends every failure the same way: one `error: <message>` line on
    /// stderr (a message of several lines, such as a config's list of problems, keeps its lines after the first) and
    /// the error's exit status. Help, `--version` and a bare `ExitCode` (interruption, `diff`'s and `compare`'s
    /// statuses) keep ArgumentParser's handling.
    static func main() {
        var command: ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            fail(error)
        }
        do {
            try command.run()
        } catch {
            fail(error)
        }
        Foundation.exit(EXIT_SUCCESS)
    }

    /// Prints `error` and exits with its status.
    static func fail(_ error: Error) -> Never {
        if let failure = error as? UserFacingError {
            printError(failure.description)
            Foundation.exit(failure.exitCode)
        }
        // Help and version requests (status 0) print to stdout; an ExitCode prints nothing.
        let status = exitCode(for: error)
        if status == .success || error is ExitCode { exit(withError: error) }
        // A parse error or a ValidationError (from validate() or run()): its message alone, without ArgumentParser's
        // `Error:` label and usage, which users see with --help.
        printError(message(for: error))
        Foundation.exit(status.rawValue)
    }

    private static func printError(_ message: String) {
        fflush(stdout)
        FileHandle.standardError.write(Data("error: \(message)\n".utf8))
    }
}

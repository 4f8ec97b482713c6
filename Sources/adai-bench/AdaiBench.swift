import ArgumentParser
import Engine

@main
struct AdaiBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "adai-bench",
        abstract: "Reproduce the benchmarks of Adaptive Inertia (Adai, ICML 2022) with a Swift engine.",
        subcommands: [Train.self, DataCommand.self, ModelCommand.self, CompareCommand.self, DiffCommand.self, PlotCommand.self])
}

/// Placeholder for the training runner until the datasets, optimizers, models and trainer exist.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train the experiments of a JSON config (not implemented yet).")

    @Option(help: "Path of the experiment config (JSON).")
    var config: String = "configs/quickstart.json"

    @Option(help: "Threads for the engine and OpenBLAS (default: all cores).")
    var threads: Int?

    func run() throws {
        Parallel.setThreadCount(threads)
        throw ValidationError("""
            `train` is not implemented yet. What exists today: the engine (tensors, autodiff, \
            OpenBLAS kernels) with its tests and the `engine-bench` benchmark. Not implemented yet: \
            train, data, optimize, model, sweep, collect, compare, diff, plot, escape, hessian, \
            sharpness, saddle, bench.
            """)
    }
}

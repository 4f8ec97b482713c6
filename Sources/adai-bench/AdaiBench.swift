import ArgumentParser
import Engine

@main
struct AdaiBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "adai-bench",
        abstract: "Reproduce the benchmarks of Adaptive Inertia (Adai, ICML 2022) with a Swift engine.",
        discussion: """
            Start with `adai-bench train --config configs/quickstart.json` (synthetic data, about two minutes). \
            The paper's experiments are in configs/; docs/CONFIG.md documents every key. \
            Not implemented yet: escape, hessian, sharpness, saddle, bench.
            """,
        subcommands: [Train.self, SweepCommand.self, CollectCommand.self, DataCommand.self, ModelCommand.self, Optimize.self, CompareCommand.self,
                      DiffCommand.self, PlotCommand.self])
}

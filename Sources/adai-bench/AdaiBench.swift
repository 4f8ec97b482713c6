import ArgumentParser
import Engine
import Experiments

@main
struct AdaiBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "adai-bench",
        abstract: "Reproduce the benchmarks of Adaptive Inertia (Adai, ICML 2022) with a Swift engine.",
        discussion: """
            Start with `adai-bench train --config configs/quickstart.json` (synthetic data, under a minute). \
            The paper's experiments are in configs/; docs/CONFIG.md documents every key and docs/RESULTS.md \
            what the runs write.
            """,
        version: "adai-bench \(Provenance.version), built from commit \(Provenance.gitCommit())",
        subcommands: [Train.self, SweepCommand.self, CollectCommand.self, DataCommand.self, ModelCommand.self,
                      Optimize.self, CompareCommand.self, DiffCommand.self, PlotCommand.self, Bench.self,
                      EscapeCommand.self, HessianCommand.self, SharpnessCommand.self, SaddleCommand.self, NoiseCommand.self,
                      ReproduceCommand.self])
}

import ArgumentParser
import Engine
import Experiments
import Foundation
import NN

extension ConvKernels.WinogradPolicy: ExpressibleByArgument {}

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Time training steps and inference of a model on synthetic inputs.",
        discussion: """
            Prints the median and spread of the step time, images (or tokens) per second, achieved GFLOP/s \
            (3 × the forward FLOPs of `model summary` per training example), peak resident memory (after the \
            training steps, and with inference), and where a \
            training step's time goes by op category. Build in release (`swift run -c release adai-bench bench ...`).
            """)

    @Option(help: "Model from the zoo (resnet18, vgg16, densenet121, googlenet, lstm, ...).")
    var model: String = "resnet18"

    @Option(help: "Training batch (sequences for the LSTM).")
    var batch: Int = 128

    @Option(name: .customLong("infer-batch"), help: "Inference batch (image models).")
    var inferBatch: Int = 256

    @Option(help: "Language models: tokens per sequence window (default 70 for the AWD-LSTMs, as main.py's --bptt, else 35).")
    var bptt: Int?

    @Option(help: "Timed steps (after one warm-up step).")
    var steps: Int = 5

    @Option(help: "Classes of the image models.")
    var classes: Int = 10

    @Option(help: "Threads for the engine and OpenBLAS (default: all cores).")
    var threads: Int?

    @Option(help: "Optimizer whose step is timed.")
    var optimizer: String = "sgdm"

    @Option(help: ArgumentHelp(
        "Which 3×3 stride-1 convolutions use Winograd F(4×4, 3×3): automatic, always or never (im2col + SGEMM).",
        discussion: "automatic picks Winograd for layers with at least 16 input and output channels."))
    var winograd: ConvKernels.WinogradPolicy = .automatic

    @Flag(name: .customLong("compare-gemm-threading"), help: ArgumentHelp(
        "Alternate the GEMM threading step by step and print the median step under each.",
        discussion: "split (the default: large GEMMs cut into one single-threaded OpenBLAS call per thread on the engine's pool) against openblas (one call on OpenBLAS's own threads). Use at least 6 steps."))
    var compareGEMMThreading = false

    @Flag(name: .customLong("compare-reductions"), help: ArgumentHelp(
        "Alternate the engine's fixed-order reductions with the old thread-count-dependent ones step by step and print the median step under each.",
        discussion: "fixed (the engine: work split by the problem's shape, the same numbers on any thread count) against thread-count-dependent (the splits before, kept only as this benchmark's baseline; not deterministic across thread counts). Use at least 8 steps."))
    var compareReductions = false

    @Flag(help: "Print one JSON object (keys include train_per_second and infer_per_second).")
    var json = false

    func validate() throws {
        if batch < 1 || inferBatch < 1 || steps < 1 || classes < 1 {
            throw ValidationError("--batch, --infer-batch, --steps and --classes must be at least 1")
        }
        if let bptt, bptt < 1 { throw ValidationError("--bptt must be at least 1, got \(bptt)") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
        if compareGEMMThreading && steps < 2 {
            throw ValidationError("--compare-gemm-threading alternates the settings step by step: give --steps 2 or more (6 or more for stable medians)")
        }
        if compareReductions && steps < 2 {
            throw ValidationError("--compare-reductions alternates the reduction orders step by step: give --steps 2 or more (8 or more for stable medians)")
        }
        if compareReductions && compareGEMMThreading {
            throw ValidationError("--compare-reductions and --compare-gemm-threading each alternate one setting: give only one of them")
        }
    }

    func run() throws {
        Parallel.setThreadCount(threads)
        ConvKernels.winogradPolicy = winograd
        var benchmark = ModelBenchmark(model: model)
        benchmark.batch = batch
        benchmark.inferenceBatch = inferBatch
        benchmark.steps = steps
        benchmark.bptt = bptt ?? (model.hasPrefix("awd-lstm") ? 70 : 35)
        benchmark.classes = classes
        benchmark.optimizer = optimizer
        benchmark.compareGEMMThreading = compareGEMMThreading
        benchmark.compareReductions = compareReductions
        let r = try benchmark.run()
        let trainMedian = r.trainSeconds.sorted()[r.trainSeconds.count / 2]
        let gflops = r.trainFlopsPerStep / trainMedian / 1e9
        if json {
            var object: [String: Any] = [
                "model": model, "batch": batch, "bptt": benchmark.bptt, "threads": Parallel.threadCount, "steps": steps, "unit": r.unit,
                "train_per_second": r.trainPerSecond, "infer_per_second": r.inferPerSecond,
                "train_step_seconds_median": trainMedian, "train_step_seconds_min": r.trainSeconds.min()!,
                "train_step_seconds_max": r.trainSeconds.max()!, "train_gflops": gflops,
                "peak_rss_bytes": r.peakResidentBytes, "train_peak_rss_bytes": r.trainPeakResidentBytes,
                "winograd": winograd.rawValue,
            ]
            if compareGEMMThreading {
                object["gemm_threading"] = Dictionary(uniqueKeysWithValues: r.byThreading.map { setting, times in
                    (setting.rawValue, ["train_step_seconds_median": median(times.train), "infer_step_seconds_median": median(times.infer)])
                })
            }
            if compareReductions {
                object["reduction_order"] = Dictionary(uniqueKeysWithValues: r.byReductionOrder.map { order, times in
                    (order.rawValue, ["train_step_seconds_median": median(times.train), "train_step_seconds_min": times.train.min()!,
                                      "train_step_seconds_max": times.train.max()!, "train_steps": times.train.count,
                                      "infer_step_seconds_median": median(times.infer)])
                })
            }
            object["breakdown_seconds"] = Dictionary(uniqueKeysWithValues: r.categories.map { ($0.key.rawValue, $0.value) })
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        print("\(model), batch \(batch), \(Parallel.threadCount) threads, \(steps) timed steps, Winograd \(winograd.rawValue), "
              + (compareGEMMThreading ? "GEMM threading alternating" : "GEMM threading \(Parallel.gemmThreading.rawValue)")
              + (compareReductions ? ", reduction order alternating" : ""))
        print(String(format: "training:  median %.3f s/step (min %.3f, max %.3f)  %.1f %@/s  %.1f GFLOP/s",
                     trainMedian, r.trainSeconds.min()!, r.trainSeconds.max()!, r.trainPerSecond, r.unit, gflops))
        print(String(format: "inference: %.1f %@/s (batch %d)", r.inferPerSecond, r.unit, ModelZoo.isLanguageModel(model) ? batch : inferBatch))
        print(String(format: "peak resident memory: %.0f MiB after training, %.0f MiB with inference",
                     Double(r.trainPeakResidentBytes) / 1_048_576, Double(r.peakResidentBytes) / 1_048_576))
        if compareGEMMThreading, let split = r.byThreading[.split], let threaded = r.byThreading[.openBLAS] {
            print("GEMM threading, alternating step by step (medians; the lines above cover both settings):")
            print(String(format: "  split    training %.3f s/step, inference %.3f s/step", median(split.train), median(split.infer)))
            print(String(format: "  openblas training %.3f s/step, inference %.3f s/step", median(threaded.train), median(threaded.infer)))
            print(String(format: "  openblas / split: training %.3f×, inference %.3f×", median(threaded.train) / median(split.train),
                         median(threaded.infer) / median(split.infer)))
        }
        if compareReductions, let new = r.byReductionOrder[.fixed], let old = r.byReductionOrder[.threadCountDependent] {
            print("reduction order, alternating step by step (the lines above cover both orders):")
            for (name, times) in [("fixed (new)", new), ("thread-count-dependent (old)", old)] {
                print("  " + name.padding(toLength: 29, withPad: " ", startingAt: 0)
                      + String(format: "training median %.3f s/step (min %.3f, max %.3f, %d steps), inference median %.3f s/step",
                               median(times.train), times.train.min()!, times.train.max()!, times.train.count, median(times.infer)))
            }
            print(String(format: "  new / old: training %.3f×, inference %.3f×", median(new.train) / median(old.train),
                         median(new.infer) / median(old.infer)))
            if let newCategories = r.categoriesByReductionOrder[.fixed], let oldCategories = r.categoriesByReductionOrder[.threadCountDependent] {
                print("  mean time per training step by op category, new against old:")
                for category in OpCategory.allCases where newCategories[category, default: 0] + oldCategories[category, default: 0] > 0 {
                    let n = newCategories[category, default: 0], o = oldCategories[category, default: 0]
                    print("    " + category.rawValue.padding(toLength: 24, withPad: " ", startingAt: 0)
                          + String(format: "%9.1f ms %9.1f ms  %6.3f×", n * 1000, o * 1000, o > 0 ? n / o : .nan))
                }
            }
        }
        // The categories are averaged over the timed steps, so they are shown against the mean step.
        let mean = r.trainSeconds.reduce(0, +) / Double(r.trainSeconds.count)
        print(String(format: "time per training step by op category (mean step %.3f s):", mean))
        func line(_ name: String, _ seconds: Double) {
            print("  " + name.padding(toLength: 24, withPad: " ", startingAt: 0)
                  + String(format: "%9.1f ms  %5.1f%%", seconds * 1000, 100 * seconds / mean))
        }
        for category in OpCategory.allCases where r.categories[category, default: 0] > 0 {
            line(category.rawValue, r.categories[category]!)
        }
        line("(rest: tape, glue)", mean - r.categories.values.reduce(0, +))
    }
}

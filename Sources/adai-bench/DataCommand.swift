import ArgumentParser
import Datasets
import Engine
import Foundation

/// `adai-bench data ...`: synthetic data, statistics and the data-pipeline benchmark.
struct DataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "Inspect the data sets, write synthetic ones, and benchmark the input pipeline.",
        subcommands: [DataSynth.self, DataStats.self, DataBench.self])
}

enum DatasetName: String, CaseIterable, ExpressibleByArgument {
    case cifar10
    case cifar100
    case ptb

    var cifarVariant: CIFARVariant? {
        switch self {
        case .cifar10: return .cifar10
        case .cifar100: return .cifar100
        case .ptb: return nil
        }
    }
}

extension CIFARLabelKind: ExpressibleByArgument {}

struct DataSynth: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synth",
        abstract: "Write synthetic data in the exact format of the real files (learnable class structure).",
        discussion: """
            CIFAR: writes DIR/cifar-10-batches-bin (data_batch_1..5.bin, test_batch.bin) or \
            DIR/cifar-100-binary (train.bin, test.bin); --train and --test count images. PTB: writes \
            DIR/ptb/ptb.{train,valid,test}.txt; --train counts training lines, --test the lines of the \
            validation and of the test file.
            """)

    @Option(help: "Which data set to imitate: cifar10, cifar100 or ptb.")
    var kind: DatasetName

    @Option(help: "Training images (CIFAR) or training lines (PTB).")
    var train: Int = 5_000

    @Option(help: "Test images (CIFAR) or lines of the validation and of the test file (PTB).")
    var test: Int = 1_000

    @Option(help: "Seed of the generator; the same seed writes the same bytes.")
    var seed: UInt64 = 0

    @Option(help: "Vocabulary size of synthetic PTB text.")
    var vocabulary: Int = 200

    @Option(help: "Directory to write into (created if needed).")
    var out: String = "data/synthetic"

    func run() throws {
        let written: [String]
        if let variant = kind.cifarVariant {
            written = try SyntheticData.writeCIFAR(variant: variant, train: train, test: test, seed: seed, directory: out)
        } else {
            written = try SyntheticData.writePTB(trainLines: train, testLines: test, seed: seed,
                                                 vocabularySize: vocabulary, directory: out)
        }
        for path in written { print("wrote \(path)") }
    }
}

struct DataStats: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Print record or token counts, label histograms, channel mean/std or vocabulary size.")

    @Option(help: "cifar10, cifar100 or ptb.")
    var dataset: DatasetName

    @Option(help: "Directory holding the files (or the folder the official archive unpacks into).")
    var dataDir: String

    @Option(help: "CIFAR-100 labels to count: fine or coarse.")
    var labels: CIFARLabelKind = .fine

    @Flag(help: "Use the CIFAR files present and warn about the missing ones.")
    var allowPartialData = false

    func run() throws {
        if let variant = dataset.cifarVariant {
            print(try DataStatistics.cifarReport(variant: variant, directory: dataDir, labelKind: labels,
                                                 allowPartial: allowPartialData))
        } else {
            print(try DataStatistics.ptbReport(directory: dataDir))
        }
    }
}

struct DataBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Augmented CIFAR images per second on one core, and prefetch hiding data preparation.",
        discussion: """
            Reads CIFAR-10 training images from --data-dir (partial data allowed); when there are none, \
            synthetic images are written to a temporary directory and used. Build with -c release.
            """)

    @Option(help: "Directory with CIFAR-10 binary files.")
    var dataDir: String = "data"

    @Option(help: "Images per batch.")
    var batchSize: Int = 128

    @Option(help: "Seconds to spend measuring augmentation throughput.")
    var seconds: Double = 3

    @Option(help: "Duration of the compute stand-in per batch, in milliseconds (the model's step).")
    var computeMs: Double = 5

    @Option(help: "Batches in the prefetch demonstration.")
    var batches: Int = 100

    func run() throws {
        Parallel.setThreadCount(1)
        let (dataset, source) = try loadOrSynthesize()
        let plan = try CIFARBatches(dataset: dataset, batchSize: batchSize, training: true, seed: 1)
        print("data: \(dataset.count) CIFAR-10 training images from \(source), batch size \(batchSize)")

        let throughput = DataBenchmark.augmentationThroughput(plan, minimumSeconds: seconds)
        print(String(format: "augmentation (crop + flip + normalise) on one core: %.0f images/s "
                     + "(%d images in %.2f s; goal >= 20000: %@)",
                     throughput.imagesPerSecond, throughput.images, throughput.seconds,
                     throughput.imagesPerSecond >= 20_000 ? "met" : "NOT met"))

        guard batches >= 2 else { throw ValidationError("--batches must be at least 2, got \(batches).") }
        let comparison = DataBenchmark.comparePrefetch(plan, count: batches, computeSeconds: computeMs / 1000)
        let n = Double(comparison.batches)
        print(String(format: "prefetch: %d batches, preparation %.2f ms/batch, compute stand-in %.2f ms/batch",
                     comparison.batches, comparison.preparationSeconds * 1000, comparison.computeSeconds * 1000))
        print(String(format: "  without prefetch: %.3f s (%.2f ms/batch = preparation + compute)",
                     comparison.totalWithoutPrefetch, comparison.totalWithoutPrefetch / n * 1000))
        print(String(format: "  with prefetch:    %.3f s (%.2f ms/batch); waited for data %.2f ms for the first batch, "
                     + "then %.3f ms/batch",
                     comparison.totalWithPrefetch, comparison.totalWithPrefetch / n * 1000,
                     comparison.firstWaitWithPrefetch * 1000, comparison.laterWaitWithPrefetch / max(n - 1, 1) * 1000))
        let hidden = 1 - comparison.laterWaitWithPrefetch / max(comparison.preparationSeconds * (n - 1), 1e-12)
        print(String(format: "  preparation of batches 2..%d hidden behind compute: %.1f%%", comparison.batches, 100 * hidden))
    }

    private func loadOrSynthesize() throws -> (CIFARDataset, String) {
        if let real = try? CIFARDataset(variant: .cifar10, split: .train, directory: dataDir, allowPartial: true,
                                        warn: { _ in }), real.count > 0 {
            return (real, CIFARDataset.resolveDirectory(dataDir, variant: .cifar10))
        }
        let temporary = FileManager.default.temporaryDirectory.appendingPathComponent("adai-bench-data-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: temporary) }
        print("no CIFAR-10 files in \(dataDir); using 5000 synthetic images")
        try SyntheticData.writeCIFAR(variant: .cifar10, train: 5_000, test: 0, seed: 1, directory: temporary)
        return (try CIFARDataset(variant: .cifar10, split: .train, directory: temporary), "synthetic data (seed 1)")
    }
}

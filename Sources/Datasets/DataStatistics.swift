import Foundation

/// Human-readable summaries of the data sets on disk (`adai-bench data stats`).
public enum DataStatistics {
    /// Record counts, label histograms and channel mean/std of both splits of a CIFAR set.
    public static func cifarReport(variant: CIFARVariant, directory: String, labelKind: CIFARLabelKind = .fine,
                                   allowPartial: Bool = false, warn: (String) -> Void = printWarning) throws -> String {
        var lines: [String] = []
        for split in CIFARSplit.allCases {
            let dataset = try CIFARDataset(variant: variant, split: split, directory: directory, labelKind: labelKind,
                                           allowPartial: allowPartial, warn: split == .train ? warn : { _ in })
            if split == .train {
                lines.append("\(variant.displayName) in \(CIFARDataset.resolveDirectory(directory, variant: variant))")
            }
            let (mean, std) = dataset.channelStatistics()
            let files = dataset.filesUsed.map { URL(fileURLWithPath: $0).lastPathComponent }.joined(separator: ", ")
            lines.append("\(split.rawValue): \(dataset.count) records from \(files)")
            lines.append("  \(labelKind.rawValue) label counts (\(dataset.classCount) classes): "
                         + dataset.labelHistogram().map(String.init).joined(separator: " "))
            lines.append("  channel mean (R, G, B): " + mean.map { String(format: "%.4f", $0) }.joined(separator: ", "))
            lines.append("  channel std  (R, G, B): " + std.map { String(format: "%.4f", $0) }.joined(separator: ", "))
            if !dataset.filesMissing.isEmpty {
                lines.append("  missing: " + dataset.filesMissing.joined(separator: ", "))
            }
        }
        return lines.joined(separator: "\n")
    }

    /// Line and token counts of the three PTB files and the vocabulary size.
    public static func ptbReport(directory: String) throws -> String {
        let corpus = try PTBCorpus(directory: directory)
        var lines = ["PTB in \(corpus.directory)"]
        for split in PTBSplit.allCases {
            lines.append("\(split.rawValue): \(corpus.lineCounts[split] ?? 0) lines, \(corpus.tokens(split).count) tokens "
                         + "(\(split.fileName), one <eos> per line)")
        }
        lines.append("vocabulary: \(corpus.vocabulary.count) words (from ptb.train.txt, <eos> included)")
        return lines.joined(separator: "\n")
    }
}

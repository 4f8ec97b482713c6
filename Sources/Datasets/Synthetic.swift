import Engine
import Foundation

/// Synthetic data in the exact on-disk formats of the real sets, for the quick run and the tests.
///
/// CIFAR images: each class has a prototype (a base colour plus horizontal or vertical stripes
/// of a class-specific frequency); an image is its class prototype with a random brightness shift
/// and per-pixel noise. Colour and stripe frequency survive crops and flips, so a small network
/// separates the classes within a minute. CIFAR-100's coarse label is `fine / 5`.
///
/// PTB text: sentences drawn from a sparse first-order Markov chain over `vocabularySize` words
/// (each word is mostly followed by one of three successors), so a small LSTM can beat the
/// unigram perplexity quickly. Words of the validation and test text not seen in training are
/// written `<unk>`, as in the real files.
public enum SyntheticData {
    /// Writes `train` training and `test` test records into `directory/<cifar-10-batches-bin | cifar-100-binary>`,
    /// spreading CIFAR-10 training records over the five batch files. Returns the paths written.
    @discardableResult
    public static func writeCIFAR(variant: CIFARVariant, train: Int, test: Int, seed: UInt64,
                                  directory: String) throws -> [String] {
        guard train >= 0, test >= 0 else {
            throw DatasetError.invalidArgument("synthetic data needs non-negative counts, got --train \(train) --test \(test).")
        }
        let folder = DataFiles.join(directory, variant.directoryName)
        try createDirectory(folder)
        let root = RandomGenerator(seed: seed)
        let prototypes = makePrototypes(variant: variant, generator: root.fork("prototypes"))
        var written: [String] = []
        for split in CIFARSplit.allCases {
            let total = split == .train ? train : test
            let files = variant.files(split)
            var generator = root.fork(split.rawValue)
            var labels = (0..<total).map { $0 % variant.classCount(.fine) }
            generator.shuffle(&labels)
            for (f, name) in files.enumerated() {
                let range = (f * total / files.count)..<((f + 1) * total / files.count)
                var bytes = [UInt8]()
                bytes.reserveCapacity(range.count * variant.recordSize)
                for r in range {
                    let label = labels[r]
                    if variant == .cifar100 { bytes.append(UInt8(label / 5)) }
                    bytes.append(UInt8(label))
                    appendImage(prototype: prototypes[label], generator: &generator, to: &bytes)
                }
                let path = DataFiles.join(folder, name)
                try DataFiles.writeAtomically(Data(bytes), to: path)
                written.append(path)
            }
        }
        let names = (0..<variant.classCount(.fine)).map { "class\($0)" }.joined(separator: "\n") + "\n"
        let metaName = variant == .cifar10 ? "batches.meta.txt" : "fine_label_names.txt"
        try DataFiles.writeAtomically(Data(names.utf8), to: DataFiles.join(folder, metaName))
        written.append(DataFiles.join(folder, metaName))
        if variant == .cifar100 {
            let coarse = (0..<20).map { "superclass\($0)" }.joined(separator: "\n") + "\n"
            try DataFiles.writeAtomically(Data(coarse.utf8), to: DataFiles.join(folder, "coarse_label_names.txt"))
            written.append(DataFiles.join(folder, "coarse_label_names.txt"))
        }
        return written
    }

    /// Per class: a base colour, a stripe axis (0 horizontal, 1 vertical), a stripe frequency and amplitude.
    struct Prototype {
        var colour: [Float]
        var vertical: Bool
        var frequency: Float
        var amplitude: Float
    }

    static func makePrototypes(variant: CIFARVariant, generator: RandomGenerator) -> [Prototype] {
        var generator = generator
        var prototypes: [Prototype] = []
        for k in 0..<variant.classCount(.fine) {
            let colour: [Float] = (0..<3).map { _ in generator.uniform(50, 205) }
            let cycles = Float(1 + (k / 2) % 5)
            let frequency: Float = cycles * 2 * Float.pi / 32
            let amplitude = generator.uniform(20, 45)
            prototypes.append(Prototype(colour: colour, vertical: k % 2 == 1, frequency: frequency, amplitude: amplitude))
        }
        return prototypes
    }

    static func appendImage(prototype: Prototype, generator: inout RandomGenerator, to bytes: inout [UInt8]) {
        let brightness = generator.uniform(-20, 20)
        let phase = generator.uniform(0, 2 * Float.pi)
        for c in 0..<3 {
            for y in 0..<CIFARImage.side {
                for x in 0..<CIFARImage.side {
                    let position = Float(prototype.vertical ? x : y)
                    let stripe = prototype.amplitude * sin(prototype.frequency * position + phase)
                    let noise = 12 * Float(generator.nextNormal())
                    let value = prototype.colour[c] + stripe + brightness + noise
                    bytes.append(UInt8(min(255, max(0, value.rounded()))))
                }
            }
        }
    }

    /// Writes `ptb.train.txt` (`trainLines` sentences) and `ptb.valid.txt`, `ptb.test.txt`
    /// (`testLines` each) into `directory/ptb`. Returns the paths written.
    @discardableResult
    public static func writePTB(trainLines: Int, testLines: Int, seed: UInt64, vocabularySize: Int = 200,
                                directory: String) throws -> [String] {
        guard trainLines >= 1, testLines >= 1 else {
            throw DatasetError.invalidArgument(
                "synthetic PTB needs at least one line per file, got --train \(trainLines) --test \(testLines).")
        }
        guard vocabularySize >= 4 else {
            throw DatasetError.invalidArgument("synthetic PTB needs a vocabulary of at least 4 words, got \(vocabularySize).")
        }
        let folder = DataFiles.join(directory, PTBCorpus.folderName)
        try createDirectory(folder)
        let root = RandomGenerator(seed: seed)
        var chain = root.fork("chain")
        let successors = (0..<vocabularySize).map { _ in (0..<3).map { _ in chain.nextInt(below: vocabularySize) } }
        func sentences(_ count: Int, _ name: String) -> [[String]] {
            var generator = root.fork(name)
            return (0..<count).map { _ in
                var word = generator.nextInt(below: vocabularySize)
                var sentence: [String] = []
                for _ in 0..<(4 + generator.nextInt(below: 12)) {
                    sentence.append("w\(word)")
                    word = generator.bernoulli(0.9) ? successors[word][generator.nextInt(below: 3)]
                        : generator.nextInt(below: vocabularySize)
                }
                return sentence
            }
        }
        var train = sentences(trainLines, "train")
        let known = Set(train.joined())
        var needsUnknown = false
        var written: [String] = []
        var texts: [(PTBSplit, [[String]])] = []
        for split in [PTBSplit.valid, .test] {
            let text = sentences(testLines, split.rawValue).map { sentence in
                sentence.map { word -> String in
                    if known.contains(word) { return word }
                    needsUnknown = true
                    return "<unk>"
                }
            }
            texts.append((split, text))
        }
        if needsUnknown { train[train.count - 1].append("<unk>") }
        texts.insert((.train, train), at: 0)
        for (split, lines) in texts {
            let text = lines.map { " " + $0.joined(separator: " ") + " \n" }.joined()
            let path = DataFiles.join(folder, split.fileName)
            try DataFiles.writeAtomically(Data(text.utf8), to: path)
            written.append(path)
        }
        return written
    }

    static func createDirectory(_ path: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw DatasetError.unwritable(path: path, reason: error.localizedDescription)
        }
    }
}

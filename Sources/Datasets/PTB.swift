import Foundation

/// The three files of Mikolov's word-level Penn Treebank.
public enum PTBSplit: String, CaseIterable, Codable, Sendable {
    case train
    case valid
    case test

    public var fileName: String { "ptb.\(rawValue).txt" }
}

/// Words and their ids, in order of first appearance in the training text.
public struct PTBVocabulary: Sendable {
    public private(set) var words: [String] = []
    private var ids: [String: Int32] = [:]

    public init() {}

    public var count: Int { words.count }

    public func id(of word: String) -> Int32? { ids[word] }

    /// The id of `word`, adding it when new.
    public mutating func add(_ word: String) -> Int32 {
        if let id = ids[word] { return id }
        let id = Int32(words.count)
        words.append(word)
        ids[word] = id
        return id
    }
}

/// The Penn Treebank as token ids: whitespace-separated words plus one `<eos>` per line.
public struct PTBCorpus: Sendable {
    /// The folder the PTB files are kept in (as `scripts/download-data.sh ptb` writes them).
    public static let folderName = "ptb"

    public static let endOfSentence = "<eos>"
    public static let fileNames = PTBSplit.allCases.map(\.fileName)

    public let directory: String
    public let vocabulary: PTBVocabulary
    public let train: [Int32]
    public let valid: [Int32]
    public let test: [Int32]
    /// Lines of each file.
    public let lineCounts: [PTBSplit: Int]

    /// Reads `ptb.train.txt`, `ptb.valid.txt` and `ptb.test.txt` from `directory` (or from its
    /// `ptb` or `simple-examples/data` subfolder). The vocabulary comes from the training file only.
    public init(directory: String) throws {
        let folder = PTBCorpus.resolveDirectory(directory)
        guard DataFiles.isDirectory(folder) else {
            throw DatasetError.directoryMissing(dataset: "PTB", path: directory, expectedFiles: PTBCorpus.fileNames)
        }
        let missing = PTBCorpus.fileNames.filter { !DataFiles.exists(DataFiles.join(folder, $0)) }
        guard missing.isEmpty else {
            throw DatasetError.filesMissing(dataset: "PTB", directory: folder, missing: missing,
                                            expectedFiles: PTBCorpus.fileNames)
        }
        var vocabulary = PTBVocabulary()
        var lines: [PTBSplit: Int] = [:]
        var tokens: [PTBSplit: [Int32]] = [:]
        for split in PTBSplit.allCases {
            let path = DataFiles.join(folder, split.fileName)
            let (ids, lineCount) = try PTBCorpus.tokenize(path: path, vocabulary: &vocabulary, grow: split == .train)
            guard !ids.isEmpty else { throw DatasetError.empty(path: path, what: "words") }
            tokens[split] = ids
            lines[split] = lineCount
        }
        self.directory = folder
        self.vocabulary = vocabulary
        self.train = tokens[.train]!
        self.valid = tokens[.valid]!
        self.test = tokens[.test]!
        self.lineCounts = lines
    }

    public func tokens(_ split: PTBSplit) -> [Int32] {
        switch split {
        case .train: return train
        case .valid: return valid
        case .test: return test
        }
    }

    /// `directory` when it holds the PTB files, else its `ptb` or `simple-examples/data` subfolder if present.
    public static func resolveDirectory(_ directory: String) -> String {
        if DataFiles.exists(DataFiles.join(directory, PTBSplit.train.fileName)) { return directory }
        for sub in [folderName, "simple-examples/data"] {
            let nested = DataFiles.join(directory, sub)
            if DataFiles.exists(DataFiles.join(nested, PTBSplit.train.fileName)) { return nested }
        }
        return directory
    }

    /// Token ids of one file and its line count. With `grow` new words join the vocabulary;
    /// otherwise an unknown word is an error naming the file and line.
    static func tokenize(path: String, vocabulary: inout PTBVocabulary, grow: Bool) throws -> ([Int32], Int) {
        let data = try DataFiles.read(path)
        var ids: [Int32] = []
        ids.reserveCapacity(data.count / 5)
        var lineCount = 0
        try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            let bytes = raw.bindMemory(to: UInt8.self)
            var lineStart = 0
            while lineStart < bytes.count {
                var lineEnd = lineStart
                while lineEnd < bytes.count && bytes[lineEnd] != 0x0A { lineEnd += 1 }
                lineCount += 1
                var i = lineStart
                while i < lineEnd {
                    while i < lineEnd && isSpace(bytes[i]) { i += 1 }
                    let start = i
                    while i < lineEnd && !isSpace(bytes[i]) { i += 1 }
                    if i > start {
                        let word = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self)
                        if grow {
                            ids.append(vocabulary.add(word))
                        } else if let id = vocabulary.id(of: word) {
                            ids.append(id)
                        } else {
                            throw DatasetError.unknownWord(path: path, line: lineCount, word: word)
                        }
                    }
                }
                if grow {
                    ids.append(vocabulary.add(PTBCorpus.endOfSentence))
                } else if let eos = vocabulary.id(of: PTBCorpus.endOfSentence) {
                    ids.append(eos)
                } else {
                    throw DatasetError.unknownWord(path: path, line: lineCount, word: PTBCorpus.endOfSentence)
                }
                lineStart = lineEnd + 1
            }
        }
        return (ids, lineCount)
    }

    @inline(__always) private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0B || byte == 0x0C
    }
}

/// The data sets an experiment trains on, and the facts about each that the rest of the program uses:
/// the folder its archive unpacks into, and for CIFAR the record layout (`CIFARVariant`).
public enum DatasetKind: String, CaseIterable, Codable, Sendable {
    case cifar10, cifar100, ptb

    /// The CIFAR variant, nil for the text corpus.
    public var cifarVariant: CIFARVariant? {
        switch self {
        case .cifar10: return .cifar10
        case .cifar100: return .cifar100
        case .ptb: return nil
        }
    }

    public var isText: Bool { self == .ptb }

    /// The folder the official archive unpacks into, and that `SyntheticData` writes.
    public var folderName: String { cifarVariant?.directoryName ?? PTBCorpus.folderName }

    /// Where the download script puts it, relative to the repository root.
    public var defaultDirectory: String { "data/\(folderName)" }

    /// The folder of this data set under a directory that holds all three (`reproduce --data DIR`).
    public func directory(under root: String) -> String { "\(root)/\(folderName)" }
}

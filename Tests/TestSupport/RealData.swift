import Foundation

/// Where the tests find the real data sets (CIFAR-10/100 binaries, Penn Treebank), in this order:
///
/// 1. `$ADAI_BENCH_DATA`, when it is set: a folder of the user's own;
/// 2. `data/` at the repository root, where `scripts/download-data.sh` puts the downloads;
/// 3. `../shared/data` beside the repository, where the project's CI keeps its copies.
///
/// Each data set is looked up on its own, so `ptb` may come from one place and
/// `cifar-10-batches-bin` from another. The tests never skip when nothing is found: they fail
/// with `RealData.missingMessage`, which names the three places and the download command.
public enum RealData {
    /// The environment variable that names a data folder of the user's own.
    public static let environmentVariable = "ADAI_BENCH_DATA"

    /// The repository root (`Repository.root`).
    public static let repositoryRoot: String = Repository.root.path

    /// The folders searched, in order, each with how it was chosen.
    public static func searchedFolders(environment: [String: String] = ProcessInfo.processInfo.environment)
        -> [(origin: String, path: String)] {
        var folders: [(String, String)] = []
        if let custom = environment[environmentVariable], !custom.isEmpty {
            folders.append(("$\(environmentVariable)", URL(fileURLWithPath: custom).standardized.path))
        }
        let root = URL(fileURLWithPath: repositoryRoot)
        folders.append(("data/ (scripts/download-data.sh)", root.appendingPathComponent("data").path))
        folders.append(("../shared/data", root.deletingLastPathComponent().appendingPathComponent("shared/data").standardized.path))
        return folders
    }

    /// The first folder that holds `relative` (a file or folder name such as `ptb` or
    /// `cifar-100-binary/sample100.bin`), or nil.
    public static func folder(holding relative: String,
                              environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        searchedFolders(environment: environment).map(\.path).first { folder in
            FileManager.default.fileExists(atPath: URL(fileURLWithPath: folder).appendingPathComponent(relative).path)
        }
    }

    /// The full path of `relative` in the first folder that holds it, or nil.
    public static func path(_ relative: String,
                            environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        folder(holding: relative, environment: environment)
            .map { URL(fileURLWithPath: $0).appendingPathComponent(relative).path }
    }

    /// What a test says when `relative` is nowhere: the places searched and how to get the data.
    public static func missingMessage(_ relative: String,
                                      environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        var places = searchedFolders(environment: environment).map { "\($0.path) (\($0.origin))" }
        if environment[environmentVariable].map({ $0.isEmpty }) ?? true {
            places.insert("$\(environmentVariable) (not set)", at: 0)
        }
        return "real data missing: \(relative) is in none of " + places.joined(separator: ", ")
            + ". Download it with `scripts/download-data.sh \(downloadName(relative))` (it writes data/), "
            + "or set \(environmentVariable) to the folder that holds it."
    }

    /// The download script's name for the data set a path belongs to.
    static func downloadName(_ relative: String) -> String {
        if relative.hasPrefix("cifar-100") { return "cifar100" }
        if relative.hasPrefix("cifar-10") { return "cifar10" }
        if relative.hasPrefix("ptb") { return "ptb" }
        return "all"
    }
}

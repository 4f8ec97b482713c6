import Foundation

/// The files the binary reads besides the user's: the paper's tables and the AdaMomentum authors' curves
/// (`results/paper/`) and the paper's configs (`configs/`) that `compare`, `plot` and `reproduce` start from.
/// They are looked for under the working directory first, so a checkout's own files take precedence; then in
/// `share/adai-bench` beside the `bin/` the binary was installed into (`scripts/install.sh`); then in the
/// directories above the binary, which finds the checkout a build in its `.build/` came from. An installed or
/// copied binary therefore does not need the repository as its working directory.
public enum ProjectFiles {
    /// The directories searched, in order.
    public static func searchRoots(workingDirectory: String = FileManager.default.currentDirectoryPath,
                                   executable: String = ChildProcess.currentExecutable()) -> [String] {
        var roots = [workingDirectory]
        var directory = URL(fileURLWithPath: executable).resolvingSymlinksInPath().deletingLastPathComponent()
        roots.append(directory.deletingLastPathComponent().appendingPathComponent("share/adai-bench").path)
        while directory.path != "/" && !directory.path.isEmpty {
            roots.append(directory.path)
            directory = directory.deletingLastPathComponent()
        }
        return roots
    }

    /// The first search root that holds `relative` (a file or a directory), or nil.
    public static func root(holding relative: String, roots: [String] = searchRoots()) -> String? {
        roots.first { FileManager.default.fileExists(atPath: "\($0)/\(relative)") }
    }

    /// `relative` under the first root that holds it; `relative` itself (so that the reader's "no such file"
    /// names the path the user expects) when none does.
    public static func path(_ relative: String, roots: [String] = searchRoots()) -> String {
        root(holding: relative, roots: roots).map { $0 == FileManager.default.currentDirectoryPath ? relative : "\($0)/\(relative)" }
            ?? relative
    }
}

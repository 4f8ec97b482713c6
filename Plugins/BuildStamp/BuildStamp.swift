import Foundation
import PackagePlugin

/// Stamps the target with the git commit its sources were built from: writes `BuildCommit.swift` with
/// `let buildCommit = "<sha>"` ("<sha>-dirty" when Sources/, Plugins/ or Package.swift have uncommitted
/// changes to tracked files, "unknown" outside a git checkout or without git). A run's provenance thereby
/// names the commit of the binary that produced it, even when the checkout moves on (a pull, a commit, a
/// branch switch) while the binary runs.
///
/// It is a build command, not a prebuild command (SwiftPM skips those on incremental builds). It reruns
/// when HEAD moves (the HEAD file, its reflog, the index) or a source of the package changes, and rewrites
/// the file only when the stamp changes, so a rebuild of an unchanged tree compiles nothing.
@main
struct BuildStamp: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let root = context.package.directoryURL
        let output = context.pluginWorkDirectoryURL.appendingPathComponent("BuildCommit.swift")
        let sources = context.package.targets.compactMap { $0 as? SourceModuleTarget }
            .flatMap { $0.sourceFiles.map(\.url) }
        let gitFiles = gitDirectory(of: root).map { dir in
            ["HEAD", "logs/HEAD", "index"].map { dir.appendingPathComponent($0) }
        } ?? []
        let inputs = ([root.appendingPathComponent("Package.swift")] + gitFiles + sources)
            .filter { FileManager.default.fileExists(atPath: $0.path) }
        let script = """
            root="$1"; file="$2"
            commit=$(git -C "$root" rev-parse HEAD 2>/dev/null) || commit=unknown
            [ -n "$commit" ] || commit=unknown
            if [ "$commit" != unknown ] && [ -n "$(git -C "$root" --no-optional-locks status --porcelain --untracked-files=no -- Sources Plugins Package.swift 2>/dev/null)" ]; then
              commit="$commit-dirty"
            fi
            text="// Generated at build time by the BuildStamp plugin (Plugins/BuildStamp); never committed.
            let buildCommit = \\"$commit\\""
            if [ ! -f "$file" ] || [ "$(cat "$file")" != "$text" ]; then printf '%s\\n' "$text" > "$file"; fi
            """
        return [
            .buildCommand(
                displayName: "Stamping \(target.name) with the source tree's git commit",
                executable: URL(fileURLWithPath: "/bin/sh"),
                arguments: ["-c", script, "stamp", root.path, output.path],
                inputFiles: inputs,
                outputFiles: [output])
        ]
    }

    /// The checkout's git directory: `.git` itself, or where a worktree's `.git` file points; nil without one.
    private func gitDirectory(of root: URL) -> URL? {
        let dotGit = root.appendingPathComponent(".git")
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dotGit.path, isDirectory: &isDirectory) else { return nil }
        if isDirectory.boolValue { return dotGit }
        guard let text = try? String(contentsOf: dotGit, encoding: .utf8), text.hasPrefix("gitdir:") else { return nil }
        let path = text.dropFirst("gitdir:".count).trimmingCharacters(in: .whitespacesAndNewlines)
        return path.hasPrefix("/") ? URL(fileURLWithPath: path) : root.appendingPathComponent(path)
    }
}

import Foundation

/// The repository's files, for tests that read its sources, configs, scripts or fixtures: the one
/// place that walks up from a test file's path (this file is Tests/TestSupport/Repository.swift).
public enum Repository {
    /// The repository root.
    public static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().standardized

    /// `relative` under the root, e.g. `Repository.url("configs/quickstart.json")`.
    public static func url(_ relative: String) -> URL { root.appendingPathComponent(relative) }

    /// The path of `relative` under the root.
    public static func path(_ relative: String) -> String { url(relative).path }
}

/// A fresh, empty directory in the system's temporary folder, named `adai-<label>-<UUID>`; the test
/// removes it (in its tearDown, or with `addTeardownBlock`).
public func makeTemporaryDirectory(_ label: String) throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("adai-\(label)-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// An executable of this package (`adai-bench`) built beside the test bundle of `testClass`: its path,
/// or nil, and the path looked at first (for the test's failure message).
public func builtExecutable(_ name: String, besideBundleOf testClass: AnyClass) -> (path: String?, expected: String) {
    // On Linux the test bundle's URL is the build directory itself; on macOS it is the .xctest inside it.
    let bundle = Bundle(for: testClass).bundleURL
    let candidates = [bundle, bundle.deletingLastPathComponent()].map { $0.appendingPathComponent(name).path }
    return (candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }), candidates[0])
}

import Experiments
import Foundation
import TestSupport
import XCTest

/// Where the binary looks for the paper's configs and tables: the working directory, share/adai-bench beside its
/// bin/, then the directories above it.
final class ProjectFilesTests: XCTestCase {
    func testTheWorkingDirectoryComesFirstThenTheInstallationThenTheCheckout() throws {
        let roots = ProjectFiles.searchRoots(workingDirectory: "/home/u/work", executable: "/opt/ab/checkout/.build/release/adai-bench")
        XCTAssertEqual(Array(roots.prefix(5)), ["/home/u/work", "/opt/ab/checkout/.build/share/adai-bench",
                                                "/opt/ab/checkout/.build/release", "/opt/ab/checkout/.build", "/opt/ab/checkout"])
    }

    func testTheFirstRootHoldingTheFileWins() throws {
        let dir = try makeTemporaryDirectory("project-files")
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        for root in ["a", "b", "c"] { try FileManager.default.createDirectory(atPath: "\(dir)/\(root)", withIntermediateDirectories: true) }
        for root in ["b", "c"] {
            try FileManager.default.createDirectory(atPath: "\(dir)/\(root)/configs", withIntermediateDirectories: true)
        }
        let roots = ["a", "b", "c"].map { "\(dir)/\($0)" }
        XCTAssertEqual(ProjectFiles.root(holding: "configs", roots: roots), "\(dir)/b")
        XCTAssertEqual(ProjectFiles.path("configs", roots: roots), "\(dir)/b/configs")
        XCTAssertNil(ProjectFiles.root(holding: "results/paper/table2.csv", roots: roots))
        XCTAssertEqual(ProjectFiles.path("results/paper/table2.csv", roots: roots), "results/paper/table2.csv",
                       "nothing found: the relative path, which the reader's error names")
    }

    func testThisCheckoutIsFoundFromTheBuiltExecutable() throws {
        let executable = try XCTUnwrap(adaiBenchExecutable())
        let root = ProjectFiles.root(holding: "configs/quickstart.json", roots: ProjectFiles.searchRoots(workingDirectory: "/", executable: executable))
        XCTAssertEqual(root.map { URL(fileURLWithPath: $0).standardized.path }, Repository.root.path)
    }
}

// swift-tools-version:6.0
import PackageDescription

// The engine's hot loops are checked by tests; in release they run without bounds and overflow checks.
let engineSettings: [SwiftSetting] = [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]

let package = Package(
    name: "adai-bench",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "adai-bench", targets: ["adai-bench"]),
        .executable(name: "engine-bench", targets: ["engine-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(
            name: "CPNG", path: "Sources/CPNG", pkgConfig: "libpng",
            providers: [.apt(["libpng-dev"])]),
        .target(name: "Engine", dependencies: ["CBLAS"], swiftSettings: engineSettings),
        .target(name: "Plot", dependencies: ["CPNG"]),
        .target(name: "Datasets", dependencies: ["Engine"]),
        .target(name: "NN", dependencies: ["Engine"]),
        .target(name: "Reports", dependencies: ["Plot"]),
        .executableTarget(
            name: "adai-bench",
            dependencies: ["Engine", "Datasets", "NN", "Reports", "Plot", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .executableTarget(name: "engine-bench", dependencies: ["Engine", "CBLAS"]),
        .testTarget(name: "EngineTests", dependencies: ["Engine"]),
        .testTarget(name: "PlotTests", dependencies: ["Plot"]),
        .testTarget(name: "ReportsTests", dependencies: ["Reports", "Plot"]),
        .testTarget(name: "DatasetsTests", dependencies: ["Datasets", "Engine"]),
        .testTarget(name: "NNTests", dependencies: ["NN", "Engine"], resources: [.copy("Fixtures")]),
    ],
    swiftLanguageModes: [.v5]
)

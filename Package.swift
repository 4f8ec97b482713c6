// swift-tools-version:6.0
import Foundation
import PackageDescription

// The engine's hot loops are checked by tests; in release they run without bounds and overflow checks,
// and are compiled for this machine's CPU (its vector units: AVX2/AVX-512 on x86). Set
// ADAI_BENCH_PORTABLE=1 when building a binary that must also run on other CPUs (say, the older
// nodes of a cluster whose login node builds it).
let portable = ProcessInfo.processInfo.environment["ADAI_BENCH_PORTABLE"].map { !$0.isEmpty && $0 != "0" } ?? false
let engineSettings: [SwiftSetting] = [
    .unsafeFlags(["-Ounchecked"], .when(configuration: .release)),
    .unsafeFlags(portable ? [] : ["-Xcc", "-march=native"], .when(platforms: [.linux], configuration: .release)),
]
// The optimizers' loops call sqrt: without errno, sqrtf is a pure function and the loops vectorize.
let optimSettings: [SwiftSetting] = engineSettings + [.unsafeFlags(["-Xcc", "-fno-math-errno"])]

let package = Package(
    name: "adai-bench",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "adai-bench", targets: ["adai-bench"]),
        .executable(name: "engine-bench", targets: ["engine-bench"]),
        .executable(name: "optim-bench", targets: ["optim-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]),
        // LAPACK's dsyevd from the same OpenBLAS (the noise analysis's full Hessian eigenbasis), through Engine.
        .systemLibrary(name: "CLAPACK", path: "Sources/CLAPACK"),
        .systemLibrary(
            name: "CPNG", path: "Sources/CPNG", pkgConfig: "libpng",
            providers: [.apt(["libpng-dev"])]),
        .systemLibrary(
            name: "CCairo", path: "Sources/CCairo", pkgConfig: "cairo",
            providers: [.apt(["libcairo2-dev", "fonts-dejavu-core"])]),
        .target(name: "Engine", dependencies: ["CBLAS", "CLAPACK"], swiftSettings: engineSettings),
        // The registries of optimizers (Optim) and models (NN) are collected from the files' `static let registration`
        // at build time.
        .target(name: "Optim", dependencies: ["Engine"], swiftSettings: optimSettings, plugins: ["RegistrationCollector"]),
        .executableTarget(name: "registration-collector"),
        .plugin(name: "RegistrationCollector", capability: .buildTool(), dependencies: ["registration-collector"]),
        .target(name: "Datasets", dependencies: ["Engine"]),
        .target(name: "NN", dependencies: ["Engine"], plugins: ["RegistrationCollector"]),
        .target(name: "Plot", dependencies: ["Engine", "CCairo", "CPNG"]),
        // The file formats: the experiment config (its types name data sets, models and optimizer settings) and run.json.
        .target(name: "RunFormat", dependencies: ["Engine", "Datasets", "NN", "Optim"]),
        .target(name: "Reports", dependencies: ["Engine", "Plot", "RunFormat"]),
        // The git commit the binary was built from is stamped into Experiments at build time (run provenance).
        .target(name: "Experiments", dependencies: ["Engine", "Optim", "Datasets", "NN", "RunFormat"], plugins: ["BuildStamp"]),
        .plugin(name: "BuildStamp", capability: .buildTool()),
        .target(name: "Analyses", dependencies: ["Engine", "Optim", "Datasets", "NN", "RunFormat"]),
        // `reproduce`: the paper's claims, their statistics and decision rules, the report (a layer above the rest).
        .target(name: "Reproduction", dependencies: ["Engine", "Experiments", "Analyses", "Datasets", "Reports", "Plot", "RunFormat"]),
        .executableTarget(
            name: "adai-bench",
            dependencies: ["Engine", "Optim", "Datasets", "NN", "Experiments", "Reports", "Plot", "Analyses", "RunFormat", "Reproduction",
                           .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .executableTarget(name: "engine-bench", dependencies: ["Engine", "CBLAS", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .executableTarget(name: "optim-bench", dependencies: ["Engine", "Optim", .product(name: "ArgumentParser", package: "swift-argument-parser")],
                          swiftSettings: engineSettings),
        // Test helpers shared by the test targets (where the real data sets are found).
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "EngineTests", dependencies: ["Engine", "TestSupport"]),
        .testTarget(name: "OptimTests", dependencies: ["Optim", "Engine", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "ReportsTests", dependencies: ["Reports", "Plot", "RunFormat"]),
        .testTarget(name: "DatasetsTests", dependencies: ["Datasets", "Engine", "TestSupport"]),
        .testTarget(name: "NNTests", dependencies: ["NN", "Engine", "Datasets", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "PlotTests", dependencies: ["Plot", "TestSupport"]),
        .testTarget(name: "ExperimentsTests", dependencies: ["TestSupport", "Experiments", "Engine", "Optim", "Reports", "RunFormat"],
                    exclude: ["Fixtures"]),
        .testTarget(name: "ReproductionTests", dependencies: ["Reproduction", "Experiments", "Reports", "Engine", "Analyses"]),
        .testTarget(name: "AnalysesTests", dependencies: ["Analyses", "Engine", "Optim", "NN", "Datasets"]),
    ],
    swiftLanguageModes: [.v5]
)

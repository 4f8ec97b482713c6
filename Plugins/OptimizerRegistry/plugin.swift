import Foundation
import PackagePlugin

/// Collects the optimizers' registrations at build time: runs `optimizer-registry` over the target's
/// Swift sources and compiles its output (`discoveredRegistrations`) into the target. Rerun whenever
/// a source of the target changes, so adding or removing an optimizer file is all it takes.
@main
struct OptimizerRegistry: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        guard let module = target as? SourceModuleTarget else { return [] }
        let sources = module.sourceFiles(withSuffix: "swift").map(\.url)
        let output = context.pluginWorkDirectoryURL.appendingPathComponent("DiscoveredRegistrations.swift")
        return [
            .buildCommand(
                displayName: "Collecting the optimizers' registrations of \(target.name)",
                executable: try context.tool(named: "optimizer-registry").url,
                arguments: [output.path] + sources.map(\.path),
                inputFiles: sources,
                outputFiles: [output])
        ]
    }
}

import Foundation
import PackagePlugin

/// Collects a module's registrations at build time (the optimizers of Optim, the models of NN): runs
/// `registration-collector` over the target's Swift sources and compiles its output
/// (`discoveredRegistrations`) into the target. Rerun whenever a source of the target changes, so
/// adding or removing an optimizer or model file is all it takes.
@main
struct RegistrationCollector: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        guard let module = target as? SourceModuleTarget else { return [] }
        let sources = module.sourceFiles(withSuffix: "swift").map(\.url)
        let output = context.pluginWorkDirectoryURL.appendingPathComponent("DiscoveredRegistrations.swift")
        return [
            .buildCommand(
                displayName: "Collecting the registrations of \(target.name)",
                executable: try context.tool(named: "registration-collector").url,
                arguments: [output.path] + sources.map(\.path),
                inputFiles: sources,
                outputFiles: [output])
        ]
    }
}

/// Every optimizer's registration, in list order (`OptimizerRegistration.position`, then name).
///
/// Nobody maintains this list by hand: the build-tool plugin `RegistrationCollector`
/// (Plugins/RegistrationCollector) runs `registration-collector` over this module's sources at every build
/// and writes `discoveredRegistrations`, one entry per type that declares a `static let registration`.
/// Adding an optimizer is adding its file (docs/adding-an-optimizer.md); removing the file removes it
/// from every list. Everything else derives from this list.
public let registeredOptimizers: [OptimizerRegistration] = {
    let sorted = discoveredRegistrations.sorted {
        ($0.position, $0.variants[0].name) < ($1.position, $1.variants[0].name)
    }
    var seen = Set<String>()
    for name in sorted.flatMap({ $0.variants.map(\.name) }) {
        precondition(seen.insert(name).inserted, "two optimizer registrations claim the name \"\(name)\"")
    }
    return sorted
}()

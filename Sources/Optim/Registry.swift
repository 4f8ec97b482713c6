/// Every optimizer's registration, in the paper's order, then additions. This list is the one
/// place that enumerates them: Swift cannot collect `static let registration` values from the
/// files by itself (no reflection over declarations), so adding an optimizer adds one line here
/// besides its own file (docs/adding-an-optimizer.md). Everything else derives from this list.
public let registeredOptimizers: [OptimizerRegistration] = [
    SGDOptimizer.registration,
    AdamOptimizer.registration,
    AdaBoundOptimizer.registration,
    PadamOptimizer.registration,
    YogiOptimizer.registration,
    RAdamOptimizer.registration,
    AdaBeliefOptimizer.registration,
    AdaMomentumOptimizer.registration,
    AdaiOptimizer.registration,
]

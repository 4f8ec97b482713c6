import Engine
import NN
import XCTest

/// Every module lists its members by hand (`members`); a layer, parameter or buffer that a module
/// stores but does not list would be neither trained nor saved, and nothing else would notice.
/// This test walks the stored properties of every zoo model with Swift's `Mirror` (recursively,
/// through arrays, optionals, structs and child modules) and requires each stored module,
/// parameter (`Variable`), buffer (`Tensor`) and batch counter to be reachable through `members`.
/// Cost: building each model's structure once (no initialisation draws), about a second in all.
final class MemberReflectionTests: XCTestCase {
    /// What `members` reaches from a root, by object identity.
    private struct Reachable {
        var modules = Set<ObjectIdentifier>()
        var parameters = Set<ObjectIdentifier>()
        var buffers = Set<ObjectIdentifier>()  // the buffer tensors' storages
        var counters = Set<ObjectIdentifier>()

        init(_ root: Module) {
            for (_, module) in root.namedModules() { modules.insert(ObjectIdentifier(module)) }
            for (_, value) in root.namedState() {
                switch value {
                case .parameter(let v): parameters.insert(ObjectIdentifier(v))
                case .buffer(let t): buffers.insert(ObjectIdentifier(t.storage))
                case .counter(let c): counters.insert(ObjectIdentifier(c))
                }
            }
        }
    }

    /// Paths (from the model's root, by Swift property name) of stored state that `members` misses.
    private func unreachableState(of root: Module) -> [String] {
        let reachable = Reachable(root)
        var missing: [String] = []
        var visited = Set<ObjectIdentifier>()

        func visit(_ value: Any, path: String) {
            if let module = value as? Module {
                guard visited.insert(ObjectIdentifier(module)).inserted else { return }
                if !reachable.modules.contains(ObjectIdentifier(module)) { missing.append("\(path) (module \(type(of: module)))") }
                visitStoredProperties(of: module, path: path)
            } else if let variable = value as? Variable {
                if !reachable.parameters.contains(ObjectIdentifier(variable)) { missing.append("\(path) (parameter)") }
            } else if let tensor = value as? Tensor {
                if !reachable.buffers.contains(ObjectIdentifier(tensor.storage)) { missing.append("\(path) (tensor)") }
            } else if let counter = value as? BatchCounter {
                if !reachable.counters.contains(ObjectIdentifier(counter)) { missing.append("\(path) (counter)") }
            } else if type(of: value) is AnyClass {
                return  // some other object (a generator, a cache): holds no module state
            } else {
                visitStoredProperties(of: value, path: path)  // arrays, optionals, tuples, structs
            }
        }

        func visitStoredProperties(of value: Any, path: String) {
            var mirror: Mirror? = Mirror(reflecting: value)
            while let current = mirror {
                for (index, child) in current.children.enumerated() {
                    visit(child.value, path: path + "." + (child.label ?? String(index)))
                }
                mirror = current.superclassMirror
            }
        }

        visit(root, path: "model")
        return missing
    }

    func testEveryStoredLayerAndParameterOfEveryZooModelIsAMember() throws {
        for name in ModelZoo.allNames {
            let model = try ModelZoo.makeUninitialized(ModelConfiguration(name: name, classes: 10, vocabulary: 50))
            let missing = unreachableState(of: model.module)
            XCTAssertEqual(missing, [], "\(name): stored but not listed in `members` (neither trained nor saved)")
        }
    }

    /// The walk itself finds state hidden from `members` (a module that stores a layer it does
    /// not list), and sees through arrays and optionals.
    func testTheWalkFindsAStoredLayerMissingFromMembers() {
        final class Leaky: Layer {
            let listed = Linear(2, 2)
            let forgotten = [Linear(2, 3)]
            let optionalBias: Variable? = Variable(Tensor(zeros: [3]), requiresGrad: true)
            let statistics = Tensor(zeros: [3])
            var members: [(String, ModuleMember)] { [("listed", .module(listed))] }
            func forward(_ x: Variable, _ c: inout ForwardContext) -> Variable { listed.forward(x, &c) }
        }
        XCTAssertEqual(unreachableState(of: Leaky()),
                       ["model.forgotten.0 (module Linear)", "model.forgotten.0.weight (parameter)",
                        "model.forgotten.0.bias (parameter)", "model.optionalBias (parameter)", "model.statistics (tensor)"])
    }
}

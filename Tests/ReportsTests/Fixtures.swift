import Foundation

/// Writes results directories in the exact layout of docs/RESULTS.md, for the tests.
struct FabricatedResults {
    let root: URL

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("reports-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    func remove() { try? FileManager.default.removeItem(at: root) }

    static let header = "epoch,lr,train_loss,train_error,test_loss,test_error,epoch_seconds,examples_per_second"

    /// One run: `testErrors[i]` is the test error after epoch i + 1; the training loss halves every epoch.
    @discardableResult
    func run(experiment: String, dataset: String = "cifar10", model: String = "resnet18", optimizer: String, lr: Double,
             wd: Double = 0.0005, seed: Int, testErrors: [Double], epochsPlanned: Int? = nil, status: String = "completed") throws -> URL {
        let directory = root.appendingPathComponent(experiment).appendingPathComponent("\(optimizer)-lr\(lr)-wd\(wd)")
            .appendingPathComponent("seed-\(seed)")
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("checkpoint"), withIntermediateDirectories: true)
        var lines = [FabricatedResults.header]
        for (i, error) in testErrors.enumerated() {
            let loss = 2.0 * pow(0.5, Double(i)) * (1 + Double(seed) * 0.05)
            lines.append("\(i + 1),\(lr),\(loss),\(error * 1.5),\(loss * 1.2),\(error),\(10.5 + Double(seed)),4761.9")
        }
        try (lines.joined(separator: "\n") + "\n").write(to: directory.appendingPathComponent("metrics.csv"), atomically: true, encoding: .utf8)
        let best = testErrors.enumerated().min { $0.element < $1.element }
        let json = """
            {
              "experiment": "\(experiment)", "runId": "\(optimizer)-lr\(lr)-wd\(wd)/seed-\(seed)",
              "dataset": "\(dataset)", "model": "\(model)", "optimizer": "\(optimizer)",
              "lr": \(lr), "weightDecay": \(wd), "seed": \(seed),
              "epochsPlanned": \(epochsPlanned ?? testErrors.count), "epochsCompleted": \(testErrors.count),
              "status": "\(status)", "metric": "test_error",
              "final": { "value": \(testErrors.last ?? 0), "epoch": \(testErrors.count) },
              "best": { "value": \(best?.element ?? 0), "epoch": \((best?.offset ?? 0) + 1) },
              "startedAt": "2026-11-22T23:40:00Z", "endedAt": "2026-11-24T02:11:09Z",
              "provenance": { "gitCommit": "abc", "cpu": "test", "threads": 2, "versions": { "adai-bench": "0" } },
              "config": { "name": "\(experiment)", "dataset": { "name": "\(dataset)" }, "model": { "name": "\(model)" },
                          "training": { "epochs": \(epochsPlanned ?? testErrors.count) },
                          "optimizer": { "name": "\(optimizer)", "lr": \(lr), "weightDecay": \(wd) } }
            }
            """
        try json.write(to: directory.appendingPathComponent("run.json"), atomically: true, encoding: .utf8)
        return directory
    }

    /// The comparison fixture: CIFAR-10 ResNet18, 3 epochs of a 200-epoch protocol.
    /// best per seed → mean: adai 4.6, 4.8 → 4.7; sgdm 5.2, 5.4 → 5.3; adam 4.9, 5.1 → 5.0; adabelief 5.0 (one seed);
    /// adai lr 0.1: 8.0 (a worse setting that must not be chosen).
    func comparisonExperiment() throws -> String {
        let e = "cmp"
        try run(experiment: e, optimizer: "adai", lr: 1, seed: 1, testErrors: [10, 4.6, 4.7])
        try run(experiment: e, optimizer: "adai", lr: 1, seed: 2, testErrors: [9, 4.8, 4.9])
        try run(experiment: e, optimizer: "adai", lr: 0.1, seed: 1, testErrors: [20, 8, 8])
        try run(experiment: e, optimizer: "sgdm", lr: 0.1, seed: 1, testErrors: [11, 5.2, 5.3])
        try run(experiment: e, optimizer: "sgdm", lr: 0.1, seed: 2, testErrors: [12, 5.4, 5.5])
        try run(experiment: e, optimizer: "adam", lr: 0.001, seed: 1, testErrors: [12, 4.9, 5.0])
        try run(experiment: e, optimizer: "adam", lr: 0.001, seed: 2, testErrors: [13, 5.1, 5.2])
        try run(experiment: e, optimizer: "adabelief", lr: 0.001, seed: 1, testErrors: [10, 5.0, 5.0])
        return root.appendingPathComponent(e).path
    }

    /// A paper table with three rows of Table 2 (copied from results/paper/table2.csv) and one of another model.
    func paperTable() throws -> String {
        let path = root.appendingPathComponent("paper.csv").path
        try """
            # source: test copy of three rows of results/paper/table2.csv
            dataset,model,optimizer,mean,std
            cifar10,resnet18,adai,4.74,0.14
            cifar10,resnet18,sgdm,5.01,0.03
            cifar10,resnet18,adam,6.53,0.03
            cifar10,resnet18,adaiw,4.59,0.16
            cifar10,vgg16,adai,6.00,0.09

            """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func write(_ text: String, to name: String) throws -> String {
        let path = root.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}

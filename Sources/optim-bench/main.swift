// optim-bench: the time of one optimizer step per million parameters, for every optimizer.
//
//   swift run -c release optim-bench [--million 4] [--repeats 20] [--threads N]
//
// The parameters are shaped like a CIFAR ResNet's (a few large convolution weights and many
// small vectors), with fixed random gradients. Goal: an optimizer step is memory-bound (one pass over
// θ, g and the buffers), so Adam should take ≤ 2 ms per million parameters on the project's 2-core
// machine; more means the update does extra passes or fails to vectorize.

import ArgumentParser
import Engine
import Foundation
import Optim

struct OptimBenchOptions: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "optim-bench",
        abstract: "Times one step of every registered optimizer per million parameters.")

    @Option(help: "Millions of parameters (shaped like a CIFAR ResNet's).")
    var million: Double = 4

    @Option(help: "Timed steps per optimizer (the median is printed).")
    var repeats: Int = 20

    @Option(help: "Threads for the engine (default: all cores).")
    var threads: Int?
}

let options = OptimBenchOptions.parseOrExit()
let million = options.million
let repeats = max(1, options.repeats)
Parallel.setThreadCount(options.threads.flatMap { $0 > 0 ? $0 : nil })

// Shapes: 3×3 convolution weights of 256 and 512 channels until the budget is used, plus 64
// vectors of 512 (batch-norm weights and biases).
var shapes: [[Int]] = (0..<64).map { _ in [512] }
var total = shapes.reduce(0) { $0 + $1.reduce(1, *) }
let target = Int(million * 1_000_000)
while total < target {
    let shape = total + 2_359_296 <= target ? [512, 512, 3, 3] : [256, 256, 3, 3]
    shapes.append(shape)
    total += shape.reduce(1, *)
}
var rng = RandomGenerator(seed: 7)
let parameters: [NamedParameter] = shapes.enumerated().map { i, shape in
    let value = Tensor(zeros: shape), grad = Tensor(zeros: shape)
    rng.fillNormal(value, std: 0.05)
    rng.fillNormal(grad, std: 0.01)
    let v = Variable(value, requiresGrad: true)
    v.grad = grad
    return NamedParameter("p\(i)", v)
}

let count = Double(total)
print(String(format: "optim-bench: %.2fM parameters in %d tensors, %d threads, median of %d steps",
             count / 1e6, parameters.count, Parallel.threadCount, repeats))
print("optimizer    | ms/step | ms per 1M params | GB/s")
print("------------ | ------- | ---------------- | ----")
var adamPerMillion = 0.0
// The optimizers, their settings and bytes per element come from their registrations (Sources/Optim).
for variant in registeredOptimizers.flatMap(\.variants) {
    let name = variant.name
    let optimizer = try makeOptimizer(name, parameters: parameters, options: variant.benchOptions)
    optimizer.step()  // creates the state
    optimizer.step()
    var times: [Double] = []
    for _ in 0..<repeats {
        let start = DispatchTime.now().uptimeNanoseconds
        optimizer.step()
        times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
    }
    times.sort()
    let ms = times[times.count / 2]
    let perMillion = ms / (count / 1e6)
    if name == "adam" { adamPerMillion = perMillion }
    let gbs = Double(variant.benchBytesPerElement) * count / (ms / 1e3) / 1e9
    print(String(format: "%@ | %7.2f | %16.3f | %4.1f", name.padding(toLength: 12, withPad: " ", startingAt: 0), ms, perMillion, gbs))
}
print(String(format: "adam: %.3f ms per million parameters (goal ≤ 2 ms)", adamPerMillion))

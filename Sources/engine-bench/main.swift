// engine-bench: times the engine's conv2d on the 3×3 convolutions of CIFAR ResNet18 and
// compares the achieved GFLOP/s with plain cblas_sgemm on the same GEMM sizes.
//
//   swift run -c release engine-bench [--batch 128] [--repeats 5] [--threads N]
//
// Goal: conv forward and backward each at ≥ 70% of the sgemm rate (a convolution is GEMMs plus the
// im2col/col2im or Winograd transforms around them; below that, the transforms cost more than they should).
// A second table times Winograd (F(2×2, 3×3) forward, F(4×4, 3×3) backward) against im2col on the 3×3 stride-1 shapes of the
// CIFAR models (ResNet, VGG, DenseNet's 128→32 growth layers, ResNet's 3-channel stem), with the
// nominal (direct-convolution) FLOPs divided by the time, so the two columns compare directly.
// A third table times the LSTM's per-step GEMMs on the packed small-M kernel (SmallGEMM.swift)
// against cblas_sgemm, the PTB model's large GEMMs, and one lstmSequence layer forward and backward.
// Alone, on request: DenseNet121's 1×1 convolutions under both strategies (--pointwise-only), and the
// cost of splitting element-wise loops over the threads, concurrentPerform vs the worker pool
// (--parallel-overhead).

import ArgumentParser
import CBLAS
import Engine
import Foundation

/// How the convolutions of the first table run (`--strategy`); without it the engine chooses per layer.
enum ConvolutionStrategy: String, ExpressibleByArgument, CaseIterable {
    /// im2col over a chunk of images, one GEMM per chunk.
    case batched
    /// Each thread convolves its own images with single-threaded GEMMs.
    case threads
}

struct EngineBenchOptions: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engine-bench",
        abstract: "Times the engine's convolutions, Winograd, the LSTM's GEMMs and parallel loops against plain cblas_sgemm.")

    @Option(help: "Images per batch.")
    var batch: Int = 128

    @Option(help: "Timed runs per measurement (the median is printed).")
    var repeats: Int = 5

    @Option(help: "Threads for the engine and OpenBLAS (default: all cores).")
    var threads: Int?

    @Option(help: ArgumentHelp("Images per im2col chunk (default: the engine's).", valueName: "images"))
    var chunk: Int?

    @Option(help: "Force one convolution strategy (default: the engine chooses per layer).")
    var strategy: ConvolutionStrategy?

    @Flag(help: "Only the Winograd column of the second table (e.g. for a profiler).")
    var winogradOnly = false

    @Flag(help: "Only the third table: the LSTM's GEMMs and one lstmSequence layer.")
    var lstmOnly = false

    @Flag(help: "DenseNet121's 1×1 convolutions, one GEMM per image vs batched GEMMs.")
    var pointwiseOnly = false

    @Flag(help: "Element-wise loops: DispatchQueue.concurrentPerform vs the worker pool.")
    var parallelOverhead = false

    @Flag(help: "The AWD-LSTM's locked and word dropout: broadcasting mul vs mulColumns/mulRows.")
    var maskOps = false
}

let options = EngineBenchOptions.parseOrExit()
let batch = options.batch
let repeats = options.repeats
let chunkArg = options.chunk ?? 0  // images per im2col chunk; 0 = the engine's default
// --strategy batched|threads forces one convolution strategy; without it the engine chooses per layer.
let strategyArg: Bool? = options.strategy.map { $0 == .threads }
Parallel.setThreadCount(options.threads.flatMap { $0 > 0 ? $0 : nil })

/// Median wall time of `body` over `repeats` runs after one warm-up.
func medianSeconds(_ body: () -> Void) -> Double {
    body()
    var times: [Double] = []
    for _ in 0..<repeats {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
    times.sort()
    return times[times.count / 2]
}

func gflops(_ flops: Double, _ seconds: Double) -> Double { flops / seconds / 1e9 }

var rng = RandomGenerator(seed: 1)
if options.maskOps {
    // Forward and backward of the AWD-LSTM's mask products at main.py's shapes (batch 20, BPTT 70): locked dropout
    // of a [T·B, D] sequence with one [B, D] mask (D = 400 and 1150), and word dropout of the [10000, 400] embedding
    // matrix with one factor per word; the broadcasting `mul` the model used before against the ops it uses now.
    print("AWD-LSTM mask products, forward + backward, \(Parallel.threadCount) threads, ms (median of \(repeats))")
    print("product | broadcasting mul | mulColumns / mulRows | ratio")
    func timeBoth(_ label: String, _ old: (Variable) -> Variable, _ new: (Variable) -> Variable, shape: [Int]) {
        let x = Variable(Tensor(uninitializedShape: shape), requiresGrad: true)
        rng.fillNormal(x.value)
        func run(_ f: (Variable) -> Variable) -> Double {
            medianSeconds {
                let tape = Tape()
                let y = tape.record { sum(f(x)) }
                tape.backward(from: y)
                x.zeroGrad()
            }
        }
        let a = run(old), b = run(new)
        print(String(format: "%@ | %.2f | %.2f | %.1f×", label, a * 1e3, b * 1e3, a / b))
    }
    let (steps, batchSize) = (70, 20)
    for d in [400, 1150] {
        let mask = Tensor(uninitializedShape: [batchSize, d])
        rng.fillBernoulli(mask.data, count: mask.count, p: 0.6, value: 1 / 0.6)
        timeBoth("locked dropout [\(steps)·\(batchSize), \(d)]", { x in
            reshape(mul(reshape(x, [steps, batchSize * d]), Variable(mask.reshaped([1, batchSize * d]))), [steps * batchSize, d])
        }, { x in mulColumns(x, mask) }, shape: [steps * batchSize, d])
    }
    let words = Tensor(uninitializedShape: [10000])
    rng.fillBernoulli(words.data, count: words.count, p: 0.9, value: 1 / 0.9)
    timeBoth("word dropout [10000, 400]", { x in mul(x, Variable(words.reshaped([10000, 1]))) }, { x in mulRows(x, words) },
             shape: [10000, 400])
    exit(0)
}
let parallelOnly = options.parallelOverhead
let pointwiseOnly = options.pointwiseOnly
if parallelOnly {
    // Element-wise loops of `work` floats split over the threads, 2²⁴ floats in all, through
    // DispatchQueue.concurrentPerform and through Parallel.run (the engine's worker pool); the second
    // half puts a small GEMM (256³, on all threads under the engine's GEMM threading) before every loop,
    // as convolutions and linear layers interleave with element-wise passes in a training step. Both
    // ways alternate in each round.
    let n = 1 << 22
    let x = Tensor(uninitializedShape: [n]), y = Tensor(uninitializedShape: [n])
    let g = Tensor(uninitializedShape: [256 * 256]), gc = Tensor(uninitializedShape: [256 * 256])
    rng.fillNormal(x); rng.fillNormal(g)
    print("element-wise loops over 2^24 floats in all, \(Parallel.threadCount) threads, ms (median of \(repeats))")
    print("loop size, floats | concurrentPerform | Parallel.run | concurrentPerform + GEMM | Parallel.run + GEMM")
    for work in [1 << 14, 1 << 17, 1 << 20, 1 << 22] {
        var times = [[Double]](repeating: [], count: 4)
        for round in 0...repeats {
            for column in 0..<4 {
                let pool = column % 2 == 1, withGEMM = column >= 2
                let start = DispatchTime.now().uptimeNanoseconds
                for _ in 0..<(1 << 24) / work {
                    if withGEMM {
                        Kernels.gemm(transA: false, transB: false, m: 256, n: 256, k: 256, a: g.data, lda: 256, b: g.data,
                                     ldb: 256, c: gc.data, ldc: 256)
                    }
                    let parts = Parallel.threadCount, px = x.data, py = y.data
                    let body: (Int) -> Void = { p in
                        for i in (p * work / parts)..<((p + 1) * work / parts) { py[i] = px[i] * 1.5 + 0.5 }
                    }
                    if pool { Parallel.run(parts: parts, body) } else { DispatchQueue.concurrentPerform(iterations: parts, execute: body) }
                }
                if round > 0 { times[column].append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6) }
            }
        }
        let medians = times.map { $0.sorted()[$0.count / 2] }
        print(String(format: "%17d | %17.2f | %12.2f | %24.2f | %19.2f", work, medians[0], medians[1], medians[2], medians[3]))
    }
    exit(0)
}

if pointwiseOnly {  // DenseNet121's 1×1 bottleneck convolutions (C → 128) and a transition, both strategies
    print("DenseNet121 1×1 convolutions, batch \(batch), GFLOP/s (T: one GEMM per image, threads across images;")
    print("B: batched GEMM over image chunks); * marks the engine's default")
    print("layer               | T fwd | B fwd | T bwd | B bwd")
    for (cIn, cOut, size) in [(224, 128, 32), (480, 128, 16), (256, 128, 8), (640, 128, 8), (992, 128, 8),
                              (512, 128, 4), (992, 128, 4), (1024, 512, 8)] {
        let x = Tensor(uninitializedShape: [batch, cIn, size, size]), w = Tensor(uninitializedShape: [cOut, cIn, 1, 1])
        let y = Tensor(uninitializedShape: [batch, cOut, size, size])
        let dx = Tensor(zeros: x.shape), dw = Tensor(zeros: w.shape)
        rng.fillNormal(x); rng.fillNormal(w, std: 0.05); rng.fillNormal(y)
        var cells: [String] = []
        var rates: [Double] = []
        let automatic = Conv2dGeometry(batch: batch, inChannels: cIn, height: size, width: size, outChannels: cOut,
                                       kernelH: 1, kernelW: 1, stride: 1, padding: 0).imagesAcrossThreads
        for across in [true, false] {
            let g = Conv2dGeometry(batch: batch, inChannels: cIn, height: size, width: size, outChannels: cOut,
                                   kernelH: 1, kernelW: 1, stride: 1, padding: 0, imagesAcrossThreads: across)
            rates.append(gflops(g.forwardFlops, medianSeconds { ConvKernels.forward(x.data, w.data, nil, g, y.data) }))
            rates.append(gflops(2 * g.forwardFlops, medianSeconds {
                ConvKernels.backward(x.data, w.data, y.data, g, dx: dx.data, dw: dw.data)
            }))
        }
        for (i, r) in [rates[0], rates[2], rates[1], rates[3]].enumerated() {
            let mark = (i % 2 == 0) == automatic ? "*" : " "
            cells.append(String(format: "%5.1f%@", r, mark))
        }
        let name = "\(cIn)→\(cOut) \(size)×\(size)".padding(toLength: 19, withPad: " ", startingAt: 0)
        print("\(name) | " + cells.joined(separator: "| "))
    }
    exit(0)
}

print("engine-bench: conv2d 3×3 stride 1 pad 1, batch \(batch), \(Parallel.threadCount) threads, median of \(repeats)" +
      (chunkArg > 0 ? ", \(chunkArg) images per chunk" : ""))
print("layer (T: images across threads, B: batched GEMM)")
print("layer          | fwd GF/s | sgemm fwd | ratio | bwd GF/s | sgemm bwd | ratio")
var worstRatio = Double.infinity
let winogradOnly = options.winogradOnly
let lstmOnly = options.lstmOnly
let im2colShapes = winogradOnly || lstmOnly ? [] : [(64, 32), (128, 16), (256, 8), (512, 4)]
for (channels, size) in im2colShapes {
    let g = Conv2dGeometry(batch: batch, inChannels: channels, height: size, width: size, outChannels: channels,
                           kernelH: 3, kernelW: 3, stride: 1, padding: 1,
                           imagesPerChunk: chunkArg > 0 ? chunkArg : nil, imagesAcrossThreads: strategyArg,
                           winograd: false)
    let x = Tensor(uninitializedShape: [batch, channels, size, size])
    let w = Tensor(uninitializedShape: [channels, channels, 3, 3])
    let y = Tensor(uninitializedShape: [batch, channels, size, size])
    let dx = Tensor(zeros: x.shape), dw = Tensor(zeros: w.shape)
    rng.fillNormal(x); rng.fillNormal(w, std: 0.05); rng.fillNormal(y)
    let flops = g.forwardFlops
    let fwd = medianSeconds { ConvKernels.forward(x.data, w.data, nil, g, y.data) }
    let bwd = medianSeconds { ConvKernels.backward(x.data, w.data, y.data, g, dx: dx.data, dw: dw.data) }

    // The same GEMMs, each as one plain cblas_sgemm call over the whole batch.
    let m = channels, k = g.patchSize, n = batch * g.outPlane
    let a = Tensor(uninitializedShape: [m, k]), b = Tensor(uninitializedShape: [k, n]), c = Tensor(uninitializedShape: [m, n])
    rng.fillNormal(a); rng.fillNormal(b); rng.fillNormal(c)
    let col = Tensor(uninitializedShape: [k, n])
    let gemmFwd = medianSeconds {
        Kernels.gemm(transA: false, transB: false, m: m, n: n, k: k, a: a.data, lda: k, b: b.data, ldb: n, c: c.data, ldc: n)
    }
    let gemmBwd = medianSeconds {
        // data: col [K, N] = Wᵀ [K, M] × dY [M, N];  weights: dW [M, K] += dY [M, N] × colᵀ [N, K]
        Kernels.gemm(transA: true, transB: false, m: k, n: n, k: m, a: a.data, lda: k, b: c.data, ldb: n, c: col.data, ldc: n)
        Kernels.gemm(transA: false, transB: true, m: m, n: k, k: n, a: c.data, lda: n, b: b.data, ldb: n, beta: 1, c: a.data, ldc: k)
    }
    let rf = gflops(flops, fwd) / gflops(flops, gemmFwd)
    let rb = gflops(2 * flops, bwd) / gflops(2 * flops, gemmBwd)
    worstRatio = min(worstRatio, rf, rb)
    let name = "\(channels)ch \(size)×\(size)\(g.imagesAcrossThreads ? " T" : " B")".padding(toLength: 14, withPad: " ", startingAt: 0)
    print(String(format: "%@ | %8.1f | %9.1f | %4.0f%% | %8.1f | %9.1f | %4.0f%%", name,
                 gflops(flops, fwd), gflops(flops, gemmFwd), rf * 100, gflops(2 * flops, bwd), gflops(2 * flops, gemmBwd), rb * 100))
}
print(String(format: "worst ratio: %.0f%% of sgemm (goal ≥ 70%%)", worstRatio * 100))

print("")
print("Winograd (forward \(Winograd.forwardTiles.rawValue), backward \(Winograd.backwardTiles.rawValue); F(2×2) for outputs under 4×4)")
print("vs im2col + SGEMM,")
print("nominal GFLOP/s (direct-convolution FLOPs / time)")
print("layer              | im2col fwd | wino fwd | speedup | im2col bwd | wino bwd | speedup | default")
let winogradShapes: [(Int, Int, Int)] = lstmOnly ? [] : [(3, 64, 32), (64, 64, 32), (128, 128, 16), (256, 256, 8), (512, 512, 4), (512, 512, 2),
                                         (128, 32, 32), (128, 32, 16), (128, 32, 8), (128, 32, 4)]
for (cIn, cOut, size) in winogradShapes {
    func geometry(_ winograd: Bool?) -> Conv2dGeometry {
        Conv2dGeometry(batch: batch, inChannels: cIn, height: size, width: size, outChannels: cOut,
                       kernelH: 3, kernelW: 3, stride: 1, padding: 1, winograd: winograd)
    }
    let x = Tensor(uninitializedShape: [batch, cIn, size, size]), w = Tensor(uninitializedShape: [cOut, cIn, 3, 3])
    let y = Tensor(uninitializedShape: [batch, cOut, size, size])
    let dx = Tensor(zeros: x.shape), dw = Tensor(zeros: w.shape)
    rng.fillNormal(x); rng.fillNormal(w, std: 0.05); rng.fillNormal(y)
    var row: [Double] = []
    for g in [geometry(false), geometry(true)] {
        if winogradOnly && !g.winograd { row += [.nan, .nan]; continue }
        row.append(gflops(g.forwardFlops, medianSeconds { ConvKernels.forward(x.data, w.data, nil, g, y.data) }))
        row.append(gflops(2 * g.forwardFlops, medianSeconds {
            ConvKernels.backward(x.data, w.data, y.data, g, dx: dx.data, dw: dw.data)
        }))
    }
    let name = "\(cIn)→\(cOut) \(size)×\(size)".padding(toLength: 18, withPad: " ", startingAt: 0)
    print(String(format: "%@ | %10.1f | %8.1f | %6.2f× | %10.1f | %8.1f | %6.2f× | %@", name, row[0], row[2], row[2] / row[0],
                 row[1], row[3], row[3] / row[1], geometry(nil).winograd ? "winograd" : "im2col"))
}

print("")
print("LSTM recurrent-step GEMMs (one thread's share of the PTB model's 2 threads: B = 20, H = 512),")
print("single-threaded, GFLOP/s: packed small-M kernel (B packed once, outside the timing) vs cblas_sgemm")
print("GEMM                               | cblas | packed | speedup")
var packedForwardRate = 0.0  // GFLOP/s of the first row's packed kernel, for the layer timing below
for (name, m, n, k, transB) in [("forward  h·W_hhᵀ  20×1024×512", 20, 1024, 512, true),
                                  ("backward ∂a·W_hh  20×512×1024", 20, 512, 1024, false),
                                  ("one thread       20×2048×512", 20, 2048, 512, true),
                                  ("batch 128        128×1024×512", 128, 1024, 512, true),
                                  ("hidden 1500      20×3000×1500", 20, 3000, 1500, true),
                                  ("odd sizes        13×100×37", 13, 100, 37, false)] {
    let a = Tensor(uninitializedShape: [m, k]), b = Tensor(uninitializedShape: transB ? [n, k] : [k, n])
    let c = Tensor(uninitializedShape: [m, n])
    rng.fillNormal(a); rng.fillNormal(b)
    let ldb = transB ? k : n
    openblas_set_num_threads(1)
    let reps = 50
    let blas = medianSeconds {
        for _ in 0..<reps {
            Kernels.sgemm(transA: false, transB: transB, m: m, n: n, k: k, alpha: 1, a: a.data, lda: k, b: b.data, ldb: ldb,
                          beta: 0, c: c.data, ldc: n)
        }
    }
    let packed = PackedGEMMOperand(b: b.data, ldb: ldb, k: k, n: n, transposed: transB)
    let small = medianSeconds {
        for _ in 0..<reps { SmallGEMM.multiply(m: m, a: a.data, lda: k, b: packed, c: c.data, ldc: n) }
    }
    Parallel.setThreadCount(Parallel.threadCount)  // OpenBLAS back to the engine's setting
    let flops = 2.0 * Double(m * n * k * reps)
    print(String(format: "%@ | %5.1f | %6.1f | %6.2f×", name.padding(toLength: 34, withPad: " ", startingAt: 0),
                 gflops(flops, blas), gflops(flops, small), blas / small))
    if packedForwardRate == 0 { packedForwardRate = gflops(flops, small) }
}

print("")
print("The PTB model's large GEMMs (700 tokens, H = 512, vocabulary 10,000) on \(Parallel.threadCount) threads, GFLOP/s:")
print("split into single-threaded OpenBLAS calls on our pool (the default) vs one call on OpenBLAS's threads")
print("GEMM                                 | split ms | GFLOP/s | openblas ms | GFLOP/s | ratio")
for (name, m, n, k, transA, transB) in [("decoder forward  X·Wᵀ  700×10000×512", 700, 10000, 512, false, true),
                                        ("decoder ∂X       ∂Y·W  700×512×10000", 700, 512, 10000, false, false),
                                        ("decoder ∂W       ∂Yᵀ·X 10000×512×700", 10000, 512, 700, true, false),
                                        ("input projection X·Wᵀ  700×2048×512", 700, 2048, 512, false, true),
                                        ("projection ∂W    ∂Yᵀ·X 2048×512×700", 2048, 512, 700, true, false)] {
    let a = Tensor(uninitializedShape: [m * k]), b = Tensor(uninitializedShape: [k * n]), c = Tensor(uninitializedShape: [m * n])
    rng.fillNormal(a); rng.fillNormal(b)
    // Three rounds alternating the two settings; the median round of each.
    var rounds: [GEMMThreading: [Double]] = [:]
    for _ in 0..<3 {
        for threading in [GEMMThreading.split, .openBLAS] {
            Parallel.setGEMMThreading(threading)
            rounds[threading, default: []].append(medianSeconds {
                Kernels.gemm(transA: transA, transB: transB, m: m, n: n, k: k, a: a.data, lda: transA ? m : k,
                             b: b.data, ldb: transB ? k : n, c: c.data, ldc: n)
            })
        }
    }
    Parallel.setGEMMThreading(.split)
    let split = rounds[.split]!.sorted()[1], threaded = rounds[.openBLAS]!.sorted()[1], flops = 2.0 * Double(m * n * k)
    print(String(format: "%@ | %8.1f | %7.1f | %11.1f | %7.1f | %4.2f×", name.padding(toLength: 36, withPad: " ", startingAt: 0),
                 split * 1e3, gflops(flops, split), threaded * 1e3, gflops(flops, threaded), threaded / split))
}

do {  // one LSTM layer of the PTB model through `lstmSequence`, forward and backward
    let steps = 35, b = 20, h = 512
    let projected = Variable(Tensor(uninitializedShape: [steps * b, 4 * h]), requiresGrad: true)
    let weightHH = Variable(Tensor(uninitializedShape: [4 * h, h]), requiresGrad: true)
    let biasHH = Variable(Tensor(zeros: [4 * h]), requiresGrad: true)
    rng.fillNormal(projected.value); rng.fillNormal(weightHH.value, std: 0.04)
    let h0 = Tensor(zeros: [b, h]), c0 = Tensor(zeros: [b, h]), seed = Tensor(uninitializedShape: [steps * b, h])
    rng.fillNormal(seed)
    var forwardSeconds = 0.0
    let total = medianSeconds {
        let tape = Tape()
        let start = DispatchTime.now().uptimeNanoseconds
        let out = tape.record {
            lstmSequence(projected: projected, weightHH: weightHH, biasHH: biasHH, h0: h0, c0: c0, steps: steps, batch: b)
        }
        forwardSeconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        tape.backward(from: out.hidden, seed: seed)
    }
    let recurrentFlops = 2.0 * Double(steps * b * 4 * h * h)  // the per-step GEMMs of one direction
    print("")
    print(String(format: "lstmSequence, 35 steps × batch 20, H = 512: forward %.1f ms, forward + backward %.1f ms", forwardSeconds * 1e3, total * 1e3))
    print(String(format: "(the forward's per-step GEMMs alone, on %d threads at the rate of the table's first row: %.1f ms)",
                 Parallel.threadCount, recurrentFlops / (Double(Parallel.threadCount) * packedForwardRate * 1e9) * 1e3))
}

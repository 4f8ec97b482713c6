import Dispatch
import Engine
import Foundation
import Optim

/// The mean-escape-time experiment of the Adai paper (§6, Figure 6, Appendix E): how fast an
/// optimizer leaves a minimum as a function of the minimum's sharpness.
///
/// The loss. A fixed training set of N (default 50,000) samples ξₙ ~ N(0, I_D) is drawn once from the
/// seed. With θ = √k · w (w are the optimized parameters, k the sharpness factor) and the
/// D-dimensional Styblinski–Tang function f(θ) = ½ Σᵢ (θᵢ⁴ − 16θᵢ² + 5θᵢ), the per-sample loss is
///
///     ℓ(w; ξₙ) = f(√k · w − σ · ξₙ)          (σ = `noiseScale`, the option --noise-scale)
///
/// i.e. the function evaluated at θ shifted by the sample, and the training loss is
/// L(w) = (1/N) Σₙ ℓ(w; ξₙ). A minibatch gradient averages ∇ℓ = √k · f′(√k·w − σ·ξ) over B samples
/// drawn uniformly with replacement. Because L(w) = L_θ(√k·w), the Hessian in w is k times the
/// Hessian in θ while the loss barrier stays the same: k sets the sharpness alone. The gradient
/// noise covariance in w is k times that in θ as well, so it stays proportional to the Hessian,
/// as for the minibatch noise of a real model near a minimum.
///
/// L is separable: each coordinate is the same one-dimensional double well (with the empirical
/// moments of its own column of samples). For each coordinate the start is its exact minimum in the
/// valley near θ = +2.75 (the shallower, "local" valley; barrier ≈ 25 for σ = 0) and the barrier is
/// its exact local maximum near θ = 0.157, both found by Newton's method on L. Every repeat starts
/// at that minimum; the escape time is the first iteration t (1-based) after which some coordinate
/// has crossed its barrier (θᵢ < bᵢ). Repeats that have not escaped after `maxSteps` iterations are
/// censored at `maxSteps` (see `EscapeRateEstimate`).
///
/// Randomness: repeat r at factor k draws its minibatches from
/// `RandomGenerator(seed).fork("minibatches").fork("k=<k>").fork(r)`: the same streams for every
/// optimizer (common random numbers), independent of the number of threads.
public struct EscapeExperiment {
    public var dimension = 10
    public var samples = 50_000
    public var noiseScale = 1.0
    public var batchSize = 1
    public var repeats = 100
    public var maxSteps = 100_000
    public var seed: UInt64 = 0
    public var ks: [Double] = [1, 2, 4]
    public var optimizers: [OptimizerChoice] = []
    public var confidence = 0.95
    /// Threads for the repeats; nil means all cores.
    public var threads: Int?

    public init() {}

    /// One coordinate's landscape: the start (minimum) and the barrier (maximum) in θ.
    public struct Landscape: Equatable {
        public let minimum: [Double]
        public let barrier: [Double]
        /// L's height at the barrier minus at the minimum, per coordinate.
        public let barrierHeight: [Double]
        /// ∂²L/∂θᵢ² at the minimum (the Hessian in w is k times this).
        public let curvature: [Double]
    }

    /// One repeat's outcome.
    public struct Outcome: Equatable {
        public let optimizer: String
        public let k: Double
        public let repeatIndex: Int
        /// The escape iteration, or `maxSteps` when censored.
        public let time: Int
        public let escaped: Bool
    }

    public struct Summary {
        public let optimizer: String
        public let k: Double
        public let estimate: EscapeRateEstimate
    }

    public struct Fit {
        public let optimizer: String
        /// "1/k" or "1/sqrt(k)".
        public let variable: String
        public let fit: LinearFit
    }

    public struct Result {
        public let landscape: Landscape
        public let outcomes: [Outcome]
        public let summaries: [Summary]
        public let fits: [Fit]
    }

    public func validate() throws {
        guard dimension >= 1 else { throw AnalysisError("--dim must be >= 1, got \(dimension)") }
        guard samples >= 1 else { throw AnalysisError("--samples must be >= 1, got \(samples)") }
        guard batchSize >= 1, batchSize <= samples else {
            throw AnalysisError("--batch-size must be in 1...\(samples) (the number of samples), got \(batchSize)")
        }
        guard repeats >= 1 else { throw AnalysisError("--repeats must be >= 1, got \(repeats)") }
        guard maxSteps >= 1 else { throw AnalysisError("--max-steps must be >= 1, got \(maxSteps)") }
        guard noiseScale >= 0, noiseScale.isFinite else { throw AnalysisError("--noise-scale must be >= 0, got \(noiseScale)") }
        guard !ks.isEmpty, ks.allSatisfy({ $0 > 0 && $0.isFinite }) else {
            throw AnalysisError("--k needs one or more sharpness factors > 0, e.g. --k 1,2,4")
        }
        guard Set(ks).count == ks.count else { throw AnalysisError("--k lists a sharpness factor twice: \(ks)") }
        guard !optimizers.isEmpty else {
            throw AnalysisError("give at least one --optimizer NAME[:key=value…], e.g. --optimizer sgdm:lr=0.01:momentum=0.9")
        }
        let labels = optimizers.map(\.label)
        guard Set(labels).count == labels.count else {
            throw AnalysisError("two optimizers have the same label (\(labels.joined(separator: ", "))); add :label=NAME to tell them apart")
        }
    }

    /// The fixed training set: samples × dimension values of σ·ξ, row-major.
    public func shifts() -> [Double] {
        var rng = RandomGenerator(seed: seed).fork("samples")
        return (0..<(samples * dimension)).map { _ in noiseScale * rng.nextNormal() }
    }

    /// The start and barrier of every coordinate for the training set `shifts`.
    public func landscape(shifts: [Double]) throws -> Landscape {
        var minimum: [Double] = [], barrier: [Double] = [], height: [Double] = [], curvature: [Double] = []
        for i in 0..<dimension {
            // Moments of column i: L_i(θ) = ½ mean[(θ−s)⁴ − 16(θ−s)² + 5(θ−s)].
            var m = [0.0, 0.0, 0.0, 0.0, 0.0]
            for n in 0..<samples {
                let s = shifts[n * dimension + i]
                var p = 1.0
                for j in 0...4 { m[j] += p; p *= s }
            }
            m = m.map { $0 / Double(samples) }
            let value = { (t: Double) -> Double in
                // E(θ−s)^4 = θ⁴ − 4θ³m1 + 6θ²m2 − 4θm3 + m4; E(θ−s)² = θ² − 2θm1 + m2; E(θ−s) = θ − m1
                let e4 = t * t * t * t - 4 * t * t * t * m[1] + 6 * t * t * m[2] - 4 * t * m[3] + m[4]
                let e2 = t * t - 2 * t * m[1] + m[2]
                return 0.5 * (e4 - 16 * e2 + 5 * (t - m[1]))
            }
            let first = { (t: Double) -> Double in
                2 * (t * t * t - 3 * t * t * m[1] + 3 * t * m[2] - m[3]) - 16 * (t - m[1]) + 2.5
            }
            let second = { (t: Double) -> Double in 6 * (t * t - 2 * t * m[1] + m[2]) - 16 }
            func newton(_ start: Double) -> Double? {
                var t = start
                for _ in 0..<100 {
                    let h = second(t)
                    guard h != 0 else { return nil }
                    let step = first(t) / h
                    t -= step
                    if abs(step) < 1e-14 * max(1, abs(t)) { return t }
                }
                return abs(first(t)) < 1e-9 ? t : nil
            }
            guard let lo = newton(2.746803), second(lo) > 0, let hi = newton(0.156731), second(hi) < 0, hi < lo else {
                throw AnalysisError("with --noise-scale \(noiseScale) the loss has no double well in coordinate \(i) "
                                    + "(the valleys merge when σ² approaches 8/3); use a smaller --noise-scale, e.g. 1")
            }
            minimum.append(lo); barrier.append(hi); height.append(value(hi) - value(lo)); curvature.append(second(lo))
        }
        return Landscape(minimum: minimum, barrier: barrier, barrierHeight: height, curvature: curvature)
    }

    /// Runs every (optimizer, k, repeat), spread over the cores, and summarises.
    public func run(progress: ((String) -> Void)? = nil) throws -> Result {
        try validate()
        let shifts = self.shifts()
        let landscape = try self.landscape(shifts: shifts)
        struct Job { let optimizer: Int; let k: Int; let repeatIndex: Int }
        var jobs: [Job] = []
        for o in optimizers.indices { for k in ks.indices { for r in 0..<repeats { jobs.append(Job(optimizer: o, k: k, repeatIndex: r)) } } }
        var times = [Int](repeating: 0, count: jobs.count)
        var escaped = [Bool](repeating: false, count: jobs.count)
        var errors = [String?](repeating: nil, count: jobs.count)
        let threadCount = max(1, threads ?? ProcessInfo.processInfo.activeProcessorCount)
        let next = Counter()
        times.withUnsafeMutableBufferPointer { times in
            escaped.withUnsafeMutableBufferPointer { escaped in
                errors.withUnsafeMutableBufferPointer { errors in
                    DispatchQueue.concurrentPerform(iterations: threadCount) { _ in
                        while true {
                            let j = next.increment()
                            if j >= jobs.count { break }
                            let job = jobs[j]
                            do {
                                let (t, e) = try runRepeat(optimizer: optimizers[job.optimizer], k: ks[job.k],
                                                           repeatIndex: job.repeatIndex, shifts: shifts, landscape: landscape)
                                times[j] = t; escaped[j] = e
                            } catch {
                                errors[j] = "\(error)"
                            }
                        }
                    }
                }
            }
        }
        if let message = errors.compactMap({ $0 }).first { throw AnalysisError(message) }
        var outcomes: [Outcome] = []
        for (j, job) in jobs.enumerated() {
            outcomes.append(Outcome(optimizer: optimizers[job.optimizer].label, k: ks[job.k], repeatIndex: job.repeatIndex,
                                    time: times[j], escaped: escaped[j]))
        }
        var summaries: [Summary] = []
        var fits: [Fit] = []
        for o in optimizers {
            var ok: [(Double, Double)] = []
            for k in ks {
                let rows = outcomes.filter { $0.optimizer == o.label && $0.k == k }
                let estimate = try EscapeRateEstimate(times: rows.map { Double($0.time) }, escaped: rows.map(\.escaped),
                                                      confidence: confidence)
                summaries.append(Summary(optimizer: o.label, k: k, estimate: estimate))
                progress?("\(o.label) k=\(format9(k)): \(estimate.escapes)/\(estimate.repeats) escaped, rate \(format9(estimate.rate))")
                if estimate.escapes > 0 { ok.append((k, estimate.rate)) }
            }
            if ok.count >= 2 {
                let y = ok.map { -Foundation.log($0.1) }
                fits.append(Fit(optimizer: o.label, variable: "1/k", fit: try LinearFit(x: ok.map { 1 / $0.0 }, y: y)))
                fits.append(Fit(optimizer: o.label, variable: "1/sqrt(k)", fit: try LinearFit(x: ok.map { 1 / $0.0.squareRoot() }, y: y)))
            }
        }
        return Result(landscape: landscape, outcomes: outcomes, summaries: summaries, fits: fits)
    }

    /// One repeat: (escape iteration or maxSteps, escaped).
    public func runRepeat(optimizer choice: OptimizerChoice, k: Double, repeatIndex: Int, shifts: [Double],
                          landscape: Landscape) throws -> (Int, Bool) {
        let d = dimension
        let rootK = k.squareRoot()
        let w = Variable(Tensor(shape: [d], values: landscape.minimum.map { Float($0 / rootK) }), requiresGrad: true)
        let gradient = Tensor(zeros: [d])
        w.grad = gradient
        let optimizer = try choice.make([NamedParameter("w", w)])
        var rng = RandomGenerator(seed: seed).fork("minibatches").fork("k=\(format9(k))").fork(repeatIndex)
        var g = [Double](repeating: 0, count: d)
        let barrier = landscape.barrier
        let invBatch = 1 / Double(batchSize)
        for t in 1...maxSteps {
            for i in 0..<d { g[i] = 0 }
            for _ in 0..<batchSize {
                let n = rng.nextInt(below: samples)
                shifts.withUnsafeBufferPointer { s in
                    for i in 0..<d {
                        let u = rootK * Double(w.value[i]) - s[n * d + i]
                        g[i] += 2 * u * u * u - 16 * u + 2.5
                    }
                }
            }
            for i in 0..<d { gradient[i] = Float(rootK * g[i] * invBatch) }
            optimizer.step()
            for i in 0..<d {
                let theta = rootK * Double(w.value[i])
                if !theta.isFinite {
                    throw AnalysisError("\(choice.label) diverged at k=\(format9(k)) (repeat \(repeatIndex), step \(t)); lower its lr")
                }
                if theta < barrier[i] { return (t, true) }
            }
        }
        return (maxSteps, false)
    }
}

/// A shared counter handing out job indices to threads.
final class Counter: @unchecked Sendable {
    private var value = 0
    private let lock = NSLock()
    func increment() -> Int {
        lock.lock(); defer { lock.unlock() }
        let v = value
        value += 1
        return v
    }
}

extension EscapeExperiment.Result {
    /// `optimizer,k,repeat,escape_time,escaped` for every repeat.
    public var timesCSV: String {
        var out = "optimizer,k,repeat,escape_time,escaped\n"
        for o in outcomes { out += "\(o.optimizer),\(format9(o.k)),\(o.repeatIndex),\(o.time),\(o.escaped ? 1 : 0)\n" }
        return out
    }

    /// The input of `adai-bench plot escape`: `optimizer,k,escape_rate,ci_low,ci_high`, rows with no
    /// escape left out (noted in a comment).
    public func rateCSV(confidence: Double) -> String {
        var out = "# escape rate = escapes per iteration (MLE d/T for exponential times); [ci_low, ci_high] its \(format9(confidence * 100))% interval\n"
        out += "optimizer,k,escape_rate,ci_low,ci_high\n"
        for s in summaries {
            if s.estimate.escapes == 0 {
                out += "# \(s.optimizer) k=\(format9(s.k)): no escape in \(s.estimate.repeats) repeats\n"
                continue
            }
            out += "\(s.optimizer),\(format9(s.k)),\(format9(s.estimate.rate)),\(format9(s.estimate.low)),\(format9(s.estimate.high))\n"
        }
        return out
    }

    /// `optimizer,k,repeats,escapes,mean_escape_time,escape_rate,ci_low,ci_high,neg_log_rate`.
    public var summaryCSV: String {
        var out = "optimizer,k,repeats,escapes,mean_escape_time,escape_rate,ci_low,ci_high,neg_log_rate\n"
        for s in summaries {
            let e = s.estimate
            out += "\(s.optimizer),\(format9(s.k)),\(e.repeats),\(e.escapes),\(format9(e.meanTime)),\(format9(e.rate)),"
                + "\(format9(e.low)),\(format9(e.high)),\(format9(-Foundation.log(e.rate)))\n"
        }
        return out
    }

    /// `optimizer,variable,slope,intercept,r_squared,points`: −ln Γ = intercept + slope · variable.
    public var fitsCSV: String {
        var out = "optimizer,variable,slope,intercept,r_squared,points\n"
        for f in fits {
            out += "\(f.optimizer),\(f.variable),\(format9(f.fit.slope)),\(format9(f.fit.intercept)),\(format9(f.fit.rSquared)),\(f.fit.points)\n"
        }
        return out
    }
}

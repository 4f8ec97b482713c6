import Dispatch
import Engine
import Foundation
import Optim

/// Escaping a strict saddle (Adai paper §4, Theorems 1–2, Propositions 1 and 3; Staib et al. 2019).
///
/// The loss is the quadratic f(x) = ½ Σᵢ hᵢ xᵢ² with curvatures h (several positive and one small
/// negative one, the escape direction). Every repeat starts at the saddle x = 0, where the exact
/// gradient is zero, so only gradient noise moves it: the stochastic gradient is
///
///     g = h ⊙ x + ξ,   ξᵢ ~ N(0, σ² · |hᵢ|)   (noise "hessian": covariance ∝ |H|, as minibatch noise near
///                                             a critical point, C ≈ H/B)
///                  or   ξᵢ ~ N(0, σ²)          (noise "isotropic").
///
/// Reported for every optimizer: the mean over repeats of x_esc² (the squared displacement along the
/// negative-curvature direction) and of the mean xᵢ² over the positive-curvature directions, every
/// `every` iterations. Adam rescales the noise by v^{−1/2}, which makes its diffusion along the
/// escape direction nearly independent of |h_esc| (Staib et al.); SGD's diffuses with σ²|h_esc|·lr²;
/// momentum and Adai add the momentum drift.
///
/// Repeat r draws its noise from `RandomGenerator(seed).fork("saddle").fork(r)` (the same for every
/// optimizer), independent of the number of threads.
public struct SaddleExperiment {
    public enum Noise: String, CaseIterable {
        case hessian, isotropic

        public init(parsing text: String) throws {
            guard let noise = Noise(rawValue: text) else {
                throw AnalysisError("--noise must be hessian or isotropic, got '\(text)'")
            }
            self = noise
        }
    }

    public var curvatures: [Double] = [1, 1, 1, 1, -0.01]
    public var noise: Noise = .hessian
    public var noiseScale = 1.0
    public var steps = 1000
    public var every = 10
    public var repeats = 200
    public var seed: UInt64 = 0
    /// Steps taken before step 0 with x held at the saddle (x is put back to 0 after each): they fill the
    /// optimizer's buffers (momentum, Adam's moments) from their equilibrium at the saddle, the state the
    /// paper's Theorem 2 assumes. Their noise comes from its own stream, `fork("saddle-warm").fork(r)`,
    /// so the steps that follow draw the same noise as a cold start. 0 is a cold start (empty buffers).
    public var warmSteps = 0
    public var optimizers: [OptimizerChoice] = []
    public var threads: Int?

    public init() {}

    public struct Row: Equatable {
        public let optimizer: String
        public let step: Int
        public let escapeDisplacement: Double
        public let otherDisplacement: Double
    }

    public func validate() throws {
        guard curvatures.count >= 2 else {
            throw AnalysisError("--curvatures needs at least two values (positive ones and one negative), got \(curvatures.count)")
        }
        guard curvatures.filter({ $0 < 0 }).count == 1, curvatures.allSatisfy({ $0 != 0 && $0.isFinite }) else {
            throw AnalysisError("--curvatures must have exactly one negative value (the escape direction) and no zeros, got \(curvatures.map(format9).joined(separator: ","))")
        }
        guard steps >= 1 else { throw AnalysisError("--steps must be >= 1, got \(steps)") }
        guard every >= 1 else { throw AnalysisError("--every must be >= 1, got \(every)") }
        guard repeats >= 1 else { throw AnalysisError("--repeats must be >= 1, got \(repeats)") }
        guard warmSteps >= 0 else { throw AnalysisError("--warm-steps must be >= 0, got \(warmSteps)") }
        guard noiseScale > 0, noiseScale.isFinite else { throw AnalysisError("--noise-scale must be > 0, got \(noiseScale)") }
        guard !optimizers.isEmpty else { throw AnalysisError("give at least one --optimizer NAME[:key=value…]") }
        guard Set(optimizers.map(\.label)).count == optimizers.count else {
            throw AnalysisError("two optimizers have the same label; add :label=NAME to tell them apart")
        }
    }

    public var recordedSteps: [Int] { [0] + Array(stride(from: every, through: steps, by: every)) }

    /// One repeat's squared coordinates at `recordedSteps`: [record][coordinate].
    public func runRepeat(_ choice: OptimizerChoice, repeatIndex: Int) throws -> [[Double]] {
        let d = curvatures.count
        let x = Variable(Tensor(zeros: [d]), requiresGrad: true)
        let gradient = Tensor(zeros: [d])
        x.grad = gradient
        let optimizer = try choice.make([NamedParameter("x", x)])
        let scales = curvatures.map { noise == .hessian ? noiseScale * abs($0).squareRoot() : noiseScale }
        if warmSteps > 0 {
            var warm = RandomGenerator(seed: seed).fork("saddle-warm").fork(repeatIndex)
            for _ in 0..<warmSteps {
                for i in 0..<d { gradient[i] = Float(scales[i] * warm.nextNormal()) }
                optimizer.step()
                for i in 0..<d { x.value[i] = 0 }
            }
        }
        var rng = RandomGenerator(seed: seed).fork("saddle").fork(repeatIndex)
        var records: [[Double]] = [[Double](repeating: 0, count: d)]
        for t in 1...steps {
            for i in 0..<d { gradient[i] = Float(curvatures[i] * Double(x.value[i]) + scales[i] * rng.nextNormal()) }
            optimizer.step()
            if t % every == 0 {
                let row = (0..<d).map { Double(x.value[$0]) * Double(x.value[$0]) }
                guard row.allSatisfy(\.isFinite) else {
                    throw AnalysisError("\(choice.label) diverged at step \(t) of repeat \(repeatIndex); lower its lr")
                }
                records.append(row)
            }
        }
        return records
    }

    /// Every repeat's records, [optimizer][repeat][record][coordinate], the repeats spread over the threads.
    public func repeatRecords() throws -> [[[[Double]]]] {
        try validate()
        let threadCount = max(1, threads ?? ProcessInfo.processInfo.activeProcessorCount)
        let jobs = optimizers.indices.flatMap { o in (0..<repeats).map { (o, $0) } }
        var results = [[[Double]]?](repeating: nil, count: jobs.count)
        var errors = [String?](repeating: nil, count: jobs.count)
        let next = Counter()
        results.withUnsafeMutableBufferPointer { results in
            errors.withUnsafeMutableBufferPointer { errors in
                DispatchQueue.concurrentPerform(iterations: threadCount) { _ in
                    while true {
                        let j = next.increment()
                        if j >= jobs.count { break }
                        do { results[j] = try runRepeat(optimizers[jobs[j].0], repeatIndex: jobs[j].1) } catch { errors[j] = "\(error)" }
                    }
                }
            }
        }
        if let message = errors.compactMap({ $0 }).first { throw AnalysisError(message) }
        return optimizers.indices.map { o in jobs.indices.filter { jobs[$0].0 == o }.map { results[$0]! } }
    }

    public func run() throws -> [Row] {
        let all = try repeatRecords()
        let escape = curvatures.firstIndex { $0 < 0 }!
        var rows: [Row] = []
        let steps = recordedSteps
        for (o, choice) in optimizers.enumerated() {
            let mine = all[o]
            for (r, step) in steps.enumerated() {
                var esc = 0.0, other = 0.0
                for records in mine {
                    esc += records[r][escape]
                    var s = 0.0
                    for i in curvatures.indices where i != escape { s += records[r][i] }
                    other += s / Double(curvatures.count - 1)
                }
                rows.append(Row(optimizer: choice.label, step: step, escapeDisplacement: esc / Double(mine.count),
                                otherDisplacement: other / Double(mine.count)))
            }
        }
        return rows
    }

    public static func csv(_ rows: [Row]) -> String {
        var out = "optimizer,step,msd_escape,msd_positive\n"
        for r in rows { out += "\(r.optimizer),\(r.step),\(format9(r.escapeDisplacement)),\(format9(r.otherDisplacement))\n" }
        return out
    }
}

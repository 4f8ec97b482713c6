/// A seeded, splittable pseudo-random generator (xoshiro256**, seeded through SplitMix64).
///
/// Results never depend on the platform's random source. `fork(_:)` derives an
/// independent stream from this generator's *seed* and a name, so that, e.g., the
/// augmentation stream of epoch 3 is the same whatever else was drawn before.
/// The whole state is a `Codable` value and can be checkpointed and restored.
public struct RandomGenerator: Codable, Equatable, Sendable {
    /// The 64-bit key this stream was created from (stays fixed as numbers are drawn).
    public let key: UInt64
    /// The xoshiro256** state words.
    public private(set) var state: [UInt64]

    public init(seed: UInt64) {
        self.key = seed
        var sm = seed
        self.state = (0..<4).map { _ in RandomGenerator.splitMix64(&sm) }
        if state.allSatisfy({ $0 == 0 }) { state[0] = 1 }
    }

    /// An independent child stream identified by `name` (e.g. "init", "dropout", "epoch-3").
    public func fork(_ name: String) -> RandomGenerator {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a over the name, mixed with the key
        for byte in name.utf8 {
            h ^= UInt64(byte)
            h = h &* 0x100_0000_01b3
        }
        var mixed = key ^ (h &* 0x9e37_79b9_7f4a_7c15)
        return RandomGenerator(seed: RandomGenerator.splitMix64(&mixed))
    }

    /// An independent child stream identified by an integer (e.g. an epoch or a record index).
    public func fork(_ index: Int) -> RandomGenerator { fork("#\(index)") }

    static func splitMix64(_ x: inout UInt64) -> UInt64 {
        x = x &+ 0x9e37_79b9_7f4a_7c15
        var z = x
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    @inline(__always)
    public mutating func nextUInt64() -> UInt64 {
        var s = (state[0], state[1], state[2], state[3])
        let result = Self.step(&s)
        store(s)
        return result
    }

    /// Writes the state words back in place (assigning a new array would allocate on every draw).
    @inline(__always)
    private mutating func store(_ s: (UInt64, UInt64, UInt64, UInt64)) {
        state[0] = s.0
        state[1] = s.1
        state[2] = s.2
        state[3] = s.3
    }

    /// One xoshiro256** step on the state words: the next output, and the state advanced.
    @inline(__always)
    private static func step(_ s: inout (UInt64, UInt64, UInt64, UInt64)) -> UInt64 {
        let result = rotl(s.1 &* 5, 7) &* 9
        let t = s.1 << 17
        s.2 ^= s.0
        s.3 ^= s.1
        s.1 ^= s.2
        s.0 ^= s.3
        s.2 ^= t
        s.3 = rotl(s.3, 45)
        return result
    }

    @inline(__always) private static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// Uniform in [0, 1) with 24 bits of precision.
    public mutating func nextFloat() -> Float { Float(nextUInt64() >> 40) * 0x1p-24 }

    /// Uniform in [0, 1) with 53 bits of precision.
    public mutating func nextDouble() -> Double { Double(nextUInt64() >> 11) * 0x1p-53 }

    /// Uniform in [low, high).
    public mutating func uniform(_ low: Float, _ high: Float) -> Float { low + (high - low) * nextFloat() }

    /// Uniform integer in 0..<bound, without modulo bias.
    public mutating func nextInt(below bound: Int) -> Int {
        precondition(bound > 0, "nextInt(below:) needs a positive bound, got \(bound)")
        let b = UInt64(bound)
        let threshold = (0 &- b) % b
        while true {
            let r = nextUInt64()
            if r >= threshold { return Int(r % b) }
        }
    }

    /// Standard normal (Box–Muller; two uniforms per draw, no cached spare, so the state is just `state`).
    public mutating func nextNormal() -> Double {
        let u1 = 1.0 - nextDouble()  // (0, 1]
        let u2 = nextDouble()
        return (-2.0 * _log(u1)).squareRoot() * _cos(2.0 * Double.pi * u2)
    }

    /// Returns true with probability p.
    public mutating func bernoulli(_ p: Double) -> Bool { nextDouble() < p }

    /// mask[i] = `value` with probability p, else 0, for i in 0..<count: the same draws, in the same
    /// order, as `bernoulli(p) ? value : 0` element by element, with the state held in registers for
    /// the whole loop (dropout's masks: ~1 ns per element instead of ~5).
    public mutating func fillBernoulli(_ mask: UnsafeMutablePointer<Float>, count: Int, p: Double, value: Float) {
        // nextDouble() < p  ⟺  (r >> 11) < p · 2⁵³  ⟺  (r >> 11) < ⌈p · 2⁵³⌉ for the integer r >> 11
        // (p · 2⁵³ is exact in Double), so the comparison runs on integers.
        let threshold = p <= 0 ? 0 : p >= 1 ? UInt64(1) << 53 : UInt64((p * 0x1p53).rounded(.up))
        var s = (state[0], state[1], state[2], state[3])
        for i in 0..<count { mask[i] = Self.step(&s) >> 11 < threshold ? value : 0 }
        store(s)
    }

    /// Fisher–Yates shuffle.
    public mutating func shuffle<T>(_ array: inout [T]) {
        guard array.count > 1 else { return }
        for i in stride(from: array.count - 1, to: 0, by: -1) {
            let j = nextInt(below: i + 1)
            if i != j { array.swapAt(i, j) }
        }
    }

    /// A random permutation of 0..<n.
    public mutating func permutation(_ n: Int) -> [Int] {
        var p = Array(0..<n)
        shuffle(&p)
        return p
    }

    /// Fills `tensor` with uniform values in [low, high).
    public mutating func fillUniform(_ tensor: Tensor, _ low: Float, _ high: Float) {
        for i in 0..<tensor.count { tensor.data[i] = uniform(low, high) }
    }

    /// Fills `tensor` with normal values of the given mean and standard deviation.
    public mutating func fillNormal(_ tensor: Tensor, mean: Float = 0, std: Float = 1) {
        for i in 0..<tensor.count { tensor.data[i] = mean + std * Float(nextNormal()) }
    }
}

import Foundation
@inline(__always) func _log(_ x: Double) -> Double { Foundation.log(x) }
@inline(__always) func _cos(_ x: Double) -> Double { Foundation.cos(x) }

// Branch-free exp, sigmoid and tanh on eight floats at a time, for the hot element-wise loops
// (LSTM gates, softmax).
//
// Foundation's expf/tanhf are opaque library calls, one element at a time, and the compiler does
// not vectorise the multi-pointer LSTM loops on its own. These work on SIMD8<Float> (one AVX
// register where the release build targets this machine's CPU, two SSE registers in a portable
// build) with plain arithmetic, integer bit operations and selects. Every lane computes exactly
// what it would alone (same operations, same order), so results do not depend on the width.
// (`clamped(lowerBound:upperBound:)` is avoided: it compiles to calls, `replacing` does not.)
//
// exp: x = n·ln2 + r with n an integer and |r| ≤ ln2/2, then e^x = 2^n · e^r with e^r from its
// Taylor polynomial of degree 7 (truncation error |r|^8/8! < 6e-9) and 2^n built in the float's
// exponent bits. The result is within a few ulp of the exact value. Inputs are clamped to
// [-87, 88], where 2^n stays a normal float: below −87 the result is about 1.6e-38 instead of a
// smaller or subnormal number, which no caller here distinguishes from zero.

public typealias FloatVector = SIMD8<Float>

extension Kernels {
    /// e^x within a few ulp for x in [-87, 88]; clamped outside (no infinities for finite x).
    /// The polynomial in Horner form: the fewest operations, best for loops over many independent
    /// elements (softmax), where the processor overlaps the elements' dependency chains.
    @inline(__always)
    public static func fastExp(_ x: FloatVector) -> FloatVector {
        let (r, scale) = expReduce(x)
        var p = FloatVector(repeating: 1.0 / 5040)
        p = p * r + 1.0 / 720
        p = p * r + 1.0 / 120
        p = p * r + 1.0 / 24
        p = p * r + 1.0 / 6
        p = p * r + 0.5
        p = p * r + 1
        p = p * r + 1
        return p * scale
    }

    /// The same e^x with the polynomial in pairs (Estrin form): two more multiplications but half
    /// the dependency chain, for code whose exps depend on each other (the LSTM cell: tanh(c) needs
    /// c, which needs the gates). Measured on the LSTM cell loop: 10.5 instead of 15 ns per unit;
    /// on softmax rows the Horner form is faster (12 instead of 19 ms for 700 × 10,000).
    @inline(__always)
    public static func fastExpShortChain(_ x: FloatVector) -> FloatVector {
        let (r, scale) = expReduce(x)
        let r2 = r * r
        let p01 = r + 1, p23 = r * (1.0 / 6) + 0.5, p45 = r * (1.0 / 120) + 1.0 / 24, p67 = r * (1.0 / 5040) + 1.0 / 720
        return ((p01 + r2 * p23) + (r2 * r2) * (p45 + r2 * p67)) * scale
    }

    /// x = n·ln2 + r: returns r (|r| ≤ ln2/2) and 2^n, for x clamped to [-87, 88].
    @inline(__always)
    static func expReduce(_ x: FloatVector) -> (r: FloatVector, scale: FloatVector) {
        var clamped = x.replacing(with: -87, where: x .< -87)
        clamped.replace(with: 88, where: clamped .> 88)
        // Adding 1.5·2^23 rounds to the nearest integer in the low mantissa bits (round to even);
        // subtracting it again gives n as a float, and the bit difference gives n as an integer.
        let magic: Float = 12_582_912
        let shifted = clamped * 1.442_695_04 + magic
        let n = shifted - magic
        // r = x − n·ln2 in two pieces (Cody–Waite; n·0.69314575 is exact), so r keeps its precision.
        let r = (clamped - n * 0.693_145_75) - n * 1.428_606_8e-6
        let exponent = (unsafeBitCast(shifted, to: SIMD8<UInt32>.self) &- magic.bitPattern &+ 127) &<< 23
        return (r, unsafeBitCast(exponent, to: FloatVector.self))
    }

    /// 1 / (1 + e^−x), within a few ulp, saturating to 0 and 1 without overflow.
    @inline(__always)
    public static func fastSigmoid(_ x: FloatVector) -> FloatVector {
        1 / (1 + fastExpShortChain(-x))
    }

    /// tanh(x) = 1 − 2 / (1 + e^2x). The absolute error is a few 1e-8 (near 0 this is the
    /// rounding of 1 − something close to 1, so tiny results have a larger relative error).
    @inline(__always)
    public static func fastTanh(_ x: FloatVector) -> FloatVector {
        1 - 2 / (1 + fastExpShortChain(2 * x))
    }

    /// Scalar forms, for loop tails.
    @inline(__always)
    public static func fastExp(_ x: Float) -> Float { fastExp(FloatVector(repeating: x))[0] }

    /// Floats per `FloatVector`.
    public static let vectorWidth = FloatVector.scalarCount

    /// `vectorWidth` floats from `p` (no alignment needed).
    @inline(__always)
    public static func loadVector(_ p: UnsafePointer<Float>) -> FloatVector { UnsafeRawPointer(p).loadUnaligned(as: FloatVector.self) }

    /// Stores `vectorWidth` floats at `p` (no alignment needed).
    @inline(__always)
    public static func storeVector(_ v: FloatVector, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: FloatVector.self) }
}

/// How a kernel step reads and writes its `Kernels.vectorWidth` consecutive floats: as one vector, or (`tail`, for
/// the last elements of a loop) one float broadcast to every lane with only lane 0 written back,
/// so that the tail runs through the same code.
struct Lanes {
    let tail: Bool

    @inline(__always)
    func load(_ p: UnsafePointer<Float>) -> FloatVector {
        tail ? FloatVector(repeating: p[0]) : UnsafeRawPointer(p).loadUnaligned(as: FloatVector.self)
    }

    @inline(__always)
    func store(_ v: FloatVector, _ p: UnsafeMutablePointer<Float>) {
        if tail { p[0] = v[0] } else { UnsafeMutableRawPointer(p).storeBytes(of: v, as: FloatVector.self) }
    }
}

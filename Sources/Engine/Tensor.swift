/// A dense, row-major Float32 array with a shape.
///
/// `Tensor` has reference semantics for its elements, like a PyTorch tensor: copies of a
/// `Tensor` value (and `reshaped` views) share storage, and writing through `data`
/// is seen by all of them. Use `copy()` for an independent tensor.
public struct Tensor {
    public let shape: [Int]
    public let storage: TensorStorage

    public var count: Int { storage.count }
    public var rank: Int { shape.count }
    /// Raw element pointer, for kernels.
    public var data: UnsafeMutablePointer<Float> { storage.pointer }
    public var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: storage.pointer, count: storage.count) }

    /// A tensor whose elements are not initialised; every kernel that uses this writes all of them.
    public init(uninitializedShape shape: [Int]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in shape \(shape)")
        self.shape = shape
        self.storage = TensorStorage(count: shape.reduce(1, *))
    }

    public init(zeros shape: [Int]) {
        self.init(uninitializedShape: shape)
        data.initialize(repeating: 0, count: count)
    }

    public init(shape: [Int], repeating value: Float) {
        self.init(uninitializedShape: shape)
        data.initialize(repeating: value, count: count)
    }

    public init(shape: [Int], values: [Float]) {
        precondition(shape.reduce(1, *) == values.count,
                     "shape \(shape) holds \(shape.reduce(1, *)) elements but \(values.count) values were given")
        self.init(uninitializedShape: shape)
        values.withUnsafeBufferPointer { data.update(from: $0.baseAddress!, count: values.count) }
    }

    public init(scalar: Float) { self.init(shape: [], values: [scalar]) }

    private init(shape: [Int], storage: TensorStorage) {
        self.shape = shape
        self.storage = storage
    }

    /// A view with another shape over the same elements.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        precondition(newShape.reduce(1, *) == count, "cannot reshape \(shape) to \(newShape)")
        return Tensor(shape: newShape, storage: storage)
    }

    public func copy() -> Tensor {
        let t = Tensor(uninitializedShape: shape)
        t.data.update(from: data, count: count)
        return t
    }

    public var array: [Float] { Array(buffer) }

    public var scalarValue: Float {
        precondition(count == 1, "scalarValue of a tensor with \(count) elements")
        return data[0]
    }

    public subscript(index: Int) -> Float {
        get { data[index] }
        nonmutating set { data[index] = newValue }
    }

    public func fill(_ value: Float) { data.update(repeating: value, count: count) }

    /// Copies the elements of `other` (same element count) into this tensor.
    public func assign(_ other: Tensor) {
        precondition(other.count == count, "assign: \(other.shape) into \(shape)")
        data.update(from: other.data, count: count)
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let shown = array.prefix(8).map { String($0) }.joined(separator: ", ")
        return "Tensor(shape: \(shape), [\(shown)\(count > 8 ? ", ..." : "")])"
    }
}

/// Shape helpers.
public enum Shape {
    /// The NumPy broadcast of two shapes, or nil when they are incompatible.
    public static func broadcast(_ a: [Int], _ b: [Int]) -> [Int]? {
        let rank = max(a.count, b.count)
        var out = [Int](repeating: 1, count: rank)
        for i in 0..<rank {
            let da = i < rank - a.count ? 1 : a[i - (rank - a.count)]
            let db = i < rank - b.count ? 1 : b[i - (rank - b.count)]
            if da == db || db == 1 { out[i] = da } else if da == 1 { out[i] = db } else { return nil }
        }
        return out
    }

    /// Row-major strides of `shape` aligned to `rank` dims, with 0 for broadcast dimensions.
    public static func broadcastStrides(of shape: [Int], to target: [Int]) -> [Int] {
        let rank = target.count
        var strides = [Int](repeating: 0, count: rank)
        var step = 1
        for i in Swift.stride(from: shape.count - 1, through: 0, by: -1) {
            let ti = i + rank - shape.count
            strides[ti] = shape[i] == 1 && target[ti] != 1 ? 0 : step
            step *= shape[i]
        }
        return strides
    }
}

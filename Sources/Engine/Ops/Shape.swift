// Reshape, concatenation and slicing. A tensor is viewed as [outer, axis, inner] around the axis.

private func split(_ shape: [Int], axis: Int) -> (outer: Int, inner: Int) {
    (shape[..<axis].reduce(1, *), shape[(axis + 1)...].reduce(1, *))
}

/// The same elements with another shape (a view: no copy).
public func reshape(_ x: Variable, _ shape: [Int]) -> Variable {
    precondition(shape.reduce(1, *) == x.count, "reshape: cannot view \(x.shape) as \(shape)")
    let originalShape = x.shape
    return Tape.result(x.value.reshaped(shape), inputs: [x]) { g in
        x.accumulateGrad(g.reshaped(originalShape), owned: false)
    }
}

/// [N, ...] → [N, product of the rest]
public func flatten(_ x: Variable) -> Variable {
    reshape(x, [x.shape[0], x.shape.dropFirst().reduce(1, *)])
}

/// Concatenation along `axis` (1 = channels of NCHW). All other dimensions must agree.
public func concat(_ xs: [Variable], axis: Int) -> Variable {
    Profiler.measure(.other) {
        precondition(!xs.isEmpty, "concat of no tensors")
        let first = xs[0].shape
        precondition(axis >= 0 && axis < first.count, "concat: axis \(axis) for rank \(first.count)")
        for x in xs {
            var a = x.shape, b = first
            precondition(a.count == b.count, "concat: shapes \(x.shape) and \(first) differ in rank")
            a[axis] = 0; b[axis] = 0
            precondition(a == b, "concat along \(axis): shapes \(x.shape) and \(first) differ off the axis")
        }
        var outShape = first
        outShape[axis] = xs.reduce(0) { $0 + $1.shape[axis] }
        let (outer, inner) = split(outShape, axis: axis)
        let y = Tensor(uninitializedShape: outShape)
        let outRow = outShape[axis] * inner
        var offset = 0
        var offsets: [Int] = []
        for x in xs {
            let rowLength = x.shape[axis] * inner
            let src = x.value.data, dst = y.data + offset
            Parallel.forEach(outer, cost: rowLength) { o in
                (dst + o * outRow).update(from: src + o * rowLength, count: rowLength)
            }
            offsets.append(offset)
            offset += rowLength
        }
        return Tape.result(y, inputs: xs) { g in
            for (x, start) in zip(xs, offsets) where x.requiresGrad {
                let rowLength = x.shape[axis] * inner
                let d = Tensor(uninitializedShape: x.shape)
                let src = g.data + start, dst = d.data
                Parallel.forEach(outer, cost: rowLength) { o in
                    (dst + o * rowLength).update(from: src + o * outRow, count: rowLength)
                }
                x.accumulateGrad(d, owned: true)
            }
        }
    }
}

/// Elements start..<start+length along `axis` (e.g. one LSTM gate of the [B, 4H] pre-activations).
public func slice(_ x: Variable, axis: Int, start: Int, length: Int) -> Variable {
    Profiler.measure(.other) {
        precondition(axis >= 0 && axis < x.shape.count, "slice: axis \(axis) for rank \(x.shape.count)")
        precondition(start >= 0 && length >= 0 && start + length <= x.shape[axis],
                     "slice: \(start)..<\(start + length) outside 0..<\(x.shape[axis]) along axis \(axis) of \(x.shape)")
        var outShape = x.shape
        outShape[axis] = length
        let (outer, inner) = split(x.shape, axis: axis)
        let inRow = x.shape[axis] * inner, outRow = length * inner
        let y = Tensor(uninitializedShape: outShape)
        let src = x.value.data + start * inner, dst = y.data
        Parallel.forEach(outer, cost: outRow) { o in
            (dst + o * outRow).update(from: src + o * inRow, count: outRow)
        }
        return Tape.result(y, inputs: [x]) { g in
            let d = x.gradBuffer()
            let pd = d.data + start * inner, pg = g.data
            Parallel.forEach(outer, cost: outRow) { o in
                let dRow = pd + o * inRow, gRow = pg + o * outRow
                for i in 0..<outRow { dRow[i] += gRow[i] }
            }
        }
    }
}

/// Splits `axis` into `parts` equal slices (PyTorch's chunk).
public func chunk(_ x: Variable, parts: Int, axis: Int) -> [Variable] {
    precondition(parts > 0 && x.shape[axis] % parts == 0, "chunk: \(x.shape[axis]) is not divisible into \(parts) parts")
    let length = x.shape[axis] / parts
    return (0..<parts).map { slice(x, axis: axis, start: $0 * length, length: length) }
}

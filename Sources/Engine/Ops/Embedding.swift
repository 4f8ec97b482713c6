// Embedding lookup: rows of weight [V, D] picked by indices → [n, D].

public func embedding(_ indices: [Int32], weight: Variable) -> Variable {
    Profiler.measure(.other) {
        precondition(weight.shape.count == 2, "embedding: weight must be [vocabulary, dimension], got \(weight.shape)")
        let vocab = weight.shape[0], dim = weight.shape[1]
        for (i, index) in indices.enumerated() {
            precondition(index >= 0 && Int(index) < vocab, "embedding: index \(index) at position \(i) is outside 0..<\(vocab)")
        }
        let y = Tensor(uninitializedShape: [indices.count, dim])
        let pw = weight.value.data, py = y.data
        Parallel.forEach(indices.count, cost: dim) { i in
            (py + i * dim).update(from: pw + Int(indices[i]) * dim, count: dim)
        }
        return Tape.result(y, inputs: [weight]) { g in
            // dW[index] += g[i]  (sequential: indices may repeat)
            let dw = weight.gradBuffer().data, pg = g.data
            for (i, index) in indices.enumerated() {
                let row = dw + Int(index) * dim, src = pg + i * dim
                for j in 0..<dim { row[j] += src[j] }
            }
        }
    }
}

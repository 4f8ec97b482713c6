// Embedding lookup: rows of weight [V, D] picked by indices → [n, D].
//
// `paddingIndex` is F.embedding's padding_idx: positions holding that index get their row in the
// forward pass like any other but send no gradient to it (the AWD-LSTM's embed_regularize.py passes
// padding_idx −1, i.e. V − 1, so the last word's input embedding is never trained from the input side).

public func embedding(_ indices: [Int32], weight: Variable, paddingIndex: Int? = nil) -> Variable {
    Profiler.measure(.other) {
        precondition(weight.shape.count == 2, "embedding: weight must be [vocabulary, dimension], got \(weight.shape)")
        let vocab = weight.shape[0], dim = weight.shape[1]
        if let paddingIndex {
            precondition(paddingIndex >= 0 && paddingIndex < vocab, "embedding: padding index \(paddingIndex) is outside 0..<\(vocab)")
        }
        let skipped = Int32(paddingIndex ?? -1)
        for (i, index) in indices.enumerated() {
            precondition(index >= 0 && Int(index) < vocab, "embedding: index \(index) at position \(i) is outside 0..<\(vocab)")
        }
        let y = Tensor(uninitializedShape: [indices.count, dim])
        let pw = weight.value.data, py = y.data
        Parallel.forEach(indices.count, cost: dim) { i in
            (py + i * dim).update(from: pw + Int(indices[i]) * dim, count: dim)
        }
        return Tape.result(y, inputs: [weight]) { g in
            // dW[index] += g[i] but for the padding index  (sequential: indices may repeat)
            let dw = weight.gradBuffer().data, pg = g.data
            for (i, index) in indices.enumerated() where index != skipped {
                let row = dw + Int(index) * dim, src = pg + i * dim
                for j in 0..<dim { row[j] += src[j] }
            }
        }
    }
}

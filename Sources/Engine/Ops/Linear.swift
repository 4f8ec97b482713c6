// Matrix products through cblas_sgemm.

/// a [M, K] × b [K, N] → [M, N]
public func matmul(_ a: Variable, _ b: Variable) -> Variable {
    Profiler.measure(.linear) {
        precondition(a.shape.count == 2 && b.shape.count == 2 && a.shape[1] == b.shape[0],
                     "matmul: shapes \(a.shape) and \(b.shape) do not multiply")
        let m = a.shape[0], k = a.shape[1], n = b.shape[1]
        let y = Tensor(uninitializedShape: [m, n])
        Kernels.gemm(transA: false, transB: false, m: m, n: n, k: k, a: a.value.data, lda: k, b: b.value.data, ldb: n, c: y.data, ldc: n)
        let av = a.value, bv = b.value
        return Tape.result(y, inputs: [a, b], category: .linear) { g in
            if a.requiresGrad {  // da [M, K] = g [M, N] × bᵀ [N, K]
                let da = Tensor(uninitializedShape: [m, k])
                Kernels.gemm(transA: false, transB: true, m: m, n: k, k: n, a: g.data, lda: n, b: bv.data, ldb: n, c: da.data, ldc: k)
                a.accumulateGrad(da, owned: true)
            }
            if b.requiresGrad {  // db [K, N] = aᵀ [K, M] × g [M, N]
                let db = Tensor(uninitializedShape: [k, n])
                Kernels.gemm(transA: true, transB: false, m: k, n: n, k: m, a: av.data, lda: k, b: g.data, ldb: n, c: db.data, ldc: n)
                b.accumulateGrad(db, owned: true)
            }
        }
    }
}

/// x [B, in] × weightᵀ (weight [out, in], PyTorch layout) + bias [out] → [B, out]
public func linear(_ x: Variable, weight: Variable, bias: Variable?) -> Variable {
    Profiler.measure(.linear) {
        precondition(x.shape.count == 2 && weight.shape.count == 2 && x.shape[1] == weight.shape[1],
                     "linear: input \(x.shape) does not match weight \(weight.shape)")
        let batch = x.shape[0], inF = x.shape[1], outF = weight.shape[0]
        if let bias { precondition(bias.shape == [outF], "linear: bias \(bias.shape), expected [\(outF)]") }
        let y = Tensor(uninitializedShape: [batch, outF])
        if let bias {  // every row starts as the bias; the GEMM adds x·Wᵀ to it
            let pb = bias.value.data
            Parallel.forChunks(batch, grain: max(1, 65_536 / max(outF, 1))) { rows in
                for r in rows { (y.data + r * outF).update(from: pb, count: outF) }
            }
        }
        Kernels.gemm(transA: false, transB: true, m: batch, n: outF, k: inF, a: x.value.data, lda: inF,
                     b: weight.value.data, ldb: inF, beta: bias == nil ? 0 : 1, c: y.data, ldc: outF)
        let xv = x.value, wv = weight.value
        var inputs = [x, weight]
        if let bias { inputs.append(bias) }
        return Tape.result(y, inputs: inputs, category: .linear) { g in
            if x.requiresGrad {  // dx [B, in] = g [B, out] × weight [out, in]
                let dx = Tensor(uninitializedShape: [batch, inF])
                Kernels.gemm(transA: false, transB: false, m: batch, n: inF, k: outF, a: g.data, lda: outF,
                             b: wv.data, ldb: inF, c: dx.data, ldc: inF)
                x.accumulateGrad(dx, owned: true)
            }
            if weight.requiresGrad {  // dW [out, in] += gᵀ [out, B] × x [B, in]
                let dw = weight.gradBuffer()
                Kernels.gemm(transA: true, transB: false, m: outF, n: inF, k: batch, a: g.data, lda: outF,
                             b: xv.data, ldb: inF, beta: 1, c: dw.data, ldc: inF)
            }
            if let bias, bias.requiresGrad {  // db [out] += column sums of g
                Kernels.addColumnSums(g.data, rows: batch, columns: outF, into: bias.gradBuffer().data)
            }
        }
    }
}

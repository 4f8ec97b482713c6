@testable import Engine

/// Inputs shared by the kernel tests (thread invariance, reduction order, the fused LSTM op).

/// A tensor of normal values with standard deviation `std`, the same for the same seed.
func randomTensor(_ shape: [Int], seed: UInt64, std: Float = 1) -> Tensor {
    var rng = RandomGenerator(seed: seed)
    let t = Tensor(uninitializedShape: shape)
    rng.fillNormal(t, std: std)
    return t
}

/// One convolution's forward pass and both gradients on fixed random inputs, by Winograd with `tiles` or by
/// im2col (`tiles` nil); each call computes them afresh and returns the output, input gradient and weight gradient.
func convolutionPass(_ g: Conv2dGeometry, tiles: Winograd.Tiles?) -> () -> [Tensor] {
    let x = randomTensor([g.batch, g.inChannels, g.height, g.width], seed: 11)
    let w = randomTensor([g.outChannels, g.inChannels, g.kernelH, g.kernelW], seed: 12, std: 0.2)
    let dy = randomTensor([g.batch, g.outChannels, g.outHeight, g.outWidth], seed: 13)
    let dw0 = randomTensor([w.count], seed: 14)  // gradients are added into what the buffers hold
    return {
        let y = Tensor(uninitializedShape: dy.shape), dx = Tensor(zeros: x.shape), dw = dw0.copy()
        if let tiles {
            Winograd.forward(x.data, w.data, g, y.data, tiles: tiles)
            Winograd.backward(x.data, w.data, dy.data, g, dx: dx.data, dw: dw.data, tiles: tiles)
        } else {
            ConvKernels.forward(x.data, w.data, nil, g, y.data)
            ConvKernels.backward(x.data, w.data, dy.data, g, dx: dx.data, dw: dw.data)
        }
        return [y, dx, dw]
    }
}

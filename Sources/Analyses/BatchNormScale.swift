import Foundation
import Engine
import NN

/// The weight norm that a batch-normalised network's loss does not see (docs/claims.md, claim 7).
///
/// When a convolution feeds a batch-norm layer, scaling its kernel by α > 0 leaves the network's
/// function unchanged (batch statistics absorb the scale) while the Hessian along that kernel scales
/// by 1/α² (Dinh et al., "Sharp minima can generalize for deep nets", ICML 2017). So λ_max alone is
/// moved by the kernels' norm, for instance by weight decay or by the lr; λ_max · Σ‖W‖² over those
/// kernels is unchanged by a common rescaling of all of them.
public enum BatchNormScale {
    /// Σ‖W‖² over the convolution kernels (rank-4 parameters) of `module`, and their count. Every such
    /// kernel must feed a batch-norm layer, which this checks as far as counting allows: the module
    /// must have as many BatchNorm2d layers as convolution kernels (true of the CIFAR ResNets and VGGs).
    public static func kernelNormSquared(_ module: Module, description: String) throws -> (value: Double, kernels: Int) {
        let kernels = module.namedParameters.filter { $0.1.shape.count == 4 }
        let batchNorms = module.namedModules().filter { $0.1 is BatchNorm2d }.count
        guard !kernels.isEmpty else {
            throw AnalysisError("\(description) has no convolution kernels; the weight-norm-free sharpness is defined for batch-normalised convolutional networks")
        }
        guard kernels.count == batchNorms else {
            throw AnalysisError("\(description) has \(kernels.count) convolution kernels but \(batchNorms) batch-norm layers; "
                                + "the weight-norm-free sharpness needs each kernel to feed one batch-norm layer")
        }
        var total = 0.0
        for (_, kernel) in kernels {
            for x in kernel.value.buffer { total += Double(x) * Double(x) }
        }
        return (total, kernels.count)
    }
}

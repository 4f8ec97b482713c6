import Engine
import Foundation

// PyTorch's default initialisation of each layer type, drawn from the engine's seeded generator.

enum Initialization {
    /// U(−1/√fanIn, 1/√fanIn): what `kaiming_uniform_(a=√5)` gives for conv and linear weights
    /// (gain √(2/(1+5)), bound gain·√3/√fanIn), and what PyTorch uses for their biases.
    static func uniformFanIn(_ tensor: Tensor, fanIn: Int, generator: RandomGenerator) {
        let bound = fanIn > 0 ? Float(1 / Double(fanIn).squareRoot()) : 0
        var g = generator
        g.fillUniform(tensor, -bound, bound)
    }

    /// U(−bound, bound), e.g. the LSTM's 1/√hidden.
    static func uniform(_ tensor: Tensor, bound: Float, generator: RandomGenerator) {
        var g = generator
        g.fillUniform(tensor, -bound, bound)
    }

    /// N(0, 1): PyTorch's embedding initialisation.
    static func standardNormal(_ tensor: Tensor, generator: RandomGenerator) {
        var g = generator
        g.fillNormal(tensor, mean: 0, std: 1)
    }
}

/// A learned per-channel scale on the last axis, `y = x · gamma`: ConvNeXt's
/// `LayerScale(init_values, projection_dim)`. Weight: gamma [channels].
public final class LayerScale: Layer, @unchecked Sendable {
    public let name: String
    public var typeName: String { "LayerScale" }
    public let gamma: Parameter
    /// The value gamma started from (Keras's `init_values`, kept for export).
    public let initialValue: Float

    public init(name: String, channels: Int, initialValue: Float) {
        precondition(channels > 0)
        self.name = name
        self.initialValue = initialValue
        gamma = Parameter(name: "gamma", value: Tensor(shape: [channels], scalars: .init(repeating: initialValue, count: channels)))
    }

    public var channels: Int { gamma.shape[0] }
    public var parameters: [Parameter] { [gamma] }

    public func outputShape(for inputShape: [Int]) throws -> [Int] {
        guard inputShape.last == channels else {
            throw RuntimeError("scales \(channels) channels on the last axis, got input \(inputShape)")
        }
        return inputShape
    }

    public func forward(_ input: Tensor) -> Tensor {
        var output = input
        let g = gamma.value.scalars, c = channels
        for i in 0..<output.count { output.scalars[i] *= g[i % c] }
        return output
    }
}

// MARK: - Training

extension LayerScale: TrainableLayer {
    public struct Cache: LayerCache { public let input: Tensor }

    public func forward(_ input: Tensor, context: TrainingContext) -> (output: Tensor, cache: any LayerCache) {
        (forward(input), Cache(input: input))
    }

    /// dgamma[c] = Σ dY · x over every position of channel c; dx = dY · gamma.
    public func backward(_ outputGradient: Tensor, cache: any LayerCache, gradients: Gradients) -> Tensor {
        let x = (cache as! Cache).input
        let g = gamma.value.scalars, c = channels
        var dx = outputGradient
        gradients.accumulate(gamma) { dgamma in
            for i in 0..<dx.count { dgamma[i % c] += outputGradient.scalars[i] * x.scalars[i] }
        }
        for i in 0..<dx.count { dx.scalars[i] *= g[i % c] }
        return dx
    }
}

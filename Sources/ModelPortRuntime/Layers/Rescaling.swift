/// `y = x * scale + offset` (Keras `Rescaling`, e.g. `1/255` for pixels).
public final class Rescaling: Layer, @unchecked Sendable {
    public let name: String
    public var typeName: String { "Rescaling" }
    public let scale: Float
    public let offset: Float

    public init(name: String, scale: Float, offset: Float = 0) {
        self.name = name
        self.scale = scale
        self.offset = offset
    }

    public func outputShape(for inputShape: [Int]) throws -> [Int] { inputShape }

    public func forward(_ input: Tensor) -> Tensor {
        var output = input
        for i in 0..<output.count { output.scalars[i] = output.scalars[i] * scale + offset }
        return output
    }
}

// MARK: - Training

extension Rescaling: TrainableLayer {
    /// Nothing: dx = dy * scale.
    public struct Cache: LayerCache {}

    public func forward(_ input: Tensor, context: TrainingContext) -> (output: Tensor, cache: any LayerCache) {
        (forward(input), Cache())
    }

    public func backward(_ outputGradient: Tensor, cache: any LayerCache, gradients: Gradients) -> Tensor {
        var dx = outputGradient
        for i in 0..<dx.count { dx.scalars[i] *= scale }
        return dx
    }
}

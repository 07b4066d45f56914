/// Flattens each sample to one axis, in NHWC (row-major) order as Keras does
/// with "channels_last" data.
public final class Flatten: Layer, @unchecked Sendable {
    public let name: String
    public var typeName: String { "Flatten" }
    public init(name: String) { self.name = name }

    public func outputShape(for inputShape: [Int]) throws -> [Int] { [inputShape.reduce(1, *)] }

    public func forward(_ input: Tensor) -> Tensor {
        input.reshaped([input.batchCount, input.sampleCount])
    }
}

// MARK: - Training

extension Flatten: TrainableLayer {
    /// Only the input shape: the gradient is reshaped back.
    public struct Cache: LayerCache { public let inputShape: [Int] }

    public func forward(_ input: Tensor, context: TrainingContext) -> (output: Tensor, cache: any LayerCache) {
        (forward(input), Cache(inputShape: input.shape))
    }

    public func backward(_ outputGradient: Tensor, cache: any LayerCache, gradients: Gradients) -> Tensor {
        outputGradient.reshaped((cache as! Cache).inputShape)
    }
}

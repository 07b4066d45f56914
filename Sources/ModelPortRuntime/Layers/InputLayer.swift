/// A model's input: declares the shape of one sample and passes data through.
public final class InputLayer: Layer, @unchecked Sendable {
    public let name: String
    public var typeName: String { "InputLayer" }
    /// The shape of one sample (no batch axis).
    public let sampleShape: [Int]

    public init(name: String, sampleShape: [Int]) {
        self.name = name
        self.sampleShape = sampleShape
    }

    public func outputShape(for inputShape: [Int]) throws -> [Int] {
        guard inputShape == sampleShape else {
            throw RuntimeError("\(name) expects samples of shape \(sampleShape), got \(inputShape)")
        }
        return inputShape
    }

    public func forward(_ input: Tensor) -> Tensor { input }
}

// MARK: - Training

extension InputLayer: TrainableLayer {
    public struct Cache: LayerCache {}

    public func forward(_ input: Tensor, context: TrainingContext) -> (output: Tensor, cache: any LayerCache) {
        (input, Cache())
    }

    public func backward(_ outputGradient: Tensor, cache: any LayerCache, gradients: Gradients) -> Tensor {
        outputGradient
    }
}

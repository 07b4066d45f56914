/// A standalone activation layer (Keras `Activation("relu")`).
public final class ActivationLayer: Layer, @unchecked Sendable {
    public let name: String
    public var typeName: String { "Activation" }
    public let activation: Activation

    public init(name: String, activation: Activation) {
        self.name = name
        self.activation = activation
    }

    public func outputShape(for inputShape: [Int]) throws -> [Int] { inputShape }

    public func forward(_ input: Tensor) -> Tensor {
        var output = input
        activation.apply(to: &output)
        return output
    }
}

// MARK: - Training

extension ActivationLayer: ActivatedLayer {
    /// The output and, when the derivative needs it, the input.
    public struct Cache: ActivatedCache {
        public let output: Tensor
        public let preActivation: Tensor?
    }

    public func forward(_ input: Tensor, context: TrainingContext) -> (output: Tensor, cache: any LayerCache) {
        let output = forward(input)
        let keepInput = activation.derivativeNeedsInput || activation == .softmax || activation == .sigmoid
        return (output, Cache(output: output, preActivation: keepInput ? input : nil))
    }

    /// The activation already is the whole layer: dX = dZ.
    public func backward(preActivationGradient: Tensor, cache: any LayerCache, gradients: Gradients) -> Tensor {
        preActivationGradient
    }
}

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

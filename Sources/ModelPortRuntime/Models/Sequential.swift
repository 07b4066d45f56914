/// A linear stack of layers, like Keras's `Sequential`.
public final class Sequential: Model, @unchecked Sendable {
    public let name: String
    public let inputShape: [Int]
    public let outputShape: [Int]
    public let layers: [any Layer]
    /// Output shape of each layer for one sample, parallel to `layers`.
    public let layerOutputShapes: [[Int]]

    /// Checks that every layer accepts its predecessor's output.
    /// - Parameter inputShape: one sample's shape, without the batch axis.
    /// - Throws: `RuntimeError` naming the first layer whose input does not fit.
    public init(name: String, inputShape: [Int], layers: [any Layer]) throws {
        self.name = name
        self.inputShape = inputShape
        self.layers = layers
        var shape = inputShape
        var shapes: [[Int]] = []
        for layer in layers {
            shape = try layer.outputShape(for: shape)
            shapes.append(shape)
        }
        outputShape = shape
        layerOutputShapes = shapes
    }

    public func forward(_ input: Tensor) -> Tensor {
        layers.reduce(input) { $1.forward($0) }
    }

    /// Runs the layers and keeps every layer's output (for per-layer comparison).
    public func forwardKeepingOutputs(_ input: Tensor) -> [Tensor] {
        var x = input
        return layers.map { x = $0.forward(x); return x }
    }

    /// The rows of a `model.summary()`-like table.
    public var summary: [LayerSummary] {
        zip(layers, layerOutputShapes).map {
            LayerSummary(name: $0.name, typeName: $0.typeName, outputShape: $1, parameterCount: $0.parameterCount)
        }
    }
}

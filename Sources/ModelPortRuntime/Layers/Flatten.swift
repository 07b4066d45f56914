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

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

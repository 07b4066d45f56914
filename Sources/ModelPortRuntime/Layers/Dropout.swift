/// Dropout: the identity at inference (Keras scales during training instead).
public final class Dropout: Layer, @unchecked Sendable {
    public let name: String
    public var typeName: String { "Dropout" }
    public let rate: Float
    public init(name: String, rate: Float) {
        self.name = name
        self.rate = rate
    }

    public func outputShape(for inputShape: [Int]) throws -> [Int] { inputShape }
    public func forward(_ input: Tensor) -> Tensor { input }
}

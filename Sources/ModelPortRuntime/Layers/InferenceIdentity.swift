/// Layers that only act while training and are the identity at inference:
/// `SpatialDropout2D`, `GaussianNoise`, `GaussianDropout`,
/// `ActivityRegularization`, `AlphaDropout`. The Keras class name is kept
/// so summaries and exports say what the layer was.
public final class InferenceIdentity: Layer, @unchecked Sendable {
    public let name: String
    public let typeName: String
    /// The layer's rate or standard deviation (for export and training).
    public let rate: Float

    public init(name: String, typeName: String, rate: Float = 0) {
        self.name = name
        self.typeName = typeName
        self.rate = rate
    }

    public func outputShape(for inputShape: [Int]) throws -> [Int] { inputShape }
    public func forward(_ input: Tensor) -> Tensor { input }
}

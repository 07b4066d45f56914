/// A whole model used as a layer of another (a nested Keras `Sequential` or
/// functional model). Its weights are the inner model's layers' weights.
public final class ModelLayer: Layer, @unchecked Sendable {
    public let model: any Model
    public var name: String { model.name }
    public let typeName: String

    /// - Parameter typeName: the Keras class, "Sequential" or "Functional".
    public init(model: any Model, typeName: String) {
        precondition(model.inputShapes.count == 1 && model.outputShapes.count == 1,
                     "a nested model used as a layer must have one input and one output")
        self.model = model
        self.typeName = typeName
    }

    public var parameters: [Parameter] { model.layers.flatMap(\.parameters) }

    public func outputShape(for inputShape: [Int]) throws -> [Int] {
        guard inputShape == model.inputShape else {
            throw RuntimeError("nested model '\(model.name)' expects \(model.inputShape), got \(inputShape)")
        }
        return model.outputShape
    }

    public func forward(_ input: Tensor) -> Tensor { model.forward(input) }
}

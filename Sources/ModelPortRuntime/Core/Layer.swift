/// One layer of a model.
///
/// Shapes given to and returned by `outputShape(for:)` exclude the batch axis;
/// tensors passed to `forward` include it. Inference `forward` must not mutate
/// the layer, so that batches can be run on several threads at once.
public protocol Layer: AnyObject, Sendable {
    /// The layer's name, as Keras names it (`conv2d_1`).
    var name: String { get }
    /// The Keras class name of the layer kind (`Conv2D`).
    var typeName: String { get }
    /// Weights in Keras's order for this layer kind (Conv2D: kernel, bias).
    var parameters: [Parameter] { get }
    /// The shape of one output sample for one input sample of `inputShape`.
    /// - Throws: `RuntimeError` when the input shape does not fit the layer.
    func outputShape(for inputShape: [Int]) throws -> [Int]
    /// Inference forward pass over a batch.
    /// - Precondition: `input.sampleShape` was accepted by `outputShape(for:)`.
    func forward(_ input: Tensor) -> Tensor
}

extension Layer {
    public var parameters: [Parameter] { [] }
    /// Number of scalar weights.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.value.count } }
}

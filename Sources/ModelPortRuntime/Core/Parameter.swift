/// A named trainable or stored weight of a layer (e.g. a Conv2D `kernel`).
///
/// Parameters are reference types so that loaders, optimizers and exporters
/// all see and update the same storage the layer computes with.
public final class Parameter: @unchecked Sendable {
    /// The Keras variable name within its layer: `kernel`, `bias`, `gamma`, ...
    public let name: String
    /// Whether an optimizer updates it (false for BatchNormalization's moving
    /// statistics and Normalization's mean/variance, as in Keras).
    public let trainable: Bool
    /// Whether its layer is frozen (Keras `layer.trainable = False`, e.g. the
    /// first layers of a fine-tuned base model): kept as it is by training.
    public var frozen = false
    /// Whether training updates it: a trainable variable of a layer that is not frozen.
    public var isUpdated: Bool { trainable && !frozen }
    /// The value; its shape is fixed when the layer is built.
    public var value: Tensor {
        willSet { precondition(newValue.shape == value.shape, "parameter \(name): shape \(newValue.shape) != \(value.shape)") }
        didSet { version &+= 1 }
    }
    /// Bumped by every change of `value`: packed copies of the weights
    /// (`PackedWeightsCache`) are rebuilt when it moves.
    private(set) var version: UInt64 = 0

    public init(name: String, value: Tensor, trainable: Bool = true) {
        self.name = name
        self.value = value
        self.trainable = trainable
    }

    public var shape: [Int] { value.shape }
}

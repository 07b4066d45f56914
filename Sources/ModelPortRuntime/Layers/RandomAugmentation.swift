/// Keras's random image augmentation layers — `RandomFlip`, `RandomRotation`,
/// `RandomZoom`, `RandomTranslation`, `RandomContrast`, `RandomBrightness` —
/// which transform images only while training and are the identity at
/// inference. ModelPort runs them at inference only: training through one is
/// refused (it has no backward pass here), never approximated by the identity.
///
/// `settings` keeps what the layer was given, so a model written back to
/// Keras augments as before.
public final class RandomAugmentation: Layer, @unchecked Sendable {
    /// The Keras layer this is (raw value: its class name).
    public enum Kind: String, CaseIterable, Sendable {
        case flip = "RandomFlip", rotation = "RandomRotation", zoom = "RandomZoom"
        case translation = "RandomTranslation", contrast = "RandomContrast", brightness = "RandomBrightness"
    }

    /// Which axes `RandomFlip` flips.
    public enum FlipMode: String, CaseIterable, Sendable {
        case horizontal, vertical, horizontalAndVertical = "horizontal_and_vertical"
    }

    /// How pixels outside the image are filled by rotation, zoom and translation.
    public enum FillMode: String, CaseIterable, Sendable { case reflect, wrap, constant, nearest }

    /// How rotated, zoomed or translated pixels are sampled.
    public enum Interpolation: String, CaseIterable, Sendable { case nearest, bilinear }

    /// The augmentation's arguments, as given to the Keras layer. A factor is
    /// one value (the range ±value, or [0, value] where Keras says so) or a
    /// `[lower, upper]` pair; nil where the kind has no such argument.
    public struct Settings: Sendable, Equatable {
        public var mode: FlipMode?
        public var factor: [Float]?
        public var heightFactor: [Float]?
        /// `RandomZoom`'s `width_factor` may be absent: then it follows the height.
        public var widthFactor: [Float]?
        public var fillMode: FillMode?
        public var interpolation: Interpolation?
        public var fillValue: Float?
        /// The input's value range (`[0, 255]` by default where Keras uses one).
        public var valueRange: [Float]?
        public var seed: Int?

        public init(mode: FlipMode? = nil, factor: [Float]? = nil, heightFactor: [Float]? = nil, widthFactor: [Float]? = nil,
                    fillMode: FillMode? = nil, interpolation: Interpolation? = nil, fillValue: Float? = nil,
                    valueRange: [Float]? = nil, seed: Int? = nil) {
            self.mode = mode
            self.factor = factor
            self.heightFactor = heightFactor
            self.widthFactor = widthFactor
            self.fillMode = fillMode
            self.interpolation = interpolation
            self.fillValue = fillValue
            self.valueRange = valueRange
            self.seed = seed
        }
    }

    public let name: String
    public let kind: Kind
    public let settings: Settings
    public var typeName: String { kind.rawValue }

    public init(name: String, kind: Kind, settings: Settings = Settings()) {
        self.name = name
        self.kind = kind
        self.settings = settings
    }

    /// Images only: (height, width, channels).
    public func outputShape(for inputShape: [Int]) throws -> [Int] {
        guard inputShape.count == 3 else {
            throw RuntimeError("\(kind.rawValue) expects (height, width, channels) images, got \(inputShape)")
        }
        return inputShape
    }

    /// The identity: Keras applies the augmentation only with `training=True`.
    public func forward(_ input: Tensor) -> Tensor { input }
}

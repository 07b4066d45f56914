import ModelPortRuntime

/// How one runtime layer type is read from and written to a Keras config:
/// the Keras class names it imports (aliases included), `decode` (config ->
/// layer, given one input sample's shape so weights can be sized) and
/// `encode` (layer -> config arguments, in the target generation's spelling).
///
/// `encode` writes everything but `name`, `trainable` and `dtype`, which the
/// model config writer adds; it returns `"trainable": null` for classes that
/// take no such argument. The class name written is the layer's `typeName`
/// in module `keras.layers`, unless `spelling` says otherwise (layers that
/// `keras.applications` defines, such as ConvNeXt's `LayerScale`).
public struct KerasCodec<L: Layer>: Sendable {
    public let classNames: [String]
    /// Usually an `L`; a class may also import as a runtime layer of another
    /// type that computes the same (a `Conv2D` whose `groups` equal its input
    /// channels is a `DepthwiseConv2D`).
    public let decode: @Sendable (_ args: inout LayerArguments, _ inputShape: [Int]) throws -> any Layer
    public let encode: @Sendable (_ layer: L, _ generation: KerasGeneration) throws -> [String: JSONValue]
    public let spelling: @Sendable (_ layer: L, _ generation: KerasGeneration) -> KerasClassSpelling?

    public init(classNames: [String],
                decode: @escaping @Sendable (_ args: inout LayerArguments, _ inputShape: [Int]) throws -> any Layer,
                encode: @escaping @Sendable (_ layer: L, _ generation: KerasGeneration) throws -> [String: JSONValue],
                spelling: @escaping @Sendable (_ layer: L, _ generation: KerasGeneration) -> KerasClassSpelling? = { _, _ in nil }) {
        self.classNames = classNames
        self.decode = decode
        self.encode = encode
        self.spelling = spelling
    }
}

/// A layer class outside `keras.layers`, as a generation writes it: the class
/// name (tf-keras prefixes registered packages: `Custom>CustomScaleLayer`),
/// and for `.keras` archives the module Keras imports it from and its
/// registered name.
public struct KerasClassSpelling: Sendable, Equatable {
    public let className: String
    public let module: String
    public let registeredName: String?

    public init(className: String, module: String, registeredName: String? = nil) {
        self.className = className
        self.module = module
        self.registeredName = registeredName
    }
}

/// A `KerasCodec` of any layer type, as the family tables hold them. The one
/// cast from `any Layer` to the codec's type is here, checked.
public struct AnyKerasCodec: Sendable {
    public let classNames: [String]
    /// The runtime layer type the codec reads and writes.
    public let layerType: any Layer.Type
    let decode: @Sendable (inout LayerArguments, [Int]) throws -> any Layer
    let encode: @Sendable (any Layer, KerasGeneration) throws -> [String: JSONValue]
    let spelling: @Sendable (any Layer, KerasGeneration) -> KerasClassSpelling?

    public init<L: Layer>(_ codec: KerasCodec<L>) {
        classNames = codec.classNames
        layerType = L.self
        decode = { args, shape in try codec.decode(&args, shape) }
        encode = { layer, generation in
            guard let typed = layer as? L else {
                throw KerasExportError(file: "", layer: layer.name, className: layer.typeName,
                                       message: "internal: the \(L.self) codec was given a \(type(of: layer))")
            }
            return try codec.encode(typed, generation)
        }
        spelling = { layer, generation in (layer as? L).flatMap { codec.spelling($0, generation) } }
    }
}

/// The codecs of one layer family (convolutions, pooling, ...): one file each.
public struct KerasFamily: Sendable {
    public let name: String
    public let codecs: [AnyKerasCodec]

    public init(_ name: String, _ codecs: [AnyKerasCodec]) {
        self.name = name
        self.codecs = codecs
    }
}

/// An export refusal for a layer whose settings Keras cannot express.
func unsupported(_ layer: any Layer, _ message: String) -> KerasExportError {
    KerasExportError(file: "", layer: layer.name, className: layer.typeName, message: message)
}

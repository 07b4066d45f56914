import ModelPortRuntime

/// How one runtime layer type is read from and written to a Keras config:
/// the Keras class names it imports (aliases included), `decode` (config ->
/// layer, given one input sample's shape so weights can be sized) and
/// `encode` (layer -> config arguments, in the target generation's spelling).
///
/// `encode` writes everything but `name`, `trainable` and `dtype`, which the
/// model config writer adds; it returns `"trainable": null` for classes that
/// take no such argument. The class name written is the layer's `typeName`.
public struct KerasCodec<L: Layer>: Sendable {
    public let classNames: [String]
    public let decode: @Sendable (_ args: inout LayerArguments, _ inputShape: [Int]) throws -> L
    public let encode: @Sendable (_ layer: L, _ generation: KerasGeneration) throws -> [String: JSONValue]

    public init(classNames: [String],
                decode: @escaping @Sendable (_ args: inout LayerArguments, _ inputShape: [Int]) throws -> L,
                encode: @escaping @Sendable (_ layer: L, _ generation: KerasGeneration) throws -> [String: JSONValue]) {
        self.classNames = classNames
        self.decode = decode
        self.encode = encode
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

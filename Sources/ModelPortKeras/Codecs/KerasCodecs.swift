import ModelPortRuntime

/// The one table of Keras layer families: which Keras layers ModelPort reads
/// and writes. Import looks a codec up by Keras class name, export by the
/// runtime layer's type. Each family lives in its own file beside this one.
public enum KerasCodecs {
    public static let families: [KerasFamily] = [
        convolutions, pooling, reshaping, core, normalization, activations, merges, augmentation, applicationLayers,
        operations,
    ]

    static let byClassName: [String: AnyKerasCodec] = {
        var table: [String: AnyKerasCodec] = [:]
        for codec in families.flatMap(\.codecs) {
            for name in codec.classNames {
                precondition(table[name] == nil, "Keras class '\(name)' has two codecs")
                table[name] = codec
            }
        }
        return table
    }()

    static let byLayerType: [ObjectIdentifier: AnyKerasCodec] = {
        var table: [ObjectIdentifier: AnyKerasCodec] = [:]
        for codec in families.flatMap(\.codecs) {
            let key = ObjectIdentifier(codec.layerType)
            precondition(table[key] == nil, "runtime layer \(codec.layerType) has two Keras codecs")
            table[key] = codec
        }
        return table
    }()

    /// Keras class names ModelPort imports (aliases included), sorted, for
    /// messages and documentation. Nested `Sequential`/`Functional`/`Model`
    /// and `InputLayer` are read by the model config itself.
    public static var supportedClassNames: [String] { byClassName.keys.sorted() }

    /// The Keras class name `layer` is written as in `generation`: its
    /// codec's spelling (a grouped `Conv2D` read as a depthwise layer), else its type name.
    static func writtenClassName(_ layer: any Layer, generation: KerasGeneration) -> String {
        codec(for: layer)?.spelling(layer, generation)?.className ?? layer.typeName
    }

    /// The codec that writes `layer`, by its runtime type.
    public static func codec(for layer: any Layer) -> AnyKerasCodec? { byLayerType[ObjectIdentifier(type(of: layer))] }

    /// Builds the layer and checks that every config argument was understood.
    /// - Throws: `KerasImportError` naming the layer, its class and argument.
    static func decode(_ args: inout LayerArguments, inputShape: [Int]) throws -> any Layer {
        if let call = args.operation {
            let layer: any Layer
            do {
                layer = try decodeOperation(&args, call)
            } catch let e as RuntimeError {
                throw args.error(e.message)
            }
            try args.checkAllUnderstood()
            return layer
        }
        if args.className == "Lambda" {
            throw args.error("a Lambda layer holds Python bytecode, which ModelPort does not run: write its computation with "
                + "keras.ops / tf.math calls in the functional graph (x / 127.5 - 1, keras.ops.maximum(x, 0), x[..., ::-1]) "
                + "or a standard layer (Rescaling, Normalization, Activation, ReLU), and save the model again")
        }
        guard let codec = byClassName[args.className] else {
            throw args.error("layer class '\(args.className)' is not supported by ModelPort (supported: \(supportedClassNames.joined(separator: ", ")))")
        }
        let layer: any Layer
        do {
            layer = try codec.decode(&args, inputShape)
        } catch let e as RuntimeError {
            throw args.error(e.message)
        }
        try args.checkAllUnderstood()
        return layer
    }

    /// `layer`'s Keras config arguments for `generation`.
    /// - Throws: `KerasExportError` when Keras has no such layer or cannot express its settings.
    static func encode(_ layer: any Layer, generation: KerasGeneration) throws -> [String: JSONValue] {
        guard let codec = codec(for: layer) else {
            // The ~80 class names Keras files can hold would bury the one that matters: the README lists them.
            throw unsupported(layer, "layer type '\(layer.typeName)' has no Keras equivalent ModelPort can write "
                + "(the layers a Keras file can hold are listed in the README, 'Supported Keras layers and formats')")
        }
        return try codec.encode(layer, generation)
    }
}

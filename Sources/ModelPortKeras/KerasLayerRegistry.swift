import ModelPortRuntime

/// Builds a runtime layer from its Keras config, given the shape of one
/// input sample (so weights can be sized). Factories read config keys exactly
/// as Keras spells them.
public typealias KerasLayerFactory = @Sendable (_ args: inout LayerArguments, _ inputShape: [Int]) throws -> any Layer

/// The table from Keras class name to factory: the one place that says which
/// Keras layers ModelPort can import.
public enum KerasLayerRegistry {
    public static let factories: [String: KerasLayerFactory] = [
        "Conv2D": makeConv2D,
        "Convolution2D": makeConv2D,
        "Dense": makeDense,
        "MaxPooling2D": makeMaxPooling2D,
        "MaxPool2D": makeMaxPooling2D,
        "Flatten": makeFlatten,
        "Dropout": makeDropout,
        "Activation": makeActivation,
    ]

    /// Class names ModelPort imports, sorted, for messages and documentation.
    public static var supportedClassNames: [String] { factories.keys.sorted() }

    /// Builds the layer and checks that every config argument was understood.
    /// - Throws: `KerasImportError` naming the layer, its class and argument.
    static func build(_ args: inout LayerArguments, inputShape: [Int]) throws -> any Layer {
        guard let factory = factories[args.className] else {
            throw args.error("layer class '\(args.className)' is not supported by ModelPort (supported: \(supportedClassNames.joined(separator: ", ")))")
        }
        let layer: any Layer
        do {
            layer = try factory(&args, inputShape)
        } catch let e as RuntimeError {
            throw args.error(e.message)
        }
        try args.checkAllUnderstood()
        return layer
    }
}

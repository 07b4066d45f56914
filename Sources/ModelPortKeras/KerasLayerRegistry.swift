import ModelPortRuntime

/// Builds a runtime layer from its Keras config, given the shape of one
/// input sample (so weights can be sized). Factories read config keys exactly
/// as Keras spells them.
public typealias KerasLayerFactory = @Sendable (_ args: inout LayerArguments, _ inputShape: [Int]) throws -> any Layer

/// The table from Keras class name to factory: the one place that says which
/// Keras layers ModelPort can import.
public enum KerasLayerRegistry {
    public static let factories: [String: KerasLayerFactory] = [
        // Convolutions
        "Conv2D": makeConv2D, "Convolution2D": makeConv2D,
        "DepthwiseConv2D": makeDepthwiseConv2D,
        "SeparableConv2D": makeSeparableConv2D, "SeparableConvolution2D": makeSeparableConv2D,
        "Conv2DTranspose": makeConv2DTranspose, "Convolution2DTranspose": makeConv2DTranspose,
        // Pooling
        "MaxPooling2D": makePooling2D, "MaxPool2D": makePooling2D,
        "AveragePooling2D": makePooling2D, "AvgPool2D": makePooling2D,
        "GlobalAveragePooling2D": makeGlobalPooling2D, "GlobalAvgPool2D": makeGlobalPooling2D,
        "GlobalMaxPooling2D": makeGlobalPooling2D, "GlobalMaxPool2D": makeGlobalPooling2D,
        // Spatial reshaping
        "ZeroPadding2D": makePadding2D, "Cropping2D": makePadding2D, "UpSampling2D": makeUpSampling2D,
        "Flatten": makeFlatten, "Reshape": makeReshape, "Permute": makePermute, "RepeatVector": makeRepeatVector,
        // Core
        "Dense": makeDense, "Activation": makeActivation, "Dropout": makeDropout,
        "SpatialDropout2D": makeInferenceIdentity, "GaussianNoise": makeInferenceIdentity,
        "GaussianDropout": makeInferenceIdentity, "AlphaDropout": makeInferenceIdentity,
        "ActivityRegularization": makeInferenceIdentity,
        // Normalization
        "BatchNormalization": makeBatchNormalization, "LayerNormalization": makeLayerNormalization,
        "Rescaling": makeRescaling, "Normalization": makeNormalization,
        // Activation layers
        "ReLU": makeReLU, "LeakyReLU": makeLeakyReLU, "ELU": makeELU, "PReLU": makePReLU, "Softmax": makeSoftmax,
        // Merges
        "Add": makeMerge, "Subtract": makeMerge, "Multiply": makeMerge, "Average": makeMerge,
        "Maximum": makeMerge, "Minimum": makeMerge, "Concatenate": makeMerge,
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

import ModelPortRuntime

/// Keras `MaxPooling2D` (also spelled `MaxPool2D`); `strides` defaults to the pool size.
func makeMaxPooling2D(_ a: inout LayerArguments, _ inputShape: [Int]) throws -> any Layer {
    try a.requireChannelsLast()
    let pool = try a.intPair("pool_size", default: (2, 2))
    let strides = try a.intPair("strides", default: pool)
    let padding = try a.padding()
    return MaxPooling2D(name: a.name, poolSize: pool, strides: strides, padding: padding)
}

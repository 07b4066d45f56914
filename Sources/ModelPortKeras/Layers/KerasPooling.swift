import ModelPortRuntime

/// Keras `MaxPooling2D` / `AveragePooling2D` (also `MaxPool2D`/`AvgPool2D`);
/// `strides` defaults to the pool size.
func makePooling2D(_ a: inout LayerArguments, _ inputShape: [Int]) throws -> any Layer {
    try a.requireChannelsLast()
    let pool = try a.intPair("pool_size", default: (2, 2))
    let strides = try a.intPair("strides", default: pool)
    let padding = try a.padding()
    if a.className.hasPrefix("Max") {
        return MaxPooling2D(name: a.name, poolSize: pool, strides: strides, padding: padding)
    }
    return AveragePooling2D(name: a.name, poolSize: pool, strides: strides, padding: padding)
}

/// Keras `GlobalAveragePooling2D` / `GlobalMaxPooling2D` (and `GlobalAvgPool2D`/`GlobalMaxPool2D`).
func makeGlobalPooling2D(_ a: inout LayerArguments, _ inputShape: [Int]) throws -> any Layer {
    try a.requireChannelsLast()
    let keepDims = try a.bool("keepdims", default: false)
    return GlobalPooling2D(name: a.name, kind: a.className.contains("Max") ? .max : .average, keepDims: keepDims)
}

/// Keras `ZeroPadding2D` and `Cropping2D`.
func makePadding2D(_ a: inout LayerArguments, _ inputShape: [Int]) throws -> any Layer {
    try a.requireChannelsLast()
    let crop = a.className == "Cropping2D"
    let amounts = try a.amounts2D(crop ? "cropping" : "padding")
    return Padding2D(name: a.name, kind: crop ? .crop : .zeroPad,
                     top: amounts.top, bottom: amounts.bottom, left: amounts.left, right: amounts.right)
}

/// Keras `UpSampling2D` with nearest-neighbour interpolation.
func makeUpSampling2D(_ a: inout LayerArguments, _ inputShape: [Int]) throws -> any Layer {
    try a.requireChannelsLast()
    try a.require("interpolation", oneOf: [.string("nearest")])
    return UpSampling2D(name: a.name, size: try a.intPair("size", default: (2, 2), range: 1...4096))
}

import ModelPortRuntime

/// Keras `BatchNormalization` on the last axis: gamma (if `scale`), beta (if
/// `center`), moving_mean, moving_variance.
func makeBatchNormalization(_ a: inout LayerArguments, _ inputShape: [Int]) throws -> any Layer {
    guard let channels = inputShape.last else { throw a.error("expects an input with a channel axis") }
    try a.requireLastAxis(sampleRank: inputShape.count)
    let epsilon = try a.float("epsilon", default: 1e-3)
    let momentum = try a.float("momentum", default: 0.99)
    let center = try a.bool("center", default: true)
    let scale = try a.bool("scale", default: true)
    // Keras 2 options that change what inference computes must be off.
    try a.require("renorm", oneOf: [.bool(false)])
    try a.require("virtual_batch_size", oneOf: [])
    try a.require("adjustment", oneOf: [])
    try a.require("synchronized", oneOf: [.bool(false)])
    a.ignore("fused", "renorm_clipping", "renorm_momentum")
    // gamma, beta, moving mean and variance.
    try a.checkParameterShape([4, channels], argument: "axis")
    return BatchNormalization(name: a.name, channels: channels, epsilon: epsilon, momentum: momentum, scale: scale, center: center)
}

/// Keras `LayerNormalization` on the last axis: gamma, beta.
func makeLayerNormalization(_ a: inout LayerArguments, _ inputShape: [Int]) throws -> any Layer {
    guard let features = inputShape.last else { throw a.error("expects an input with a feature axis") }
    try a.requireLastAxis(sampleRank: inputShape.count)
    try a.require("rms_scaling", oneOf: [.bool(false)])
    try a.checkParameterShape([2, features], argument: "axis")
    return LayerNormalization(name: a.name, features: features, epsilon: try a.float("epsilon", default: 1e-3),
                              scale: try a.bool("scale", default: true), center: try a.bool("center", default: true))
}

/// Keras `Rescaling(scale, offset)` with scalar scale and offset.
func makeRescaling(_ a: inout LayerArguments, _ inputShape: [Int]) throws -> any Layer {
    Rescaling(name: a.name, scale: try a.float("scale"), offset: try a.float("offset", default: 0))
}

/// Keras `Normalization` after `adapt` (statistics stored as weights mean,
/// variance, count) on the last axis.
func makeNormalization(_ a: inout LayerArguments, _ inputShape: [Int]) throws -> any Layer {
    guard let features = inputShape.last else { throw a.error("expects an input with a feature axis") }
    try a.requireLastAxis(sampleRank: inputShape.count)
    try a.require("invert", oneOf: [.bool(false)])
    // Statistics given in the config instead of adapted weights are not supported.
    try a.require("mean", oneOf: [])
    try a.require("variance", oneOf: [])
    // mean, variance and count.
    try a.checkParameterShape([2 * features + 1], argument: "axis")
    return Normalization(name: a.name, features: features)
}

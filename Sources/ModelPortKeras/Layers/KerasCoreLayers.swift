import ModelPortRuntime

/// Keras `Dropout`: the identity at inference; `seed` and `noise_shape`
/// only matter while training.
func makeDropout(_ a: inout LayerArguments, _ inputShape: [Int]) throws -> any Layer {
    let rate = try a.float("rate", default: 0)
    a.ignore("seed", "noise_shape")
    return Dropout(name: a.name, rate: rate)
}

/// Training-only regularisers, the identity at inference: `SpatialDropout2D`,
/// `GaussianNoise`, `GaussianDropout`, `AlphaDropout`, `ActivityRegularization`.
func makeInferenceIdentity(_ a: inout LayerArguments, _ inputShape: [Int]) throws -> any Layer {
    guard let kind = InferenceIdentity.Kind(rawValue: a.className) else { throw a.error("not an inference-identity layer") }
    var rate: Float = 0
    switch kind {
    case .gaussianNoise: rate = try a.float("stddev", default: 0)
    case .activityRegularization: a.ignore("l1", "l2")
    case .spatialDropout2D:
        rate = try a.float("rate", default: 0)
        try a.requireChannelsLast()
    case .gaussianDropout, .alphaDropout: rate = try a.float("rate", default: 0)
    }
    a.ignore("seed", "noise_shape")
    return InferenceIdentity(name: a.name, kind: kind, rate: rate)
}

/// Keras `Activation`.
func makeActivation(_ a: inout LayerArguments, _ inputShape: [Int]) throws -> any Layer {
    ActivationLayer(name: a.name, activation: try a.activation())
}

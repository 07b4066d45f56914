import ModelPortRuntime

/// Keras `Flatten` (channels_last only: flattening order is NHWC).
func makeFlatten(_ a: inout LayerArguments, _ inputShape: [Int]) throws -> any Layer {
    try a.requireChannelsLast()
    return Flatten(name: a.name)
}

/// Keras `Dropout`: the identity at inference; `seed` and `noise_shape`
/// only matter while training.
func makeDropout(_ a: inout LayerArguments, _ inputShape: [Int]) throws -> any Layer {
    let rate = try a.float("rate", default: 0)
    a.ignore("seed", "noise_shape")
    return Dropout(name: a.name, rate: rate)
}

/// Keras `Activation`.
func makeActivation(_ a: inout LayerArguments, _ inputShape: [Int]) throws -> any Layer {
    ActivationLayer(name: a.name, activation: try a.activation())
}

import ModelPortRuntime

/// Keras `Flatten` (channels_last only: flattening order is NHWC).
func makeFlatten(_ a: inout LayerArguments, _ inputShape: [Int]) throws -> any Layer {
    try a.requireChannelsLast()
    return Flatten(name: a.name)
}

/// Keras `Reshape(target_shape)`.
func makeReshape(_ a: inout LayerArguments, _ inputShape: [Int]) throws -> any Layer {
    let target = try a.intList("target_shape")
    // The runtime multiplies the sizes out; refuse what would overflow there.
    var total = 1
    for d in target where d != -1 {
        let (product, overflow) = total.multipliedReportingOverflow(by: d)
        guard !overflow, product <= KerasModelConfig.maxSampleElements else {
            throw a.error("target shape \(target) has more elements than ModelPort accepts (\(KerasModelConfig.maxSampleElements))",
                          argument: "target_shape")
        }
        total = product
    }
    return Reshape(name: a.name, targetShape: target)
}

/// Keras `Permute(dims)`, 1-based sample axes.
func makePermute(_ a: inout LayerArguments, _ inputShape: [Int]) throws -> any Layer {
    Permute(name: a.name, dims: try a.intList("dims", range: 1...32))
}

/// Keras `RepeatVector(n)`.
func makeRepeatVector(_ a: inout LayerArguments, _ inputShape: [Int]) throws -> any Layer {
    RepeatVector(name: a.name, count: try a.int("n", range: 1...1_048_576))
}

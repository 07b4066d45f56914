import ModelPortRuntime

/// Keras `Conv2D`: kernel `(kh, kw, in, filters)`, then `bias` when `use_bias`.
func makeConv2D(_ a: inout LayerArguments, _ inputShape: [Int]) throws -> any Layer {
    guard inputShape.count == 3 else {
        throw a.error("expects (height, width, channels) input, got \(inputShape)")
    }
    try a.requireChannelsLast()
    try a.require("groups", oneOf: [.number(1)])
    let filters = try a.int("filters", range: 1...1_048_576)
    let kernel = try a.intPair("kernel_size")
    let strides = try a.intPair("strides", default: (1, 1))
    let dilation = try a.intPair("dilation_rate", default: (1, 1))
    if (strides.0 > 1 || strides.1 > 1) && (dilation.0 > 1 || dilation.1 > 1) {
        throw a.error("strides > 1 together with dilation_rate > 1 is not supported (Keras rejects it too)", argument: "dilation_rate")
    }
    let padding = try a.padding()
    let activation = try a.activation()
    let useBias = try a.bool("use_bias", default: true)
    try a.checkParameterShape([kernel.0, kernel.1, inputShape[2], filters], argument: "filters")
    if useBias { try a.checkParameterShape([filters], argument: "filters") }
    return Conv2D(name: a.name, inputChannels: inputShape[2], filters: filters, kernelSize: kernel,
                  strides: strides, dilation: dilation, padding: padding, activation: activation, useBias: useBias)
}

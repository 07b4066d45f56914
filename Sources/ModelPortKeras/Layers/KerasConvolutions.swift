import ModelPortRuntime

/// Shared reading of a 2-D convolution's window arguments.
private func window(_ a: inout LayerArguments, _ inputShape: [Int])
    throws -> (kernel: (Int, Int), strides: (Int, Int), dilation: (Int, Int), padding: WindowGeometry.Padding) {
    guard inputShape.count == 3 else { throw a.error("expects (height, width, channels) input, got \(inputShape)") }
    try a.requireChannelsLast()
    // Grouped convolution changes the weights' meaning; DepthwiseConv2D and
    // SeparableConv2D write groups=1 in Keras 2.
    try a.require("groups", oneOf: [.number(1)])
    let kernel = try a.intPair("kernel_size")
    let strides = try a.intPair("strides", default: (1, 1))
    let dilation = try a.intPair("dilation_rate", default: (1, 1))
    if (strides.0 > 1 || strides.1 > 1) && (dilation.0 > 1 || dilation.1 > 1) {
        throw a.error("strides > 1 together with dilation_rate > 1 is not supported (Keras rejects it too)", argument: "dilation_rate")
    }
    return (kernel, strides, dilation, try a.padding())
}

/// Keras `DepthwiseConv2D`: kernel `(kh, kw, in, depth_multiplier)` (Keras 2
/// names it `depthwise_kernel`), then `bias`.
func makeDepthwiseConv2D(_ a: inout LayerArguments, _ inputShape: [Int]) throws -> any Layer {
    let w = try window(&a, inputShape)
    let multiplier = try a.int("depth_multiplier", default: 1, range: 1...65_536)
    let activation = try a.activation()
    let useBias = try a.bool("use_bias", default: true)
    try a.checkParameterShape([w.kernel.0, w.kernel.1, inputShape[2], multiplier], argument: "depth_multiplier")
    if useBias { try a.checkParameterShape([inputShape[2], multiplier], argument: "depth_multiplier") }
    return DepthwiseConv2D(name: a.name, inputChannels: inputShape[2], depthMultiplier: multiplier, kernelSize: w.kernel,
                           strides: w.strides, dilation: w.dilation, padding: w.padding, activation: activation, useBias: useBias)
}

/// Keras `SeparableConv2D`: depthwise_kernel, pointwise_kernel, bias.
func makeSeparableConv2D(_ a: inout LayerArguments, _ inputShape: [Int]) throws -> any Layer {
    let w = try window(&a, inputShape)
    let filters = try a.int("filters", range: 1...1_048_576)
    let multiplier = try a.int("depth_multiplier", default: 1, range: 1...65_536)
    let activation = try a.activation()
    let useBias = try a.bool("use_bias", default: true)
    try a.checkParameterShape([w.kernel.0, w.kernel.1, inputShape[2], multiplier], argument: "depth_multiplier")
    try a.checkParameterShape([1, 1, inputShape[2] * multiplier, filters], argument: "filters")
    if useBias { try a.checkParameterShape([filters], argument: "filters") }
    return SeparableConv2D(name: a.name, inputChannels: inputShape[2], filters: filters, depthMultiplier: multiplier,
                           kernelSize: w.kernel, strides: w.strides, dilation: w.dilation, padding: w.padding,
                           activation: activation, useBias: useBias)
}

/// Keras `Conv2DTranspose`: kernel `(kh, kw, filters, in)`, then `bias`.
func makeConv2DTranspose(_ a: inout LayerArguments, _ inputShape: [Int]) throws -> any Layer {
    let w = try window(&a, inputShape)
    guard w.dilation == (1, 1) else {
        throw a.error("dilation_rate other than 1 is not supported for Conv2DTranspose", argument: "dilation_rate")
    }
    try a.require("output_padding", oneOf: [])
    let filters = try a.int("filters", range: 1...1_048_576)
    let activation = try a.activation()
    let useBias = try a.bool("use_bias", default: true)
    try a.checkParameterShape([w.kernel.0, w.kernel.1, filters, inputShape[2]], argument: "filters")
    if useBias { try a.checkParameterShape([filters], argument: "filters") }
    return Conv2DTranspose(name: a.name, inputChannels: inputShape[2], filters: filters, kernelSize: w.kernel,
                           strides: w.strides, padding: w.padding, activation: activation, useBias: useBias)
}

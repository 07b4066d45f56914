import ModelPortRuntime

/// Keras convolutions: `Conv2D`, `DepthwiseConv2D`, `SeparableConv2D`,
/// `Conv2DTranspose` (and their Keras 2 `Convolution2D`-style aliases).
extension KerasCodecs {
    static let convolutions = KerasFamily("convolutions", [
        AnyKerasCodec(conv2D), AnyKerasCodec(groupedConv2D), AnyKerasCodec(depthwiseConv2D), AnyKerasCodec(separableConv2D),
        AnyKerasCodec(conv2DTranspose),
    ])

    /// Written back as the `Conv2D(groups=g)` it was read from (read by `conv2D`).
    static let groupedConv2D = KerasCodec<GroupedConv2D>(classNames: [], decode: { a, _ in
        throw a.error("a grouped convolution is read by the Conv2D codec")
    }, encode: { c, g in
        try checkStridedDilation(c, strides: c.strides, dilation: c.dilation)
        return ["filters": .number(Double(c.filters)), "kernel_size": pair(c.kernelSize.height, c.kernelSize.width),
         "strides": pair(c.strides.y, c.strides.x), "padding": .string(c.padding.rawValue), "data_format": channelsLast,
         "dilation_rate": pair(c.dilation.y, c.dilation.x), "groups": .number(Double(c.groups)),
         "activation": try activationName(c.activation, g, c), "use_bias": .bool(c.bias != nil)]
    }, spelling: { _, _ in KerasClassSpelling(className: "Conv2D", module: "keras.layers") })

    /// Kernel `(kh, kw, in / groups, filters)`, then `bias` when `use_bias`.
    /// With `groups` equal to the input channels (ConvNeXt), a depthwise
    /// convolution whose kernel is declared `(kh, kw, 1, filters)`; other
    /// groups (RegNet) a `GroupedConv2D`.
    static let conv2D = KerasCodec<Conv2D>(classNames: ["Conv2D", "Convolution2D"], decode: { a, inputShape in
        let w = try window(&a, inputShape, groupsAllowed: true)
        let filters = try a.int("filters", range: 1...1_048_576)
        let groups = try a.int("groups", default: 1, range: 1...1_048_576)
        let activation = try a.activation()
        let useBias = try a.bool("use_bias", default: true)
        let channels = inputShape[2]
        if groups != 1 {
            guard channels % groups == 0, filters % groups == 0 else {
                throw a.error("groups=\(groups) must divide the input's \(channels) channels and the \(filters) filters", argument: "groups")
            }
            try a.checkParameterShape([w.kernel.0, w.kernel.1, channels / groups, filters], argument: "filters")
            if groups != channels {
                if useBias { try a.checkParameterShape([filters], argument: "filters") }
                return GroupedConv2D(name: a.name, inputChannels: channels, filters: filters, groups: groups, kernelSize: w.kernel,
                                     strides: w.strides, dilation: w.dilation, padding: w.padding, activation: activation, useBias: useBias)
            }
            if useBias { try a.checkParameterShape([filters], argument: "filters") }
            return DepthwiseConv2D(name: a.name, inputChannels: channels, depthMultiplier: filters / channels, kernelSize: w.kernel,
                                   strides: w.strides, dilation: w.dilation, padding: w.padding, activation: activation,
                                   useBias: useBias, groupedConvolutionLayout: true)
        }
        try a.checkParameterShape([w.kernel.0, w.kernel.1, channels, filters], argument: "filters")
        if useBias { try a.checkParameterShape([filters], argument: "filters") }
        return Conv2D(name: a.name, inputChannels: channels, filters: filters, kernelSize: w.kernel,
                      strides: w.strides, dilation: w.dilation, padding: w.padding, activation: activation, useBias: useBias)
    }, encode: { c, g in
        try checkStridedDilation(c, strides: c.strides, dilation: c.dilation)
        return ["filters": .number(Double(c.filters)), "kernel_size": pair(c.kernelSize.height, c.kernelSize.width),
         "strides": pair(c.strides.y, c.strides.x), "padding": .string(c.padding.rawValue), "data_format": channelsLast,
         "dilation_rate": pair(c.dilation.y, c.dilation.x), "groups": .number(1),
         "activation": try activationName(c.activation, g, c), "use_bias": .bool(c.bias != nil)]
    })

    /// Kernel `(kh, kw, in, depth_multiplier)` (Keras 2 names it `depthwise_kernel`), then `bias`.
    static let depthwiseConv2D = KerasCodec<DepthwiseConv2D>(classNames: ["DepthwiseConv2D"], decode: { a, inputShape in
        let w = try window(&a, inputShape)
        let multiplier = try a.int("depth_multiplier", default: 1, range: 1...65_536)
        let activation = try a.activation()
        let useBias = try a.bool("use_bias", default: true)
        try a.checkParameterShape([w.kernel.0, w.kernel.1, inputShape[2], multiplier], argument: "depth_multiplier")
        if useBias { try a.checkParameterShape([inputShape[2], multiplier], argument: "depth_multiplier") }
        return DepthwiseConv2D(name: a.name, inputChannels: inputShape[2], depthMultiplier: multiplier, kernelSize: w.kernel,
                               strides: w.strides, dilation: w.dilation, padding: w.padding, activation: activation, useBias: useBias)
    }, encode: { c, g in
        try checkStridedDilation(c, strides: c.strides, dilation: c.dilation)
        var config: [String: JSONValue] = [
            "kernel_size": pair(c.kernelSize.height, c.kernelSize.width), "strides": pair(c.strides.y, c.strides.x),
            "padding": .string(c.padding.rawValue), "data_format": channelsLast, "dilation_rate": pair(c.dilation.y, c.dilation.x),
            "activation": try activationName(c.activation, g, c), "use_bias": .bool(c.bias != nil)]
        if c.groupedConvolutionLayout {
            config["filters"] = .number(Double(c.inputChannels * c.depthMultiplier))
            config["groups"] = .number(Double(c.inputChannels))
        } else {
            config["depth_multiplier"] = .number(Double(c.depthMultiplier))
        }
        return config
    }, spelling: { c, _ in
        // Read from a grouped Conv2D: written back as one, with the kernel as Keras declared it.
        c.groupedConvolutionLayout ? KerasClassSpelling(className: "Conv2D", module: "keras.layers") : nil
    })

    /// `depthwise_kernel`, `pointwise_kernel`, `bias`.
    static let separableConv2D = KerasCodec<SeparableConv2D>(classNames: ["SeparableConv2D", "SeparableConvolution2D"], decode: { a, inputShape in
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
    }, encode: { c, g in
        try checkStridedDilation(c, strides: c.strides, dilation: c.dilation)
        return ["filters": .number(Double(c.filters)), "kernel_size": pair(c.kernelSize.height, c.kernelSize.width),
         "strides": pair(c.strides.y, c.strides.x), "padding": .string(c.padding.rawValue), "data_format": channelsLast,
         "dilation_rate": pair(c.dilation.y, c.dilation.x), "depth_multiplier": .number(Double(c.depthwiseKernel.shape[3])),
         "activation": try activationName(c.activation, g, c), "use_bias": .bool(c.bias != nil)]
    })

    /// Kernel `(kh, kw, filters, in)`, then `bias`.
    static let conv2DTranspose = KerasCodec<Conv2DTranspose>(classNames: ["Conv2DTranspose", "Convolution2DTranspose"], decode: { a, inputShape in
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
    }, encode: { c, g in
        ["filters": .number(Double(c.filters)), "kernel_size": pair(c.kernelSize.height, c.kernelSize.width),
         "strides": pair(c.strides.y, c.strides.x), "padding": .string(c.padding.rawValue), "data_format": channelsLast,
         "output_padding": .null, "dilation_rate": pair(1, 1),
         "activation": try activationName(c.activation, g, c), "use_bias": .bool(c.bias != nil)]
    })

    /// The window arguments every 2-D convolution reads.
    /// `groups` is the caller's to read when `groupsAllowed` (Conv2D), else it must be 1.
    private static func window(_ a: inout LayerArguments, _ inputShape: [Int], groupsAllowed: Bool = false)
        throws -> (kernel: (Int, Int), strides: (Int, Int), dilation: (Int, Int), padding: WindowGeometry.Padding) {
        guard inputShape.count == 3 else { throw a.error("expects (height, width, channels) input, got \(inputShape)") }
        try a.requireChannelsLast()
        // Grouped convolution changes the weights' meaning; DepthwiseConv2D and
        // SeparableConv2D write groups=1 in Keras 2.
        if !groupsAllowed { try a.require("groups", oneOf: [.number(1)]) }
        let kernel = try a.intPair("kernel_size")
        let strides = try a.intPair("strides", default: (1, 1))
        let dilation = try a.intPair("dilation_rate", default: (1, 1))
        if (strides.0 > 1 || strides.1 > 1) && (dilation.0 > 1 || dilation.1 > 1) {
            throw a.error("strides > 1 together with dilation_rate > 1 is not supported (Keras rejects it too)", argument: "dilation_rate")
        }
        return (kernel, strides, dilation, try a.padding())
    }
}

/// Keras's convolutions refuse strides > 1 together with dilation_rate > 1
/// (an ONNX Conv may have both): refused by name before anything is written.
private func checkStridedDilation(_ layer: any Layer, strides: (y: Int, x: Int), dilation: (y: Int, x: Int)) throws {
    if (strides.y > 1 || strides.x > 1) && (dilation.y > 1 || dilation.x > 1) {
        throw unsupported(layer, "strides (\(strides.y), \(strides.x)) together with dilation_rate (\(dilation.y), \(dilation.x)): Keras's convolutions take one or the other")
    }
}

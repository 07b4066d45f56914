import ModelPortRuntime

/// Emits the ONNX nodes computing one runtime layer and returns its output.
/// `inputs` holds one value, or several for merge layers.
public typealias ONNXLayerExporter = @Sendable (_ layer: any Layer, _ inputs: [ONNXValue], _ context: ONNXExportContext) throws -> ONNXValue

/// The table from runtime layer type (the Keras class name, `Layer.typeName`)
/// to ONNX exporter: the one place that says which layers ModelPort can write
/// as ONNX. Adding a layer is one entry here plus its function.
public enum ONNXLayerExporters {
    public static let table: [String: ONNXLayerExporter] = [
        "InputLayer": identity,
        "Dropout": identity,
        "SpatialDropout1D": identity, "SpatialDropout2D": identity, "SpatialDropout3D": identity,
        "GaussianNoise": identity, "GaussianDropout": identity, "AlphaDropout": identity,
        "ActivityRegularization": identity,
        "Conv2D": exportConv2D,
        "DepthwiseConv2D": exportDepthwiseConv2D,
        "SeparableConv2D": exportSeparableConv2D,
        "Conv2DTranspose": exportConv2DTranspose,
        "Dense": exportDense,
        "Flatten": exportFlatten,
        "MaxPooling2D": exportPooling,
        "AveragePooling2D": exportPooling,
        "GlobalAveragePooling2D": exportGlobalPooling,
        "GlobalMaxPooling2D": exportGlobalPooling,
        "BatchNormalization": exportBatchNormalization,
        "LayerNormalization": exportLayerNormalization,
        "Normalization": exportNormalization,
        "Rescaling": exportRescaling,
        "Activation": exportActivationLayer,
        "ReLU": exportReLU, "LeakyReLU": exportReLU,
        "ELU": exportELU,
        "PReLU": exportPReLU,
        "Softmax": exportSoftmax,
        "ZeroPadding2D": exportPadding2D, "Cropping2D": exportPadding2D,
        "UpSampling2D": exportUpSampling2D,
        "Reshape": exportReshape,
        "Permute": exportPermute,
        "RepeatVector": exportRepeatVector,
        "Add": exportMerge, "Subtract": exportMerge, "Multiply": exportMerge, "Average": exportMerge,
        "Maximum": exportMerge, "Minimum": exportMerge, "Concatenate": exportMerge,
    ]

    /// Layer types ModelPort exports to ONNX, sorted, for messages and docs.
    public static var supportedTypeNames: [String] { (table.keys + ["Sequential", "Functional"]).sorted() }
}

private func ints(_ name: String, _ values: [Int]) -> ONNXAttribute { ONNXAttribute(name, .ints(values.map { Int64($0) })) }

private func identity(_ layer: any Layer, _ x: [ONNXValue], _ c: ONNXExportContext) throws -> ONNXValue { x[0] }

/// A Conv2D/pooling window's explicit ONNX pads `[top, left, bottom, right]`,
/// TensorFlow-style ("same" puts the odd extra row/column after).
private func windowPads(_ g: WindowGeometry) -> [Int] {
    let effH = (g.kernelHeight - 1) * g.dilationY + 1, effW = (g.kernelWidth - 1) * g.dilationX + 1
    let totalH = max((g.outHeight - 1) * g.strideY + effH - g.inHeight, 0)
    let totalW = max((g.outWidth - 1) * g.strideX + effW - g.inWidth, 0)
    return [g.padTop, g.padLeft, totalH - g.padTop, totalW - g.padLeft]
}

private func imageInput(_ layer: any Layer, _ x: ONNXValue, _ c: ONNXExportContext) throws -> ONNXValue {
    guard x.kerasShape.count == 3 else { throw c.error(layer, "expects (height, width, channels) input, got \(x.kerasShape)") }
    return c.channelsFirst(x)
}

private func exportConv2D(_ layer: any Layer, _ x: [ONNXValue], _ c: ONNXExportContext) throws -> ONNXValue {
    let l = layer as! Conv2D
    let input = try imageInput(layer, x[0], c)
    let s = input.kerasShape
    let g = try WindowGeometry(inHeight: s[0], inWidth: s[1], kernel: l.kernelSize, strides: l.strides, dilation: l.dilation, padding: l.padding)
    // Keras (kh, kw, in, out) -> ONNX (out, in, kh, kw).
    let k = l.kernel.value
    let w = c.constant(l.name + "_kernel", shape: [k.shape[3], k.shape[2], k.shape[0], k.shape[1]],
                       permuteAxes(k.scalars, shape: k.shape, perm: [3, 2, 0, 1]))
    var inputs = [input.name, w]
    if let b = l.bias { inputs.append(c.constant(l.name + "_bias", shape: [l.filters], b.value.scalars)) }
    let y = c.node("Conv", inputs, [ints("kernel_shape", [l.kernelSize.height, l.kernelSize.width]),
                                   ints("strides", [l.strides.y, l.strides.x]), ints("dilations", [l.dilation.y, l.dilation.x]),
                                   ints("pads", windowPads(g)), ONNXAttribute("group", .int(1))], name: l.name)
    return try exportActivation(l.activation, ONNXValue(name: y, kerasShape: [g.outHeight, g.outWidth, l.filters], channelsFirst: true), c, name: l.name)
}

/// Depthwise kernel (kh, kw, in, dm) -> grouped Conv weight (in * dm, 1, kh, kw).
private func depthwiseWeight(_ k: Tensor) -> (shape: [Int], values: [Float]) {
    let (kh, kw, cin, dm) = (k.shape[0], k.shape[1], k.shape[2], k.shape[3])
    return ([cin * dm, 1, kh, kw], permuteAxes(k.scalars, shape: k.shape, perm: [2, 3, 0, 1]))
}

private func exportDepthwiseConv2D(_ layer: any Layer, _ x: [ONNXValue], _ c: ONNXExportContext) throws -> ONNXValue {
    let l = layer as! DepthwiseConv2D
    let input = try imageInput(layer, x[0], c)
    let s = input.kerasShape
    let g = try WindowGeometry(inHeight: s[0], inWidth: s[1], kernel: l.kernelSize, strides: l.strides, dilation: l.dilation, padding: l.padding)
    let (shape, values) = depthwiseWeight(l.kernel.value)
    var inputs = [input.name, c.constant(l.name + "_kernel", shape: shape, values)]
    if let b = l.bias { inputs.append(c.constant(l.name + "_bias", shape: [shape[0]], b.value.scalars)) }
    let y = c.node("Conv", inputs, [ints("kernel_shape", [l.kernelSize.height, l.kernelSize.width]),
                                   ints("strides", [l.strides.y, l.strides.x]), ints("dilations", [l.dilation.y, l.dilation.x]),
                                   ints("pads", windowPads(g)), ONNXAttribute("group", .int(Int64(l.inputChannels)))], name: l.name)
    return try exportActivation(l.activation, ONNXValue(name: y, kerasShape: [g.outHeight, g.outWidth, shape[0]], channelsFirst: true), c, name: l.name)
}

private func exportSeparableConv2D(_ layer: any Layer, _ x: [ONNXValue], _ c: ONNXExportContext) throws -> ONNXValue {
    let l = layer as! SeparableConv2D
    let input = try imageInput(layer, x[0], c)
    let s = input.kerasShape
    let g = try WindowGeometry(inHeight: s[0], inWidth: s[1], kernel: l.kernelSize, strides: l.strides, dilation: l.dilation, padding: l.padding)
    let (shape, values) = depthwiseWeight(l.depthwiseKernel.value)
    let depthwise = c.node("Conv", [input.name, c.constant(l.name + "_depthwise_kernel", shape: shape, values)],
                           [ints("kernel_shape", [l.kernelSize.height, l.kernelSize.width]),
                            ints("strides", [l.strides.y, l.strides.x]), ints("dilations", [l.dilation.y, l.dilation.x]),
                            ints("pads", windowPads(g)), ONNXAttribute("group", .int(Int64(l.inputChannels)))], name: l.name + "_depthwise")
    let p = l.pointwiseKernel.value
    var inputs = [depthwise, c.constant(l.name + "_pointwise_kernel", shape: [p.shape[3], p.shape[2], 1, 1],
                                        permuteAxes(p.scalars, shape: p.shape, perm: [3, 2, 0, 1]))]
    if let b = l.bias { inputs.append(c.constant(l.name + "_bias", shape: [l.filters], b.value.scalars)) }
    let y = c.node("Conv", inputs, [ints("kernel_shape", [1, 1]), ints("strides", [1, 1]), ints("pads", [0, 0, 0, 0]),
                                   ONNXAttribute("group", .int(1))], name: l.name + "_pointwise")
    return try exportActivation(l.activation, ONNXValue(name: y, kerasShape: [g.outHeight, g.outWidth, l.filters], channelsFirst: true), c, name: l.name)
}

private func exportConv2DTranspose(_ layer: any Layer, _ x: [ONNXValue], _ c: ONNXExportContext) throws -> ONNXValue {
    let l = layer as! Conv2DTranspose
    let input = try imageInput(layer, x[0], c)
    let out = try l.outputShape(for: input.kerasShape)
    // Keras (kh, kw, filters, in) -> ONNX ConvTranspose (in, filters, kh, kw).
    let k = l.kernel.value
    var inputs = [input.name, c.constant(l.name + "_kernel", shape: [k.shape[3], k.shape[2], k.shape[0], k.shape[1]],
                                         permuteAxes(k.scalars, shape: k.shape, perm: [3, 2, 0, 1]))]
    if let b = l.bias { inputs.append(c.constant(l.name + "_bias", shape: [l.filters], b.value.scalars)) }
    var pads = [0, 0, 0, 0], outputPadding = [0, 0]
    if l.padding == .same {
        // Keras crops max(k - s, 0) (the odd one after); when k < s the output
        // still has in * s rows: the missing ones are output padding.
        let kernel = [l.kernelSize.height, l.kernelSize.width], strides = [l.strides.y, l.strides.x]
        for a in 0..<2 {
            let total = max(kernel[a] - strides[a], 0)
            pads[a] = total / 2
            pads[a + 2] = total - total / 2
            outputPadding[a] = strides[a] - kernel[a] + total
        }
    }
    var attributes = [ints("kernel_shape", [l.kernelSize.height, l.kernelSize.width]), ints("strides", [l.strides.y, l.strides.x]),
                      ints("pads", pads)]
    if outputPadding != [0, 0] { attributes.append(ints("output_padding", outputPadding)) }
    let y = c.node("ConvTranspose", inputs, attributes, name: l.name)
    return try exportActivation(l.activation, ONNXValue(name: y, kerasShape: out, channelsFirst: true), c, name: l.name)
}

private func exportDense(_ layer: any Layer, _ x: [ONNXValue], _ c: ONNXExportContext) throws -> ONNXValue {
    let l = layer as! Dense
    let input = c.channelsLast(x[0])
    let w = c.constant(l.name + "_kernel", shape: l.kernel.shape, l.kernel.value.scalars)
    let outShape = Array(input.kerasShape.dropLast()) + [l.units]
    var y: String
    if input.kerasShape.count == 1 {
        var inputs = [input.name, w]
        if let b = l.bias { inputs.append(c.constant(l.name + "_bias", shape: [l.units], b.value.scalars)) }
        y = c.node("Gemm", inputs, [], name: l.name)
    } else {
        y = c.node("MatMul", [input.name, w], name: l.name + "_matmul")
        if let b = l.bias { y = c.node("Add", [y, c.constant(l.name + "_bias", shape: [l.units], b.value.scalars)], name: l.name) }
    }
    return try exportActivation(l.activation, ONNXValue(name: y, kerasShape: outShape, channelsFirst: false), c, name: l.name)
}

/// Flatten in Keras's (channels-last) order: a channels-first value is
/// transposed back first, so features keep Keras's order for the Dense after.
private func exportFlatten(_ layer: any Layer, _ x: [ONNXValue], _ c: ONNXExportContext) throws -> ONNXValue {
    let input = c.channelsLast(x[0])
    if input.kerasShape.count == 1 { return input }
    let y = c.node("Flatten", [input.name], [ONNXAttribute("axis", .int(1))], name: layer.name)
    return ONNXValue(name: y, kerasShape: [input.kerasShape.reduce(1, *)], channelsFirst: false)
}

private func exportPooling(_ layer: any Layer, _ x: [ONNXValue], _ c: ONNXExportContext) throws -> ONNXValue {
    let input = try imageInput(layer, x[0], c)
    let s = input.kerasShape
    let (pool, strides, padding, isMax): ((Int, Int), (Int, Int), WindowGeometry.Padding, Bool)
    if let l = layer as? MaxPooling2D { (pool, strides, padding, isMax) = ((l.poolSize.height, l.poolSize.width), (l.strides.y, l.strides.x), l.padding, true) }
    else {
        let l = layer as! AveragePooling2D
        (pool, strides, padding, isMax) = ((l.poolSize.height, l.poolSize.width), (l.strides.y, l.strides.x), l.padding, false)
    }
    let g = try WindowGeometry(inHeight: s[0], inWidth: s[1], kernel: pool, strides: strides, padding: padding)
    var attributes = [ints("kernel_shape", [pool.0, pool.1]), ints("strides", [strides.0, strides.1]), ints("pads", windowPads(g))]
    // TensorFlow averages over the window positions inside the image only.
    if !isMax { attributes.append(ONNXAttribute("count_include_pad", .int(0))) }
    let y = c.node(isMax ? "MaxPool" : "AveragePool", [input.name], attributes, name: layer.name)
    return ONNXValue(name: y, kerasShape: [g.outHeight, g.outWidth, s[2]], channelsFirst: true)
}

private func exportGlobalPooling(_ layer: any Layer, _ x: [ONNXValue], _ c: ONNXExportContext) throws -> ONNXValue {
    let l = layer as! GlobalPooling2D
    let input = try imageInput(layer, x[0], c)
    let channels = input.kerasShape[2]
    let pooled = c.node(l.kind == .average ? "GlobalAveragePool" : "GlobalMaxPool", [input.name], name: l.keepDims ? l.name : l.name + "_pool")
    if l.keepDims { return ONNXValue(name: pooled, kerasShape: [1, 1, channels], channelsFirst: true) }
    let y = c.node("Flatten", [pooled], [ONNXAttribute("axis", .int(1))], name: l.name)
    return ONNXValue(name: y, kerasShape: [channels], channelsFirst: false)
}

private func exportBatchNormalization(_ layer: any Layer, _ x: [ONNXValue], _ c: ONNXExportContext) throws -> ONNXValue {
    let l = layer as! BatchNormalization
    let n = l.channels
    let rank = x[0].kerasShape.count
    if rank == 1 || rank == 3 {
        // ONNX normalizes axis 1: the channels of an NCHW image or of (N, C).
        let input = rank == 3 ? c.channelsFirst(x[0]) : x[0]
        let inputs = [input.name,
                      c.constant(l.name + "_gamma", shape: [n], l.gamma?.value.scalars ?? .init(repeating: 1, count: n)),
                      c.constant(l.name + "_beta", shape: [n], l.beta?.value.scalars ?? .init(repeating: 0, count: n)),
                      c.constant(l.name + "_moving_mean", shape: [n], l.movingMean.value.scalars),
                      c.constant(l.name + "_moving_variance", shape: [n], l.movingVariance.value.scalars)]
        let y = c.node("BatchNormalization", inputs, [ONNXAttribute("epsilon", .float(l.epsilon))], name: l.name)
        return ONNXValue(name: y, kerasShape: input.kerasShape, channelsFirst: input.channelsFirst)
    }
    // Other ranks: the equivalent per-channel affine map on the last axis.
    let input = c.channelsLast(x[0])
    var scale = [Float](repeating: 0, count: n), shift = scale
    for k in 0..<n {
        var inv = 1 / (l.movingVariance.value.scalars[k] + l.epsilon).squareRoot()
        if let g = l.gamma { inv *= g.value.scalars[k] }
        scale[k] = inv
        shift[k] = (l.beta?.value.scalars[k] ?? 0) - l.movingMean.value.scalars[k] * inv
    }
    let m = c.node("Mul", [input.name, c.constant(l.name + "_scale", shape: [n], scale)], name: l.name + "_scale")
    let y = c.node("Add", [m, c.constant(l.name + "_shift", shape: [n], shift)], name: l.name)
    return ONNXValue(name: y, kerasShape: input.kerasShape, channelsFirst: false)
}

private func exportLayerNormalization(_ layer: any Layer, _ x: [ONNXValue], _ c: ONNXExportContext) throws -> ONNXValue {
    let l = layer as! LayerNormalization
    let input = c.channelsLast(x[0])
    let f = l.features
    let gamma = l.gamma?.value.scalars ?? .init(repeating: 1, count: f)
    let beta = l.beta?.value.scalars ?? .init(repeating: 0, count: f)
    if c.opset >= 17 {
        let y = c.node("LayerNormalization", [input.name, c.constant(l.name + "_gamma", shape: [f], gamma),
                                              c.constant(l.name + "_beta", shape: [f], beta)],
                       [ONNXAttribute("axis", .int(-1)), ONNXAttribute("epsilon", .float(l.epsilon))], name: l.name)
        return ONNXValue(name: y, kerasShape: input.kerasShape, channelsFirst: false)
    }
    // Before opset 17: mean and variance with ReduceMean (axes as an attribute up to opset 17).
    let axes = ints("axes", [-1]), keep = ONNXAttribute("keepdims", .int(1))
    let mean = c.node("ReduceMean", [input.name], [axes, keep], name: l.name + "_mean")
    let centered = c.node("Sub", [input.name, mean], name: l.name + "_centered")
    let squared = c.node("Mul", [centered, centered], name: l.name + "_squared")
    let variance = c.node("ReduceMean", [squared], [axes, keep], name: l.name + "_variance")
    let std = c.node("Sqrt", [c.node("Add", [variance, c.scalar(l.name + "_epsilon", l.epsilon)], name: l.name + "_var_eps")], name: l.name + "_std")
    let normalized = c.node("Div", [centered, std], name: l.name + "_normalized")
    let scaled = c.node("Mul", [normalized, c.constant(l.name + "_gamma", shape: [f], gamma)], name: l.name + "_scaled")
    let y = c.node("Add", [scaled, c.constant(l.name + "_beta", shape: [f], beta)], name: l.name)
    return ONNXValue(name: y, kerasShape: input.kerasShape, channelsFirst: false)
}

private func exportNormalization(_ layer: any Layer, _ x: [ONNXValue], _ c: ONNXExportContext) throws -> ONNXValue {
    let l = layer as! Normalization
    let input = c.channelsLast(x[0])
    let f = l.features
    let denominators = l.variance.value.scalars.map { max($0.squareRoot(), l.epsilon) }
    let shape = f == 1 ? [] : [f]
    let centered = c.node("Sub", [input.name, c.constant(l.name + "_mean", shape: shape, l.mean.value.scalars)], name: l.name + "_centered")
    let y = c.node("Div", [centered, c.constant(l.name + "_denominator", shape: shape, denominators)], name: l.name)
    return ONNXValue(name: y, kerasShape: input.kerasShape, channelsFirst: false)
}

private func exportRescaling(_ layer: any Layer, _ x: [ONNXValue], _ c: ONNXExportContext) throws -> ONNXValue {
    let l = layer as! Rescaling
    var y = c.node("Mul", [x[0].name, c.scalar(l.name + "_scale", l.scale)], name: l.offset == 0 ? l.name : l.name + "_scale")
    if l.offset != 0 { y = c.node("Add", [y, c.scalar(l.name + "_offset", l.offset)], name: l.name) }
    return ONNXValue(name: y, kerasShape: x[0].kerasShape, channelsFirst: x[0].channelsFirst)
}

private func exportActivationLayer(_ layer: any Layer, _ x: [ONNXValue], _ c: ONNXExportContext) throws -> ONNXValue {
    let l = layer as! ActivationLayer
    if l.activation == .linear {
        return ONNXValue(name: c.node("Identity", [x[0].name], name: l.name), kerasShape: x[0].kerasShape, channelsFirst: x[0].channelsFirst)
    }
    return try exportActivation(l.activation, x[0], c, name: l.name, fused: false)
}

private func exportReLU(_ layer: any Layer, _ x: [ONNXValue], _ c: ONNXExportContext) throws -> ONNXValue {
    let l = layer as! ReLU
    let v = x[0]
    var y: String
    if l.threshold == 0 {
        y = l.negativeSlope == 0
            ? c.node("Relu", [v.name], name: l.maxValue == nil ? l.name : l.name + "_relu")
            : c.node("LeakyRelu", [v.name], [ONNXAttribute("alpha", .float(l.negativeSlope))], name: l.maxValue == nil ? l.name : l.name + "_relu")
    } else {
        // x >= t ? x : slope * (x - t)
        let t = c.scalar(l.name + "_threshold", l.threshold)
        let below = c.node("Mul", [c.node("Sub", [v.name, t], name: l.name + "_shifted"), c.scalar(l.name + "_slope", l.negativeSlope)],
                           name: l.name + "_below")
        let mask = c.node("GreaterOrEqual", [v.name, t], name: l.name + "_mask")
        y = c.node("Where", [mask, v.name, below], name: l.maxValue == nil ? l.name : l.name + "_relu")
    }
    if let m = l.maxValue { y = c.node("Min", [y, c.scalar(l.name + "_max_value", m)], name: l.name) }
    return ONNXValue(name: y, kerasShape: v.kerasShape, channelsFirst: v.channelsFirst)
}

private func exportELU(_ layer: any Layer, _ x: [ONNXValue], _ c: ONNXExportContext) throws -> ONNXValue {
    let l = layer as! ELU
    let y = c.node("Elu", [x[0].name], [ONNXAttribute("alpha", .float(l.alpha))], name: l.name)
    return ONNXValue(name: y, kerasShape: x[0].kerasShape, channelsFirst: x[0].channelsFirst)
}

private func exportPReLU(_ layer: any Layer, _ x: [ONNXValue], _ c: ONNXExportContext) throws -> ONNXValue {
    let l = layer as! PReLU
    let v = x[0]
    var shape = l.alpha.shape, values = l.alpha.value.scalars
    if v.channelsFirst {
        let rank = shape.count
        let perm = [rank - 1] + Array(0..<(rank - 1))
        values = permuteAxes(values, shape: shape, perm: perm)
        shape = perm.map { shape[$0] }
    }
    let y = c.node("PRelu", [v.name, c.constant(l.name + "_alpha", shape: shape, values)], name: l.name)
    return ONNXValue(name: y, kerasShape: v.kerasShape, channelsFirst: v.channelsFirst)
}

private func exportSoftmax(_ layer: any Layer, _ x: [ONNXValue], _ c: ONNXExportContext) throws -> ONNXValue {
    let l = layer as! Softmax
    let v = x[0]
    let y = c.node("Softmax", [v.name], [ONNXAttribute("axis", .int(Int64(v.onnxAxis(ofKerasSampleAxis: l.axis))))], name: l.name)
    return ONNXValue(name: y, kerasShape: v.kerasShape, channelsFirst: v.channelsFirst)
}

private func exportPadding2D(_ layer: any Layer, _ x: [ONNXValue], _ c: ONNXExportContext) throws -> ONNXValue {
    let l = layer as! Padding2D
    let input = try imageInput(layer, x[0], c)
    let s = input.kerasShape
    let out = try l.outputShape(for: s)
    let y: String
    if l.kind == .zeroPad {
        let pads = c.constant(l.name + "_pads", shape: [8], int64s: [0, 0, l.top, l.left, 0, 0, l.bottom, l.right].map { Int64($0) })
        y = c.node("Pad", [input.name, pads], [ONNXAttribute("mode", .string("constant"))], name: l.name)
    } else {
        let starts = c.constant(l.name + "_starts", shape: [2], int64s: [Int64(l.top), Int64(l.left)])
        let ends = c.constant(l.name + "_ends", shape: [2], int64s: [Int64(s[0] - l.bottom), Int64(s[1] - l.right)])
        let axes = c.constant(l.name + "_axes", shape: [2], int64s: [2, 3])
        y = c.node("Slice", [input.name, starts, ends, axes], name: l.name)
    }
    return ONNXValue(name: y, kerasShape: out, channelsFirst: true)
}

private func exportUpSampling2D(_ layer: any Layer, _ x: [ONNXValue], _ c: ONNXExportContext) throws -> ONNXValue {
    let l = layer as! UpSampling2D
    let input = try imageInput(layer, x[0], c)
    let scales = c.constant(l.name + "_scales", shape: [4], [1, 1, Float(l.size.y), Float(l.size.x)])
    // Integer factors with floor(out / factor) are exactly Keras's nearest neighbour.
    let y = c.node("Resize", [input.name, "", scales],
                   [ONNXAttribute("mode", .string("nearest")), ONNXAttribute("coordinate_transformation_mode", .string("asymmetric")),
                    ONNXAttribute("nearest_mode", .string("floor"))], name: l.name)
    return ONNXValue(name: y, kerasShape: try l.outputShape(for: input.kerasShape), channelsFirst: true)
}

private func exportReshape(_ layer: any Layer, _ x: [ONNXValue], _ c: ONNXExportContext) throws -> ONNXValue {
    let input = c.channelsLast(x[0])
    let out = try layer.outputShape(for: input.kerasShape)
    // 0 keeps the (dynamic) batch size.
    let shape = c.constant(layer.name + "_shape", shape: [out.count + 1], int64s: [0] + out.map { Int64($0) })
    return ONNXValue(name: c.node("Reshape", [input.name, shape], name: layer.name), kerasShape: out, channelsFirst: false)
}

private func exportPermute(_ layer: any Layer, _ x: [ONNXValue], _ c: ONNXExportContext) throws -> ONNXValue {
    let l = layer as! Permute
    let input = c.channelsLast(x[0])
    let y = c.node("Transpose", [input.name], [ints("perm", [0] + l.dims)], name: l.name)
    return ONNXValue(name: y, kerasShape: try l.outputShape(for: input.kerasShape), channelsFirst: false)
}

private func exportRepeatVector(_ layer: any Layer, _ x: [ONNXValue], _ c: ONNXExportContext) throws -> ONNXValue {
    let l = layer as! RepeatVector
    let input = c.channelsLast(x[0])
    let expanded = c.node("Unsqueeze", [input.name, c.constant(l.name + "_axes", shape: [1], int64s: [1])], name: l.name + "_unsqueeze")
    let y = c.node("Tile", [expanded, c.constant(l.name + "_repeats", shape: [3], int64s: [1, Int64(l.count), 1])], name: l.name)
    return ONNXValue(name: y, kerasShape: try l.outputShape(for: input.kerasShape), channelsFirst: false)
}

private func exportMerge(_ layer: any Layer, _ x: [ONNXValue], _ c: ONNXExportContext) throws -> ONNXValue {
    let l = layer as! Merge
    // All inputs in one layout: channels-first only if every input already is.
    let inputs = x.allSatisfy(\.channelsFirst) ? x : x.map { c.channelsLast($0) }
    let first = inputs[0]
    let out = try l.outputShape(forInputs: inputs.map(\.kerasShape))
    let names = inputs.map(\.name)
    let y: String
    switch l.operation {
    case .add: y = c.node(names.count == 2 ? "Add" : "Sum", names, name: l.name)
    case .subtract: y = c.node("Sub", names, name: l.name)
    case .multiply:
        var acc = names[0]
        for (k, n) in names.dropFirst().enumerated() { acc = c.node("Mul", [acc, n], name: k == names.count - 2 ? l.name : l.name + "_partial") }
        y = acc
    case .average: y = c.node("Mean", names, name: l.name)
    case .maximum: y = c.node("Max", names, name: l.name)
    case .minimum: y = c.node("Min", names, name: l.name)
    case .concatenate:
        let rank = first.kerasShape.count
        let axis = l.axis < 0 ? rank + l.axis : l.axis
        y = c.node("Concat", names, [ONNXAttribute("axis", .int(Int64(first.onnxAxis(ofKerasSampleAxis: axis))))], name: l.name)
    }
    return ONNXValue(name: y, kerasShape: out, channelsFirst: first.channelsFirst)
}

/// Emits `activation` applied to `x` (none for linear).
/// - Parameter fused: true when the activation belongs to a Conv/Dense
///   layer, so its node is named `<layer>_<activation>`.
func exportActivation(_ activation: Activation, _ x: ONNXValue, _ c: ONNXExportContext, name layerName: String,
                      fused: Bool = true) throws -> ONNXValue {
    let name = fused ? layerName + "_" + activation.rawValue : layerName
    let v = x.name
    func unary(_ op: String, _ attributes: [ONNXAttribute] = []) -> String { c.node(op, [v], attributes, name: name) }
    let lastAxis = ONNXAttribute("axis", .int(Int64(x.onnxAxis(ofKerasSampleAxis: x.kerasShape.count - 1))))
    let y: String
    switch activation {
    case .linear: return x
    case .relu: y = unary("Relu")
    case .relu6: y = c.node("Clip", [v, c.scalar(name + "_min", 0), c.scalar(name + "_max", 6)], name: name)
    case .sigmoid: y = unary("Sigmoid")
    case .tanh: y = unary("Tanh")
    case .softmax: y = unary("Softmax", [lastAxis])
    case .logSoftmax: y = unary("LogSoftmax", [lastAxis])
    case .softplus: y = unary("Softplus")
    case .softsign: y = unary("Softsign")
    case .elu: y = unary("Elu", [ONNXAttribute("alpha", .float(1))])
    case .selu: y = unary("Selu")
    case .gelu, .geluTanh:
        let tanh = activation == .geluTanh
        if c.opset >= 20 {
            y = unary("Gelu", tanh ? [ONNXAttribute("approximate", .string("tanh"))] : [])
        } else if !tanh {
            // 0.5 * x * (1 + erf(x / sqrt(2)))
            let erf = c.node("Erf", [c.node("Mul", [v, c.scalar(name + "_inv_sqrt2", Float(0.5).squareRoot())], name: name + "_scaled")], name: name + "_erf")
            let onePlus = c.node("Add", [erf, c.scalar(name + "_one", 1)], name: name + "_one_plus")
            y = c.node("Mul", [c.node("Mul", [v, onePlus], name: name + "_x_times"), c.scalar(name + "_half", 0.5)], name: name)
        } else {
            // 0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 x^3)))
            let cube = c.node("Mul", [c.node("Mul", [v, v], name: name + "_square"), v], name: name + "_cube")
            let inner = c.node("Add", [v, c.node("Mul", [cube, c.scalar(name + "_coefficient", 0.044715)], name: name + "_cubic_term")], name: name + "_inner")
            let t = c.node("Tanh", [c.node("Mul", [inner, c.scalar(name + "_sqrt_2_over_pi", 0.7978845608028654)], name: name + "_scaled")], name: name + "_tanh")
            let onePlus = c.node("Add", [t, c.scalar(name + "_one", 1)], name: name + "_one_plus")
            y = c.node("Mul", [c.node("Mul", [v, onePlus], name: name + "_x_times"), c.scalar(name + "_half", 0.5)], name: name)
        }
    case .swish, .silu: y = c.node("Mul", [v, c.node("Sigmoid", [v], name: name + "_sigmoid")], name: name)
    case .exponential: y = unary("Exp")
    case .hardSigmoid: y = unary("HardSigmoid", [ONNXAttribute("alpha", .float(1.0 / 6)), ONNXAttribute("beta", .float(0.5))])
    case .hardSigmoidKeras2: y = unary("HardSigmoid", [ONNXAttribute("alpha", .float(0.2)), ONNXAttribute("beta", .float(0.5))])
    case .hardSilu:
        // HardSwish arrived in opset 14; before it, x * HardSigmoid(x) is the same function.
        y = c.opset >= 14 ? unary("HardSwish")
            : c.node("Mul", [v, c.node("HardSigmoid", [v], [ONNXAttribute("alpha", .float(1.0 / 6)), ONNXAttribute("beta", .float(0.5))],
                                       name: name + "_hard_sigmoid")], name: name)
    }
    return ONNXValue(name: y, kerasShape: x.kerasShape, channelsFirst: x.channelsFirst)
}

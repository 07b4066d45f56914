import ModelPortRuntime

/// Pooling: Keras `MaxPooling2D`, `AveragePooling2D` and `GlobalPooling2D`
/// (average or max, kept dimensions or not) <-> ONNX `MaxPool`,
/// `AveragePool`, `GlobalAveragePool` and `GlobalMaxPool`.
extension ONNXFamily {
    static let pooling = ONNXFamily(
        "pooling",
        imports: [
            ONNXOpImport("MaxPool", importPool),
            ONNXOpImport("AveragePool", importPool),
            ONNXOpImport("GlobalAveragePool", importGlobalPool),
            ONNXOpImport("GlobalMaxPool", importGlobalPool),
        ],
        exports: [
            .layer(MaxPooling2D.self, ["MaxPooling2D"], exportMaxPooling),
            .layer(AveragePooling2D.self, ["AveragePooling2D"], exportAveragePooling),
            .layer(GlobalPooling2D.self, ["GlobalAveragePooling2D", "GlobalMaxPooling2D"], exportGlobalPooling),
        ])
}

// MARK: - Import

private func importPool(_ n: ONNXNodeProto, _ i: Int, _ c: ONNXImportContext) throws {
    var a = Attributes(n, c)
    let x = try c.value(n.inputs[0])
    if x.onnxShape.count == 2 { return try importAs2D(n, i, c, importPool) }
    guard x.onnxShape.count == 3 else { throw c.error("only 2-D pooling of (N, C, H, W) is supported") }
    guard let kernel = try a.ints("kernel_shape", nil), kernel.count == 2, kernel.allSatisfy({ $0 >= 1 }) else { throw c.error("kernel_shape must be two positive values") }
    let strides = try a.ints("strides", [1, 1])!
    guard strides.count == 2 else { throw c.error("strides \(strides) must be two positive values") }
    try c.checkWindow(kernel, "kernel_shape", range: 1...ONNXImportContext.maxWindowValue)
    try c.checkWindow(strides, "strides", range: 1...ONNXImportContext.maxWindowValue)
    guard try a.ints("dilations", [1, 1]) == [1, 1] else { throw c.error("dilated pooling is not supported") }
    try a.require("ceil_mode", int: 0)
    let isMax = n.opType == "MaxPool"
    if isMax { try a.require("storage_order", int: 0) }
    let countIncludePad = isMax ? 0 : try a.int("count_include_pad", 0)
    let (padding, pads) = try windowPadding(&a, kernel: (kernel[0], kernel[1]), strides: (strides[0], strides[1]), dilation: (1, 1),
                                            height: x.onnxShape[1], width: x.onnxShape[2], c: c)
    try a.finish()
    if n.outputs.count > 1, c.consumers[n.outputs[1]] != nil { throw c.error("the MaxPool indices output is not supported") }
    var input = try c.channelsLast(x)
    var explicitPads = pads
    if padding == .same && countIncludePad != 0 {
        // Counting the padding in: zero padding then 'valid' pooling, with the same pads.
        guard let g = try? WindowGeometry(inHeight: x.onnxShape[1], inWidth: x.onnxShape[2], kernel: (kernel[0], kernel[1]),
                                          strides: (strides[0], strides[1]), padding: .same) else { throw c.error("invalid pooling window") }
        explicitPads = windowPads(g)
    }
    if explicitPads != [0, 0, 0, 0] {
        // Explicit pads: average pooling that counts them (count_include_pad=1) is zero padding then 'valid' pooling;
        // average pooling that excludes them is not (zeros would enter the window).
        // Max pooling of non-negative values (a Relu's output) is the same with zeros as with ONNX's
        // -infinity padding, as long as every window holds an input element (pads smaller than the kernel).
        let nonNegative = isMax && c.producer(of: n.inputs[0])?.opType == "Relu"
            && explicitPads[0] < kernel[0] && explicitPads[2] < kernel[0] && explicitPads[1] < kernel[1] && explicitPads[3] < kernel[1]
        guard nonNegative || (!isMax && countIncludePad != 0) else {
            throw c.error("pads \(pads) are neither Keras 'valid' nor 'same' padding (supported otherwise for AveragePool with count_include_pad=1, and for MaxPool of a Relu's output)")
        }
        let padded = try c.add(Padding2D(name: c.layerName("ZeroPadding2D"), kind: .zeroPad, top: explicitPads[0], bottom: explicitPads[2],
                                         left: explicitPads[1], right: explicitPads[3]), [input])
        let s = c.shape(ofNode: padded)
        input = ImportedValue(node: padded, onnxShape: [s[2], s[0], s[1]], perm: [1, 2, 0])
    }
    let padding2 = explicitPads != [0, 0, 0, 0] ? WindowGeometry.Padding.valid : padding
    let layer: any Layer = isMax
        ? MaxPooling2D(name: c.layerName("MaxPooling2D"), poolSize: (kernel[0], kernel[1]), strides: (strides[0], strides[1]), padding: padding2)
        : AveragePooling2D(name: c.layerName("AveragePooling2D"), poolSize: (kernel[0], kernel[1]), strides: (strides[0], strides[1]), padding: padding2)
    let node = try c.add(layer, [input])
    c.output(n, c.imageValue(ofNode: node))
}

private func importGlobalPool(_ n: ONNXNodeProto, _ i: Int, _ c: ONNXImportContext) throws {
    try Attributes(n, c).finish()
    let x = try c.value(n.inputs[0])
    guard x.onnxShape.count == 3 else { throw c.error("only 2-D global pooling of (N, C, H, W) is supported") }
    let kind: GlobalPooling2D.Kind = n.opType == "GlobalAveragePool" ? .average : .max
    let typeName = kind == .average ? "GlobalAveragePooling2D" : "GlobalMaxPooling2D"
    let node = try c.add(GlobalPooling2D(name: c.layerName(typeName), kind: kind, keepDims: true), [try c.channelsLast(x)])
    c.output(n, ImportedValue(node: node, onnxShape: [x.onnxShape[0], 1, 1], perm: [1, 2, 0]))
}

// MARK: - Export

private func exportMaxPooling(_ l: MaxPooling2D, _ x: [ONNXValue], _ c: ONNXExportContext) throws -> ONNXValue {
    try exportPooling(l, x[0], c, op: "MaxPool", pool: (l.poolSize.height, l.poolSize.width), strides: (l.strides.y, l.strides.x), padding: l.padding)
}

private func exportAveragePooling(_ l: AveragePooling2D, _ x: [ONNXValue], _ c: ONNXExportContext) throws -> ONNXValue {
    // TensorFlow averages over the window positions inside the image only.
    try exportPooling(l, x[0], c, op: "AveragePool", pool: (l.poolSize.height, l.poolSize.width), strides: (l.strides.y, l.strides.x),
                      padding: l.padding, extra: [ONNXAttribute("count_include_pad", .int(0))])
}

private func exportPooling(_ layer: any Layer, _ x: ONNXValue, _ c: ONNXExportContext, op: String, pool: (Int, Int), strides: (Int, Int),
                           padding: WindowGeometry.Padding, extra: [ONNXAttribute] = []) throws -> ONNXValue {
    let input = try imageInput(layer, x, c)
    let s = input.kerasShape
    let g = try WindowGeometry(inHeight: s[0], inWidth: s[1], kernel: pool, strides: strides, padding: padding)
    let attributes = [ints("kernel_shape", [pool.0, pool.1]), ints("strides", [strides.0, strides.1]), ints("pads", windowPads(g))] + extra
    let y = c.node(op, [input.name], attributes, name: layer.name)
    return ONNXValue(name: y, kerasShape: [g.outHeight, g.outWidth, s[2]], channelsFirst: true)
}

private func exportGlobalPooling(_ l: GlobalPooling2D, _ x: [ONNXValue], _ c: ONNXExportContext) throws -> ONNXValue {
    let input = try imageInput(l, x[0], c)
    let channels = input.kerasShape[2]
    let pooled = c.node(l.kind == .average ? "GlobalAveragePool" : "GlobalMaxPool", [input.name], name: l.keepDims ? l.name : l.name + "_pool")
    if l.keepDims { return ONNXValue(name: pooled, kerasShape: [1, 1, channels], channelsFirst: true) }
    let y = c.node("Flatten", [pooled], [ONNXAttribute("axis", .int(1))], name: l.name)
    return ONNXValue(name: y, kerasShape: [channels], channelsFirst: false)
}

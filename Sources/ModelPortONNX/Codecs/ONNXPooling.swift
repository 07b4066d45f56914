import ModelPortRuntime

/// Pooling: Keras `MaxPooling2D`, `AveragePooling2D` and `GlobalPooling2D`
/// (average or max, kept dimensions or not) <-> ONNX `MaxPool`,
/// `AveragePool`, `GlobalAveragePool` and `GlobalMaxPool`. What Keras's
/// pooling cannot express (dilations, `ceil_mode`, pads that are neither
/// "valid" nor "same", 3-D windows) imports as `WindowPooling`, ONNX's own
/// definition, which exports back to `MaxPool` / `AveragePool`.
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
            .layer(WindowPooling.self, ["WindowPooling"], exportWindowPooling),
        ])
}

// MARK: - Import

private func importPool(_ n: ONNXNodeProto, _ i: Int, _ c: ONNXImportContext) throws {
    let x = try c.value(n.inputs[0])
    if x.onnxShape.count == 2 { return try importAs2D(n, i, c, importPool) }
    guard x.onnxShape.count >= 3 else { throw c.error("pooling needs an input (N, C, spatial...) with at least one spatial axis") }
    let p = try poolAttributes(n, x, c)
    if n.outputs.count > 1, c.consumers[n.outputs[1]] != nil || c.graph.outputs.contains(where: { $0.name == n.outputs[1] }) {
        throw c.error("the MaxPool indices output is not supported")
    }
    if x.onnxShape.count == 3, try importKerasPool(n, x, p, c) { return }
    // Everything else (dilations, ceil_mode, SAME_LOWER, pads Keras cannot express, 3-D): ONNX's own pooling.
    let spatial = Array(x.onnxShape.dropFirst())
    let pads = p.pads ?? autoPads(p, spatial)
    let layer = WindowPooling(name: c.layerName("WindowPooling"), kind: p.isMax ? .max : .average(countIncludePad: p.countIncludePad),
                              kernel: p.kernel, strides: p.strides, dilations: p.dilations, padsBegin: Array(pads.prefix(spatial.count)),
                              padsEnd: Array(pads.suffix(spatial.count)), ceilMode: p.ceilMode)
    let node = try c.add(layer, [try c.channelsLast(x)])
    let out = c.shape(ofNode: node)
    c.output(n, ImportedValue(node: node, onnxShape: [out.last!] + out.dropLast(), perm: Array(1..<out.count) + [0]))
}

/// A MaxPool's or AveragePool's attributes, checked.
private struct PoolAttributes {
    let isMax: Bool
    let kernel, strides, dilations: [Int]
    /// Explicit pads (begin values, then end values), or nil for auto_pad SAME_UPPER / SAME_LOWER.
    let pads: [Int]?
    let autoPad: String
    let ceilMode: Bool
    let countIncludePad: Bool
}

private func poolAttributes(_ n: ONNXNodeProto, _ x: ImportedValue, _ c: ONNXImportContext) throws -> PoolAttributes {
    var a = Attributes(n, c)
    let k = x.onnxShape.count - 1
    guard let kernel = try a.ints("kernel_shape", nil), kernel.count == k else { throw c.error("kernel_shape must hold \(k) values, one per spatial axis") }
    let strides = try a.ints("strides", nil) ?? .init(repeating: 1, count: k)
    let dilations = try a.ints("dilations", nil) ?? .init(repeating: 1, count: k)
    guard strides.count == k, dilations.count == k else { throw c.error("strides \(strides) and dilations \(dilations) must hold \(k) values") }
    try c.checkWindow(kernel, "kernel_shape", range: 1...ONNXImportContext.maxWindowValue)
    try c.checkWindow(strides, "strides", range: 1...ONNXImportContext.maxWindowValue)
    try c.checkWindow(dilations, "dilations", range: 1...ONNXImportContext.maxWindowValue)
    let ceilMode = try a.int("ceil_mode", 0)
    guard ceilMode == 0 || ceilMode == 1 else { throw c.error("ceil_mode \(ceilMode) must be 0 or 1") }
    let isMax = n.opType == "MaxPool"
    if isMax { try a.require("storage_order", int: 0) }
    let countIncludePad = isMax ? 0 : try a.int("count_include_pad", 0)
    let autoPad = try a.string("auto_pad", "NOTSET")
    var pads: [Int]? = .init(repeating: 0, count: 2 * k)
    switch autoPad {
    case "NOTSET":
        pads = try a.ints("pads", pads)!
        guard pads!.count == 2 * k else { throw c.error("pads \(pads!) must hold \(2 * k) values") }
        try c.checkWindow(pads!, "pads")
        // As onnxruntime requires: a window never lies wholly in the padding (whose average would be 0 / 0).
        guard (0..<(2 * k)).allSatisfy({ pads![$0] < kernel[$0 % k] }) else {
            throw c.error("pads \(pads!) are not all smaller than kernel_shape \(kernel)")
        }
    case "VALID": break
    case "SAME_UPPER", "SAME_LOWER": pads = nil
    default: throw c.error("auto_pad '\(autoPad)' is not supported (supported: NOTSET, VALID, SAME_UPPER, SAME_LOWER)")
    }
    try a.finish()
    guard ceilMode == 0 || autoPad == "NOTSET" else { throw c.error("ceil_mode=1 with auto_pad '\(autoPad)' is not supported (only with explicit pads)") }
    return PoolAttributes(isMax: isMax, kernel: kernel, strides: strides, dilations: dilations, pads: pads, autoPad: autoPad,
                          ceilMode: ceilMode == 1, countIncludePad: countIncludePad != 0)
}

/// auto_pad SAME_UPPER / SAME_LOWER: output size ceil(input / stride), the odd extra pad after (UPPER) or before (LOWER).
private func autoPads(_ p: PoolAttributes, _ spatial: [Int]) -> [Int] {
    var begin: [Int] = [], end: [Int] = []
    for (a, size) in spatial.enumerated() {
        let out = (size + p.strides[a] - 1) / p.strides[a]
        let total = max((out - 1) * p.strides[a] + (p.kernel[a] - 1) * p.dilations[a] + 1 - size, 0)
        let small = total / 2
        begin.append(p.autoPad == "SAME_LOWER" ? total - small : small)
        end.append(p.autoPad == "SAME_LOWER" ? small : total - small)
    }
    return begin + end
}

/// 2-D pooling as Keras's `MaxPooling2D` / `AveragePooling2D` ("valid" or
/// "same" padding, or explicit zero padding first where that gives the same
/// result); false when they cannot express it.
private func importKerasPool(_ n: ONNXNodeProto, _ x: ImportedValue, _ p: PoolAttributes, _ c: ONNXImportContext) throws -> Bool {
    guard p.dilations == [1, 1], !p.ceilMode, p.autoPad != "SAME_LOWER" else { return false }
    let kernel = p.kernel, strides = p.strides, isMax = p.isMax
    let padding: WindowGeometry.Padding, pads: [Int]
    if let explicit = p.pads {
        pads = [explicit[0], explicit[1], explicit[2], explicit[3]]
        if pads == [0, 0, 0, 0] {
            padding = .valid
        } else {
            let g = try? WindowGeometry(inHeight: x.onnxShape[1], inWidth: x.onnxShape[2], kernel: (kernel[0], kernel[1]),
                                        strides: (strides[0], strides[1]), padding: .same)
            padding = g.map(windowPads) == pads ? .same : .valid
        }
    } else {
        (padding, pads) = (.same, [0, 0, 0, 0])
    }
    var explicitPads = padding == .same ? [0, 0, 0, 0] : pads
    if padding == .same && p.countIncludePad {
        // Counting the padding in: zero padding then 'valid' pooling, with the same pads.
        guard let g = try? WindowGeometry(inHeight: x.onnxShape[1], inWidth: x.onnxShape[2], kernel: (kernel[0], kernel[1]),
                                          strides: (strides[0], strides[1]), padding: .same) else { return false }
        explicitPads = windowPads(g)
    }
    var input = try c.channelsLast(x)
    if explicitPads != [0, 0, 0, 0] {
        // Explicit pads: average pooling that counts them (count_include_pad=1) is zero padding then 'valid' pooling;
        // average pooling that excludes them is not (zeros would enter the window).
        // Max pooling of non-negative values (a Relu's output) is the same with zeros as with ONNX's
        // -infinity padding, as long as every window holds an input element (pads smaller than the kernel).
        let nonNegative = isMax && c.producer(of: n.inputs[0])?.opType == "Relu"
            && explicitPads[0] < kernel[0] && explicitPads[2] < kernel[0] && explicitPads[1] < kernel[1] && explicitPads[3] < kernel[1]
        guard nonNegative || (!isMax && p.countIncludePad) else { return false }
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
    return true
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

private func exportWindowPooling(_ l: WindowPooling, _ x: [ONNXValue], _ c: ONNXExportContext) throws -> ONNXValue {
    guard x[0].kerasShape.count == l.kernel.count + 1 else { throw c.error(l, "expects \(l.kernel.count) spatial axes and channels, got \(x[0].kerasShape)") }
    let input = c.channelsFirst(x[0])
    var attributes = [ints("kernel_shape", l.kernel), ints("strides", l.strides), ints("pads", l.padsBegin + l.padsEnd),
                      ONNXAttribute("ceil_mode", .int(l.ceilMode ? 1 : 0))]
    if l.dilations.contains(where: { $0 != 1 }) { attributes.append(ints("dilations", l.dilations)) }
    if case .average(let countIncludePad) = l.kind { attributes.append(ONNXAttribute("count_include_pad", .int(countIncludePad ? 1 : 0))) }
    let y = c.node(l.kind == .max ? "MaxPool" : "AveragePool", [input.name], attributes, name: l.name)
    let out = try l.outputShape(for: x[0].kerasShape)
    return ONNXValue(name: y, kerasShape: out, channelsFirst: true)
}

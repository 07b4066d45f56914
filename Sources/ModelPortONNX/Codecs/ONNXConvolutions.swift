import ModelPortRuntime

/// Convolutions: Keras `Conv2D`, `DepthwiseConv2D` (a grouped `Conv`),
/// `SeparableConv2D` (a depthwise then a 1x1 `Conv`) and `Conv2DTranspose`
/// <-> ONNX `Conv` and `ConvTranspose`, and (ONNX-only) 3-D `Conv` <->
/// `WindowConvolution`, other `ConvTranspose`s <-> `WindowConvTranspose`. Kernels change layout through `ONNXWeightLayouts`.
extension ONNXFamily {
    static let convolutions = ONNXFamily(
        "convolutions",
        imports: [
            ONNXOpImport("Conv", minimumInputs: 2, importConv),
            ONNXOpImport("ConvTranspose", minimumInputs: 2, importConvTranspose),
        ],
        exports: [
            .layer(Conv2D.self, ["Conv2D"], exportConv2D),
            .layer(DepthwiseConv2D.self, ["DepthwiseConv2D"], exportDepthwiseConv2D),
            .layer(GroupedConv2D.self, [], exportGroupedConv2D),
            .layer(SeparableConv2D.self, ["SeparableConv2D"], exportSeparableConv2D),
            .layer(Conv2DTranspose.self, ["Conv2DTranspose"], exportConv2DTranspose),
            .layer(WindowConvolution.self, ["WindowConvolution"], exportWindowConvolution),
            .layer(WindowConvTranspose.self, ["WindowConvTranspose"], exportWindowConvTranspose),
        ])
}

// MARK: - Import

private func importConv(_ n: ONNXNodeProto, _ i: Int, _ c: ONNXImportContext) throws {
    var a = Attributes(n, c)
    let x = try c.value(n.inputs[0])
    if x.onnxShape.count == 2 { return try importAs2D(n, i, c, importConv) }
    if x.onnxShape.count == 4 { return try importWindowConv(n, x, c) }
    guard x.onnxShape.count == 3 else { throw c.error("only 1-D, 2-D and 3-D convolutions are supported, input has shape \([-1] + x.onnxShape)") }
    let w = try c.constant(n.inputs[1])
    guard w.shape.count == 4 else { throw c.error("kernel of shape \(w.shape) is not (out, in, kh, kw)") }
    let (o, ig, kh, kw) = (w.shape[0], w.shape[1], w.shape[2], w.shape[3])
    let kernelShape = try a.ints("kernel_shape", [kh, kw])!
    guard kernelShape == [kh, kw] else { throw c.error("kernel_shape \(kernelShape) does not match the weight's \([kh, kw])") }
    let strides = try a.ints("strides", [1, 1])!, dilations = try a.ints("dilations", [1, 1])!
    guard strides.count == 2, dilations.count == 2, (strides + dilations).allSatisfy({ $0 >= 1 }) else {
        throw c.error("strides \(strides) / dilations \(dilations) must be two positive values")
    }
    try c.checkWindow(strides, "strides", range: 1...ONNXImportContext.maxWindowValue)
    try c.checkWindow(dilations, "dilations", range: 1...ONNXImportContext.maxWindowValue)
    try c.checkWindow([kh, kw], "kernel size", range: 1...ONNXImportContext.maxWindowValue)
    let group = try a.int("group", 1)
    let (cin, h, wd) = (x.onnxShape[0], x.onnxShape[1], x.onnxShape[2])
    let (padding, pads) = try windowPadding(&a, kernel: (kh, kw), strides: (strides[0], strides[1]), dilation: (dilations[0], dilations[1]),
                                            height: h, width: wd, c: c)
    try a.finish()
    var bias: [Float]? = nil
    if n.inputs.count > 2, !n.inputs[2].isEmpty {
        let b = try c.constant(n.inputs[2])
        guard b.values.count == o else { throw c.error("bias has \(b.values.count) values for \(o) filters") }
        bias = b.values.map { Float($0) }
    }
    let (foldedBias, outputName) = foldBias(bias, after: n, channels: o, image: true, c)
    bias = foldedBias
    var input = try c.channelsLast(x)
    if pads != [0, 0, 0, 0] {
        input = ImportedValue(node: try c.add(Padding2D(name: c.layerName("ZeroPadding2D"), kind: .zeroPad, top: pads[0], bottom: pads[2],
                                                        left: pads[1], right: pads[3]), [input]),
                              onnxShape: [cin, h + pads[0] + pads[2], wd + pads[1] + pads[3]], perm: [1, 2, 0])
    }
    try c.reserve(w.shape, for: "the Conv kernel")
    let kernel = Tensor(shape: w.shape, scalars: w.values.map { Float($0) })
    let layer: any Layer
    if group == 1 {
        guard ig == cin else { throw c.error("kernel expects \(ig) input channels, the input has \(cin)") }
        let conv = Conv2D(name: c.layerName("Conv2D"), inputChannels: cin, filters: o, kernelSize: (kh, kw), strides: (strides[0], strides[1]),
                          dilation: (dilations[0], dilations[1]), padding: padding, useBias: bias != nil)
        conv.kernel.value = kerasConvKernel(fromONNX: kernel)
        if let bias { conv.bias!.value = Tensor(shape: [o], scalars: bias) }
        layer = conv
    } else if group == cin, ig == 1, o % cin == 0 {
        let dm = o / cin
        let conv = DepthwiseConv2D(name: c.layerName("DepthwiseConv2D"), inputChannels: cin, depthMultiplier: dm, kernelSize: (kh, kw),
                                   strides: (strides[0], strides[1]), dilation: (dilations[0], dilations[1]), padding: padding, useBias: bias != nil)
        conv.kernel.value = kerasDepthwiseKernel(fromONNX: kernel, inputChannels: cin)
        if let bias { conv.bias!.value = Tensor(shape: [o], scalars: bias) }
        layer = conv
    } else if group > 1, cin % group == 0, o % group == 0, ig == cin / group {
        let conv = GroupedConv2D(name: c.layerName("Conv2D"), inputChannels: cin, filters: o, groups: group, kernelSize: (kh, kw),
                                 strides: (strides[0], strides[1]), dilation: (dilations[0], dilations[1]), padding: padding, useBias: bias != nil)
        conv.kernel.value = kerasConvKernel(fromONNX: kernel)
        if let bias { conv.bias!.value = Tensor(shape: [o], scalars: bias) }
        layer = conv
    } else {
        throw c.error("grouped convolution with group=\(group), \(cin) input channels, \(o) filters and a kernel for \(ig) input channels is not consistent")
    }
    let node = try c.add(layer, [input])
    c.values[outputName] = c.imageValue(ofNode: node)
}

private func importConvTranspose(_ n: ONNXNodeProto, _ i: Int, _ c: ONNXImportContext) throws {
    var a = Attributes(n, c)
    let x = try c.value(n.inputs[0])
    if x.onnxShape.count == 2 { return try importAs2D(n, i, c, importConvTranspose) }
    if !keras2DTransposedConvolution(n, x, c) { return try importWindowConvTranspose(n, x, c) }
    let w = try c.constant(n.inputs[1])
    guard x.onnxShape.count == 3, w.shape.count == 4, w.shape[0] == x.onnxShape[0] else {
        throw c.error("only 2-D transposed convolutions of (N, C, H, W) with a (in, out, kh, kw) kernel are supported")
    }
    let (cin, f, kh, kw) = (w.shape[0], w.shape[1], w.shape[2], w.shape[3])
    _ = try a.ints("kernel_shape", nil)
    let strides = try a.ints("strides", [1, 1])!
    guard try a.ints("dilations", [1, 1]) == [1, 1], try a.int("group", 1) == 1 else { throw c.error("dilations and groups are not supported for ConvTranspose") }
    let pads = try a.ints("pads", [0, 0, 0, 0])!, outputPadding = try a.ints("output_padding", [0, 0])!
    guard try a.string("auto_pad", "NOTSET") == "NOTSET", try a.ints("output_shape", nil) == nil else { throw c.error("auto_pad/output_shape are not supported for ConvTranspose") }
    try a.finish()
    guard strides.count == 2, pads.count == 4, outputPadding.count == 2 else {
        throw c.error("strides \(strides), pads \(pads) and output_padding \(outputPadding) must have 2, 4 and 2 values")
    }
    try c.checkWindow(strides, "strides", range: 1...ONNXImportContext.maxWindowValue)
    try c.checkWindow(pads + outputPadding, "pads and output_padding")
    try c.checkWindow([kh, kw], "kernel size", range: 1...ONNXImportContext.maxWindowValue)
    var same = true
    for (k, (kernel, stride)) in [(kh, strides[0]), (kw, strides[1])].enumerated() {
        let total = max(kernel - stride, 0)
        same = same && pads[k] == total / 2 && pads[k + 2] == total - total / 2 && outputPadding[k] == stride - kernel + total
    }
    let valid = pads == [0, 0, 0, 0] && outputPadding == [0, 0]
    // Other pads: the 'valid' output ((in - 1) * stride + kernel) cropped by the pads, less
    // output_padding at the end (PyTorch's padding=1, output_padding=1).
    let crop = same || valid ? nil : [pads[0], pads[2] - outputPadding[0], pads[1], pads[3] - outputPadding[1]]
    if let crop, crop.contains(where: { $0 < 0 }) {
        throw c.error("pads \(pads) with output_padding \(outputPadding) match neither Keras 'valid' nor 'same', nor a 'valid' output cropped (output_padding larger than the end pads)")
    }
    var bias: [Float]? = nil
    if n.inputs.count > 2, !n.inputs[2].isEmpty {
        let b = try c.constant(n.inputs[2])
        guard b.values.count == f else { throw c.error("bias has \(b.values.count) values for \(f) filters") }
        bias = b.values.map { Float($0) }
    }
    try c.reserve(w.shape, for: "the ConvTranspose kernel")
    let layer = Conv2DTranspose(name: c.layerName("Conv2DTranspose"), inputChannels: cin, filters: f, kernelSize: (kh, kw),
                                strides: (strides[0], strides[1]), padding: same && !valid ? .same : .valid, useBias: bias != nil)
    layer.kernel.value = kerasTransposedKernel(fromONNX: Tensor(shape: w.shape, scalars: w.values.map { Float($0) }))
    if let bias { layer.bias!.value = Tensor(shape: [f], scalars: bias) }
    var node = try c.add(layer, [try c.channelsLast(x)])
    if let crop, crop != [0, 0, 0, 0] {
        node = try c.add(Padding2D(name: c.layerName("Cropping2D"), kind: .crop, top: crop[0], bottom: crop[1], left: crop[2], right: crop[3]),
                         [c.imageValue(ofNode: node)])
    }
    c.output(n, c.imageValue(ofNode: node))
}

/// Whether a ConvTranspose is Keras's `Conv2DTranspose` ("valid" or "same",
/// or "valid" then cropped): 2-D, no groups, dilations, auto_pad or
/// output_shape, output_padding within the end pads. Anything else (or an
/// attribute of the wrong kind, which the importers then refuse by name) is
/// `WindowConvTranspose`'s.
private func keras2DTransposedConvolution(_ n: ONNXNodeProto, _ x: ImportedValue, _ c: ONNXImportContext) -> Bool {
    func ints(_ name: String) -> [Int]? { if case .ints(let v)? = n.attribute(name) { return v.map { Int($0) } }; return nil }
    func int(_ name: String) -> Int? { if case .int(let v)? = n.attribute(name) { return Int(v) }; return nil }
    guard x.onnxShape.count == 3, (int("group") ?? 1) == 1, (ints("dilations") ?? [1, 1]) == [1, 1], n.attribute("output_shape") == nil else { return false }
    if case .string(let autoPad)? = n.attribute("auto_pad"), autoPad != "NOTSET" { return false }
    let pads = ints("pads") ?? [0, 0, 0, 0], outputPadding = ints("output_padding") ?? [0, 0]
    guard pads.count == 4, outputPadding.count == 2 else { return true }
    return outputPadding[0] <= pads[2] && outputPadding[1] <= pads[3] || isKerasSame(n, pads: pads, outputPadding: outputPadding, c)
}

/// Keras "same" for a ConvTranspose: the pads and output_padding TensorFlow's rule gives.
private func isKerasSame(_ n: ONNXNodeProto, pads: [Int], outputPadding: [Int], _ c: ONNXImportContext) -> Bool {
    guard let w = c.constants[n.inputs[1]], w.shape.count == 4 else { return false }
    var strides = [1, 1]
    if case .ints(let v)? = n.attribute("strides"), v.count == 2 { strides = v.map { Int($0) } }
    return (0..<2).allSatisfy { k in
        let kernel = w.shape[k + 2], stride = strides[k], total = max(kernel - stride, 0)
        return pads[k] == total / 2 && pads[k + 2] == total - total / 2 && outputPadding[k] == stride - kernel + total
    }
}

/// ConvTranspose as ONNX defines it (`WindowConvTranspose`): groups,
/// dilations, any pads and output_padding, output_shape, auto_pad, 1 to 3
/// spatial axes. Output size and begin pads follow onnx's reference
/// implementation: explicit pads (default 0) give
/// `stride * (in - 1) + output_padding + (k - 1) * dilation + 1 - pads`,
/// unless output_shape names it; SAME_UPPER / SAME_LOWER take output_shape
/// (default in * stride) and split the total padding, the odd one after / before.
private func importWindowConvTranspose(_ n: ONNXNodeProto, _ x: ImportedValue, _ c: ONNXImportContext) throws {
    var a = Attributes(n, c)
    let k = x.onnxShape.count - 1, cin = x.onnxShape[0]
    guard k >= 1 else { throw c.error("ConvTranspose needs an input (N, C, spatial...)") }
    let w = try c.constant(n.inputs[1])
    guard w.shape.count == k + 2, w.shape[0] == cin else { throw c.error("kernel of shape \(w.shape) is not (\(cin) inputs, out / group, \(k) kernel sizes)") }
    let kernelSize = Array(w.shape[2...])
    guard try a.ints("kernel_shape", kernelSize)! == kernelSize else { throw c.error("kernel_shape does not match the weight's \(kernelSize)") }
    let strides = try a.ints("strides", nil) ?? .init(repeating: 1, count: k)
    let dilations = try a.ints("dilations", nil) ?? .init(repeating: 1, count: k)
    let outputPadding = try a.ints("output_padding", nil) ?? .init(repeating: 0, count: k)
    let group = try a.int("group", 1)
    let autoPad = try a.string("auto_pad", "NOTSET")
    var outputShape = try a.ints("output_shape", nil)
    let givenPads = try a.ints("pads", nil)
    try a.finish()
    guard strides.count == k, dilations.count == k, outputPadding.count == k else {
        throw c.error("strides \(strides), dilations \(dilations) and output_padding \(outputPadding) must hold \(k) values")
    }
    if let o = outputShape, o.count == k + 2 { outputShape = Array(o.suffix(k)) }
    guard outputShape == nil || outputShape!.count == k else { throw c.error("output_shape \(outputShape!) must hold \(k) values") }
    try c.checkWindow(kernelSize, "kernel size", range: 1...ONNXImportContext.maxWindowValue)
    try c.checkWindow(strides, "strides", range: 1...ONNXImportContext.maxWindowValue)
    try c.checkWindow(dilations, "dilations", range: 1...ONNXImportContext.maxWindowValue)
    try c.checkWindow(outputPadding, "output_padding")
    try c.checkWindow(outputShape ?? [], "output_shape", range: 1...ONNXImportContext.maxWindowValue)
    guard group >= 1, cin % group == 0 else { throw c.error("group \(group) does not divide the \(cin) input channels") }
    let filters = w.shape[1] * group
    var padsBegin: [Int] = [], size: [Int] = []
    func natural(_ d: Int) -> Int { strides[d] * (x.onnxShape[d + 1] - 1) + outputPadding[d] + (kernelSize[d] - 1) * dilations[d] + 1 }
    switch autoPad {
    case "NOTSET", "VALID":
        let pads = autoPad == "VALID" ? [Int](repeating: 0, count: 2 * k) : givenPads ?? .init(repeating: 0, count: 2 * k)
        guard pads.count == 2 * k else { throw c.error("pads \(pads) must hold \(2 * k) values") }
        try c.checkWindow(pads, "pads")
        padsBegin = Array(pads.prefix(k))
        size = outputShape ?? (0..<k).map { natural($0) - pads[$0] - pads[$0 + k] }
    case "SAME_UPPER", "SAME_LOWER":
        size = outputShape ?? (0..<k).map { x.onnxShape[$0 + 1] * strides[$0] }
        for d in 0..<k {
            let total = natural(d) - size[d]
            let half = Int((Double(total) / 2).rounded(.down))  // Python's floor division
            padsBegin.append(autoPad == "SAME_UPPER" ? half : total - half)
        }
    default: throw c.error("auto_pad '\(autoPad)' is not supported (NOTSET, VALID, SAME_UPPER, SAME_LOWER)")
    }
    guard size.allSatisfy({ $0 >= 1 }) else { throw c.error("ConvTranspose would produce an empty output of size \(size)") }
    var bias: [Float]? = nil
    if n.inputs.count > 2, !n.inputs[2].isEmpty {
        let b = try c.constant(n.inputs[2])
        guard b.values.count == filters else { throw c.error("bias has \(b.values.count) values for \(filters) filters") }
        bias = b.values.map { Float($0) }
    }
    try c.reserve(w.shape, for: "the ConvTranspose kernel")
    let layer = WindowConvTranspose(name: c.layerName("WindowConvTranspose"), inputChannels: cin, filters: filters, kernelSize: kernelSize,
                                    strides: strides, dilations: dilations, padsBegin: padsBegin, outputSize: size, groups: group,
                                    useBias: bias != nil)
    // ONNX (in, out / group, k...) -> (k..., out / group, in).
    layer.kernel.value = Tensor(shape: kernelSize + [w.shape[1], cin],
                                scalars: permuteAxes(w.values.map { Float($0) }, shape: w.shape, perm: Array(2..<(k + 2)) + [1, 0]))
    if let bias { layer.bias!.value = Tensor(shape: [filters], scalars: bias) }
    let node = try c.add(layer, [try c.channelsLast(x)])
    let out = c.shape(ofNode: node)
    c.output(n, ImportedValue(node: node, onnxShape: [out.last!] + out.dropLast(), perm: Array(1..<out.count) + [0]))
}

/// A 3-D `Conv` (N, C, D, H, W): ONNX's own definition, `WindowConvolution`.
private func importWindowConv(_ n: ONNXNodeProto, _ x: ImportedValue, _ c: ONNXImportContext) throws {
    var a = Attributes(n, c)
    let k = x.onnxShape.count - 1, cin = x.onnxShape[0]
    let w = try c.constant(n.inputs[1])
    guard w.shape.count == k + 2 else { throw c.error("kernel of shape \(w.shape) is not (out, in / group, \(k) kernel sizes)") }
    let filters = w.shape[0], kernelSize = Array(w.shape[2...])
    guard try a.ints("kernel_shape", kernelSize)! == kernelSize else { throw c.error("kernel_shape does not match the weight's \(kernelSize)") }
    let strides = try a.ints("strides", nil) ?? .init(repeating: 1, count: k)
    let dilations = try a.ints("dilations", nil) ?? .init(repeating: 1, count: k)
    let group = try a.int("group", 1)
    guard strides.count == k, dilations.count == k else { throw c.error("strides \(strides) and dilations \(dilations) must hold \(k) values") }
    try c.checkWindow(kernelSize, "kernel size", range: 1...ONNXImportContext.maxWindowValue)
    try c.checkWindow(strides, "strides", range: 1...ONNXImportContext.maxWindowValue)
    try c.checkWindow(dilations, "dilations", range: 1...ONNXImportContext.maxWindowValue)
    guard group >= 1, cin % group == 0, filters % group == 0, w.shape[1] * group == cin else {
        throw c.error("group \(group) does not fit \(cin) input channels, \(filters) filters and a kernel of shape \(w.shape)")
    }
    let autoPad = try a.string("auto_pad", "NOTSET")
    var pads = try a.ints("pads", nil) ?? .init(repeating: 0, count: 2 * k)
    switch autoPad {
    case "NOTSET": break
    case "VALID": pads = .init(repeating: 0, count: 2 * k)
    case "SAME_UPPER", "SAME_LOWER":
        for d in 0..<k {
            let size = x.onnxShape[d + 1], out = (size + strides[d] - 1) / strides[d]
            let total = max((out - 1) * strides[d] + (kernelSize[d] - 1) * dilations[d] + 1 - size, 0)
            (pads[d], pads[d + k]) = autoPad == "SAME_UPPER" ? (total / 2, total - total / 2) : (total - total / 2, total / 2)
        }
    default: throw c.error("auto_pad '\(autoPad)' is not supported (NOTSET, VALID, SAME_UPPER, SAME_LOWER)")
    }
    try a.finish()
    guard pads.count == 2 * k else { throw c.error("pads \(pads) must hold \(2 * k) values") }
    try c.checkWindow(pads, "pads")
    var bias: [Float]? = nil
    if n.inputs.count > 2, !n.inputs[2].isEmpty {
        let b = try c.constant(n.inputs[2])
        guard b.values.count == filters else { throw c.error("bias has \(b.values.count) values for \(filters) filters") }
        bias = b.values.map { Float($0) }
    }
    try c.reserve(w.shape, for: "the Conv kernel")
    let layer = WindowConvolution(name: c.layerName("WindowConvolution"), inputChannels: cin, filters: filters, kernelSize: kernelSize,
                                  strides: strides, dilations: dilations, padsBegin: Array(pads.prefix(k)), padsEnd: Array(pads.suffix(k)),
                                  groups: group, useBias: bias != nil)
    // ONNX (out, in / group, k...) -> (k..., in / group, out).
    layer.kernel.value = Tensor(shape: kernelSize + [w.shape[1], filters],
                                scalars: permuteAxes(w.values.map { Float($0) }, shape: w.shape, perm: Array(2..<(k + 2)) + [1, 0]))
    if let bias { layer.bias!.value = Tensor(shape: [filters], scalars: bias) }
    let node = try c.add(layer, [try c.channelsLast(x)])
    let out = c.shape(ofNode: node)
    c.output(n, ImportedValue(node: node, onnxShape: [out.last!] + out.dropLast(), perm: Array(1..<out.count) + [0]))
}

// MARK: - Export

/// Keras's grouped kernel (kh, kw, in / groups, filters) is ONNX's grouped weight (filters, in / groups, kh, kw).
private func exportGroupedConv2D(_ l: GroupedConv2D, _ x: [ONNXValue], _ c: ONNXExportContext) throws -> ONNXValue {
    let input = try imageInput(l, x[0], c)
    let s = input.kerasShape
    let g = try WindowGeometry(inHeight: s[0], inWidth: s[1], kernel: l.kernelSize, strides: l.strides, dilation: l.dilation, padding: l.padding)
    let k = onnxConvKernel(fromKeras: l.kernel.value)
    var inputs = [input.name, c.constant(l.name + "_kernel", shape: k.shape, k.scalars)]
    if let b = l.bias { inputs.append(c.constant(l.name + "_bias", shape: [l.filters], b.value.scalars)) }
    let y = c.node("Conv", inputs, [ints("kernel_shape", [l.kernelSize.height, l.kernelSize.width]),
                                   ints("strides", [l.strides.y, l.strides.x]), ints("dilations", [l.dilation.y, l.dilation.x]),
                                   ints("pads", windowPads(g)), ONNXAttribute("group", .int(Int64(l.groups)))], name: l.name)
    return try exportActivation(l.activation, ONNXValue(name: y, kerasShape: [g.outHeight, g.outWidth, l.filters], channelsFirst: true), c, name: l.name)
}

private func exportConv2D(_ l: Conv2D, _ x: [ONNXValue], _ c: ONNXExportContext) throws -> ONNXValue {
    let input = try imageInput(l, x[0], c)
    let s = input.kerasShape
    let g = try WindowGeometry(inHeight: s[0], inWidth: s[1], kernel: l.kernelSize, strides: l.strides, dilation: l.dilation, padding: l.padding)
    let k = onnxConvKernel(fromKeras: l.kernel.value)
    let w = c.constant(l.name + "_kernel", shape: k.shape, k.scalars)
    var inputs = [input.name, w]
    if let b = l.bias { inputs.append(c.constant(l.name + "_bias", shape: [l.filters], b.value.scalars)) }
    let y = c.node("Conv", inputs, [ints("kernel_shape", [l.kernelSize.height, l.kernelSize.width]),
                                   ints("strides", [l.strides.y, l.strides.x]), ints("dilations", [l.dilation.y, l.dilation.x]),
                                   ints("pads", windowPads(g)), ONNXAttribute("group", .int(1))], name: l.name)
    return try exportActivation(l.activation, ONNXValue(name: y, kerasShape: [g.outHeight, g.outWidth, l.filters], channelsFirst: true), c, name: l.name)
}

private func exportDepthwiseConv2D(_ l: DepthwiseConv2D, _ x: [ONNXValue], _ c: ONNXExportContext) throws -> ONNXValue {
    let input = try imageInput(l, x[0], c)
    let s = input.kerasShape
    let g = try WindowGeometry(inHeight: s[0], inWidth: s[1], kernel: l.kernelSize, strides: l.strides, dilation: l.dilation, padding: l.padding)
    let k = onnxDepthwiseKernel(fromKeras: l.depthwiseKernel)
    var inputs = [input.name, c.constant(l.name + "_kernel", shape: k.shape, k.scalars)]
    if let b = l.bias { inputs.append(c.constant(l.name + "_bias", shape: [k.shape[0]], b.value.scalars)) }
    let y = c.node("Conv", inputs, [ints("kernel_shape", [l.kernelSize.height, l.kernelSize.width]),
                                   ints("strides", [l.strides.y, l.strides.x]), ints("dilations", [l.dilation.y, l.dilation.x]),
                                   ints("pads", windowPads(g)), ONNXAttribute("group", .int(Int64(l.inputChannels)))], name: l.name)
    return try exportActivation(l.activation, ONNXValue(name: y, kerasShape: [g.outHeight, g.outWidth, k.shape[0]], channelsFirst: true), c, name: l.name)
}

private func exportSeparableConv2D(_ l: SeparableConv2D, _ x: [ONNXValue], _ c: ONNXExportContext) throws -> ONNXValue {
    let input = try imageInput(l, x[0], c)
    let s = input.kerasShape
    let g = try WindowGeometry(inHeight: s[0], inWidth: s[1], kernel: l.kernelSize, strides: l.strides, dilation: l.dilation, padding: l.padding)
    let d = onnxDepthwiseKernel(fromKeras: l.depthwiseKernel.value)
    let depthwise = c.node("Conv", [input.name, c.constant(l.name + "_depthwise_kernel", shape: d.shape, d.scalars)],
                           [ints("kernel_shape", [l.kernelSize.height, l.kernelSize.width]),
                            ints("strides", [l.strides.y, l.strides.x]), ints("dilations", [l.dilation.y, l.dilation.x]),
                            ints("pads", windowPads(g)), ONNXAttribute("group", .int(Int64(l.inputChannels)))], name: l.name + "_depthwise")
    let p = onnxConvKernel(fromKeras: l.pointwiseKernel.value)
    var inputs = [depthwise, c.constant(l.name + "_pointwise_kernel", shape: p.shape, p.scalars)]
    if let b = l.bias { inputs.append(c.constant(l.name + "_bias", shape: [l.filters], b.value.scalars)) }
    let y = c.node("Conv", inputs, [ints("kernel_shape", [1, 1]), ints("strides", [1, 1]), ints("pads", [0, 0, 0, 0]),
                                   ONNXAttribute("group", .int(1))], name: l.name + "_pointwise")
    return try exportActivation(l.activation, ONNXValue(name: y, kerasShape: [g.outHeight, g.outWidth, l.filters], channelsFirst: true), c, name: l.name)
}

private func exportConv2DTranspose(_ l: Conv2DTranspose, _ x: [ONNXValue], _ c: ONNXExportContext) throws -> ONNXValue {
    let input = try imageInput(l, x[0], c)
    let out = try l.outputShape(for: input.kerasShape)
    let k = onnxTransposedKernel(fromKeras: l.kernel.value)
    var inputs = [input.name, c.constant(l.name + "_kernel", shape: k.shape, k.scalars)]
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

private func exportWindowConvolution(_ l: WindowConvolution, _ x: [ONNXValue], _ c: ONNXExportContext) throws -> ONNXValue {
    let k = l.kernelSize.count
    guard x[0].kerasShape.count == k + 1 else { throw c.error(l, "expects \(k) spatial axes and channels, got \(x[0].kerasShape)") }
    let input = c.channelsFirst(x[0])
    // (k..., in / group, out) -> ONNX (out, in / group, k...).
    let shape = l.kernel.shape
    let w = c.constant(l.name + "_kernel", shape: [l.filters, shape[k]] + l.kernelSize,
                       permuteAxes(l.kernel.value.scalars, shape: shape, perm: [k + 1, k] + Array(0..<k)))
    var inputs = [input.name, w]
    if let bias = l.bias { inputs.append(c.constant(l.name + "_bias", shape: [l.filters], bias.value.scalars)) }
    let y = c.node("Conv", inputs, [ints("kernel_shape", l.kernelSize), ints("strides", l.strides), ints("dilations", l.dilations),
                                    ints("pads", l.padsBegin + l.padsEnd), ONNXAttribute("group", .int(Int64(l.groups)))], name: l.name)
    return ONNXValue(name: y, kerasShape: try l.outputShape(for: x[0].kerasShape), channelsFirst: true)
}

/// Explicit begin pads and output_shape: the output size whatever the end pads.
private func exportWindowConvTranspose(_ l: WindowConvTranspose, _ x: [ONNXValue], _ c: ONNXExportContext) throws -> ONNXValue {
    let k = l.kernelSize.count
    guard x[0].kerasShape.count == k + 1 else { throw c.error(l, "expects \(k) spatial axes and channels, got \(x[0].kerasShape)") }
    guard l.padsBegin.allSatisfy({ $0 >= 0 }) else { throw c.error(l, "negative begin pads \(l.padsBegin) have no ONNX spelling") }
    let input = c.channelsFirst(x[0])
    // (k..., out / group, in) -> ONNX (in, out / group, k...).
    let shape = l.kernel.shape
    let w = c.constant(l.name + "_kernel", shape: [l.inputChannels, shape[k]] + l.kernelSize,
                       permuteAxes(l.kernel.value.scalars, shape: shape, perm: [k + 1, k] + Array(0..<k)))
    var inputs = [input.name, w]
    if let bias = l.bias { inputs.append(c.constant(l.name + "_bias", shape: [l.filters], bias.value.scalars)) }
    // End pads from the output size: natural size - begin - end = output size, output_padding taking what is negative.
    var ends: [Int] = [], outputPadding: [Int] = []
    for d in 0..<k {
        let natural = l.strides[d] * (x[0].kerasShape[d] - 1) + (l.kernelSize[d] - 1) * l.dilations[d] + 1
        let end = natural - l.padsBegin[d] - l.outputSize[d]
        ends.append(max(end, 0))
        outputPadding.append(max(-end, 0))
    }
    guard (0..<k).allSatisfy({ outputPadding[$0] < max(l.strides[$0], l.dilations[$0]) }) else {
        throw c.error(l, "output size \(l.outputSize) needs output_padding \(outputPadding), not less than the strides or dilations as ONNX requires")
    }
    let y = c.node("ConvTranspose", inputs, [ints("kernel_shape", l.kernelSize), ints("strides", l.strides), ints("dilations", l.dilations),
                                             ints("pads", l.padsBegin + ends), ints("output_padding", outputPadding),
                                             ONNXAttribute("group", .int(Int64(l.groups)))], name: l.name)
    return ONNXValue(name: y, kerasShape: l.outputSize + [l.filters], channelsFirst: true)
}

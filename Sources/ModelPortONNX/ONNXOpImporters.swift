import ModelPortRuntime

/// Turns one ONNX node into runtime layers (or constants), registering its outputs.
typealias ONNXOpImporter = @Sendable (_ node: ONNXNodeProto, _ index: Int, _ c: ONNXImportContext) throws -> Void

/// The table from ONNX operator to importer: the one place that says which
/// ONNX operators ModelPort reads.
enum ONNXOpImporters {
    static let table: [String: ONNXOpImporter] = [
        "Constant": importConstant,
        "Identity": alias, "Dropout": alias,
        "Shape": importShape, "Gather": importGather, "Cast": importCast, "Slice": importSlice,
        "Concat": importConcat, "Unsqueeze": importUnsqueeze, "Squeeze": importSqueeze,
        "Conv": importConv, "ConvTranspose": importConvTranspose,
        "Gemm": importGemm, "MatMul": importMatMul,
        "MaxPool": importPool, "AveragePool": importPool,
        "GlobalAveragePool": importGlobalPool, "GlobalMaxPool": importGlobalPool,
        "BatchNormalization": importBatchNormalization, "LayerNormalization": importLayerNormalization,
        "Flatten": importFlatten, "Reshape": importReshape, "Transpose": importTranspose,
        "Add": importArithmetic, "Sub": importArithmetic, "Mul": importArithmetic, "Div": importArithmetic, "Pow": importArithmetic,
        "Sum": importVariadic, "Mean": importVariadic, "Max": importVariadic, "Min": importVariadic,
        "Relu": importActivation, "Sigmoid": importActivation, "Tanh": importActivation, "Softplus": importActivation,
        "Softsign": importActivation, "Selu": importActivation, "Exp": importActivation, "HardSwish": importActivation,
        "HardSigmoid": importActivation, "Gelu": importActivation, "Clip": importClip,
        "Softmax": importSoftmax, "LogSoftmax": importSoftmax,
        "LeakyRelu": importLeakyRelu, "Elu": importElu, "PRelu": importPRelu,
        "Erf": importUnary, "Sqrt": importUnary, "Reciprocal": importUnary, "Neg": importUnary, "Abs": importUnary,
        "Log": importUnary, "Floor": importUnary, "Ceil": importUnary,
        "Pad": importPad, "Resize": importResize,
        "GreaterOrEqual": importGreaterOrEqual, "Where": importWhere, "Tile": importTile, "ReduceMean": importReduceMean,
    ]

    static var supportedOps: [String] { table.keys.sorted() }

    /// Inputs each operator needs at least (from the ONNX operator schemas),
    /// where that is not one; importers index inputs up to this count.
    static let minimumInputs: [String: Int] = [
        "Constant": 0,
        "Gather": 2, "Slice": 3, "Conv": 2, "ConvTranspose": 2, "Gemm": 2, "MatMul": 2,
        "BatchNormalization": 5, "LayerNormalization": 2, "Reshape": 2,
        "Add": 2, "Sub": 2, "Mul": 2, "Div": 2, "Pow": 2, "PRelu": 2, "Pad": 2,
        "GreaterOrEqual": 2, "Where": 3, "Tile": 2,
    ]
}

/// A node's attributes, read by name; `finish()` rejects any attribute no
/// getter asked for, so an unknown attribute is an error naming it.
struct Attributes {
    let node: ONNXNodeProto
    let c: ONNXImportContext
    private var understood: Set<String> = []

    init(_ node: ONNXNodeProto, _ c: ONNXImportContext, ignoring: [String] = []) {
        self.node = node
        self.c = c
        understood = Set(ignoring)
    }

    mutating func int(_ name: String, _ fallback: Int) throws -> Int {
        understood.insert(name)
        guard let v = node.attribute(name) else { return fallback }
        guard case .int(let i) = v else { throw c.error("attribute '\(name)' should be an integer") }
        return Int(i)
    }

    mutating func float(_ name: String, _ fallback: Float) throws -> Float {
        understood.insert(name)
        guard let v = node.attribute(name) else { return fallback }
        guard case .float(let f) = v else { throw c.error("attribute '\(name)' should be a float") }
        return f
    }

    mutating func ints(_ name: String, _ fallback: [Int]?) throws -> [Int]? {
        understood.insert(name)
        guard let v = node.attribute(name) else { return fallback }
        guard case .ints(let a) = v else { throw c.error("attribute '\(name)' should be a list of integers") }
        return a.map { Int($0) }
    }

    mutating func string(_ name: String, _ fallback: String) throws -> String {
        understood.insert(name)
        guard let v = node.attribute(name) else { return fallback }
        guard case .string(let s) = v else { throw c.error("attribute '\(name)' should be a string") }
        return s
    }

    /// Requires the attribute to be absent or equal to `allowed`.
    mutating func require(_ name: String, int allowed: Int) throws {
        let v = try int(name, allowed)
        guard v == allowed else { throw c.error("attribute '\(name)' = \(v) is not supported (only \(allowed))") }
    }

    func finish() throws {
        for a in node.attributes where !understood.contains(a.name) {
            throw c.error("attribute '\(a.name)' is not supported by ModelPort's importer")
        }
    }
}

// MARK: - Helpers

private func output(_ n: ONNXNodeProto, _ c: ONNXImportContext, _ v: ImportedValue) { c.values[n.outputs[0]] = v }

private func activation(_ a: Activation, _ x: ImportedValue, _ c: ONNXImportContext) throws -> ImportedValue {
    let node = try c.add(ActivationLayer(name: c.layerName("Activation"), activation: a), [x])
    return ImportedValue(node: node, onnxShape: x.onnxShape, perm: x.perm)
}

/// The one consumer of `name` when it is an `Add` of a constant broadcastable
/// as a per-channel bias of `shape` (`[n]` or `[1, n]` for rows, `[n, 1, 1]` /
/// `[1, n, 1, 1]` for images), to fold into the layer before it.
private func fusableBias(after name: String, channels: Int, image: Bool, _ c: ONNXImportContext) -> (index: Int, bias: [Float])? {
    guard let users = c.consumers[name], users.count == 1, !c.graph.outputs.contains(where: { $0.name == name }) else { return nil }
    let node = c.graph.nodes[users[0]]
    guard node.opType == "Add", node.inputs.count == 2, node.attributes.isEmpty else { return nil }
    let other = node.inputs[0] == name ? node.inputs[1] : node.inputs[0]
    guard let constant = c.constants[other], constant.values.count == channels else { return nil }
    let allowed: [[Int]] = image ? [[channels, 1, 1], [1, channels, 1, 1]] : [[channels], [1, channels]]
    guard allowed.contains(constant.shape) else { return nil }
    return (users[0], constant.values.map { Float($0) })
}

/// Resolves ONNX window padding to Keras's "valid"/"same" (TensorFlow's
/// "same" pads the odd extra row after, which is ONNX SAME_UPPER), or to
/// explicit zero padding for Conv.
private func windowPadding(_ a: inout Attributes, kernel: (Int, Int), strides: (Int, Int), dilation: (Int, Int),
                           height: Int, width: Int, c: ONNXImportContext) throws -> (WindowGeometry.Padding, [Int]) {
    let autoPad = try a.string("auto_pad", "NOTSET")
    switch autoPad {
    case "VALID": return (.valid, [0, 0, 0, 0])
    case "SAME_UPPER": return (.same, [0, 0, 0, 0])
    case "NOTSET": break
    default: throw c.error("auto_pad '\(autoPad)' is not supported (supported: NOTSET, VALID, SAME_UPPER)")
    }
    let pads = try a.ints("pads", [0, 0, 0, 0])!
    guard pads.count == 4, pads.allSatisfy({ $0 >= 0 }) else { throw c.error("pads \(pads) are not 4 non-negative values") }
    try c.checkWindow(pads, "pads")
    if pads == [0, 0, 0, 0] { return (.valid, pads) }
    let g = try WindowGeometry(inHeight: height, inWidth: width, kernel: kernel, strides: strides, dilation: dilation, padding: .same)
    let effH = (kernel.0 - 1) * dilation.0 + 1, effW = (kernel.1 - 1) * dilation.1 + 1
    let totalH = max((g.outHeight - 1) * strides.0 + effH - height, 0), totalW = max((g.outWidth - 1) * strides.1 + effW - width, 0)
    if pads == [g.padTop, g.padLeft, totalH - g.padTop, totalW - g.padLeft] { return (.same, [0, 0, 0, 0]) }
    return (.valid, pads)
}

// MARK: - Constants and shape arithmetic

private func importConstant(_ n: ONNXNodeProto, _ i: Int, _ c: ONNXImportContext) throws {
    guard let attribute = n.attributes.first, n.attributes.count == 1 else { throw c.error("a Constant node needs exactly one value attribute") }
    switch (attribute.name, attribute.value) {
    case ("value", .tensor(let t)): c.constants[n.outputs[0]] = try c.decode(t)
    case ("value_float", .float(let f)): c.constants[n.outputs[0]] = ConstantTensor(shape: [], values: [Double(f)])
    case ("value_floats", .floats(let f)): c.constants[n.outputs[0]] = ConstantTensor(shape: [f.count], values: f.map { Double($0) })
    case ("value_int", .int(let k)): c.constants[n.outputs[0]] = ConstantTensor(shape: [], values: [Double(k)])
    case ("value_ints", .ints(let k)): c.constants[n.outputs[0]] = ConstantTensor(shape: [k.count], values: k.map { Double($0) })
    default: throw c.error("Constant attribute '\(attribute.name)' is not supported")
    }
}

private func alias(_ n: ONNXNodeProto, _ i: Int, _ c: ONNXImportContext) throws {
    var a = Attributes(n, c, ignoring: ["seed"])
    try a.finish()
    if n.opType == "Dropout", n.outputs.count > 1, c.consumers[n.outputs[1]] != nil {
        throw c.error("the Dropout mask output is used, which ModelPort does not compute")
    }
    // Input 3, training_mode: when true, Dropout drops values at random
    // instead of passing them through; only a constant false is the identity.
    if n.opType == "Dropout", n.inputs.count > 2, !n.inputs[2].isEmpty {
        let name = n.inputs[2]
        guard let mode = c.constants[name] else {
            throw c.error("training_mode input '\(name)' is not a constant, so ModelPort cannot tell that Dropout runs in inference mode")
        }
        guard mode.values.allSatisfy({ $0 == 0 }) else {
            throw c.error("training_mode is true: Dropout would drop values at random, which ModelPort does not run (export the model for inference)")
        }
    }
    let input = n.inputs[0]
    if let v = c.values[input] { c.values[n.outputs[0]] = v }
    else if let m = c.masks[input] { c.masks[n.outputs[0]] = m }
    else if let k = c.constants[input] { c.constants[n.outputs[0]] = k }
    else if let s = c.symbolic[input] { c.symbolic[n.outputs[0]] = s }
    else { _ = try c.value(input) }
}

private func importShape(_ n: ONNXNodeProto, _ i: Int, _ c: ONNXImportContext) throws {
    var a = Attributes(n, c)
    let v = try c.value(n.inputs[0])
    var dims: [SymbolicInt] = [.batch] + v.onnxShape.map { .known(Int64($0)) }
    let start = try a.int("start", 0), end = try a.int("end", dims.count)
    try a.finish()
    let r = dims.count
    let s = max(0, min(r, start < 0 ? start + r : start)), e = max(0, min(r, end < 0 ? end + r : end))
    dims = s < e ? Array(dims[s..<e]) : []
    c.symbolic[n.outputs[0]] = dims
}

private func importGather(_ n: ONNXNodeProto, _ i: Int, _ c: ONNXImportContext) throws {
    var a = Attributes(n, c)
    guard try a.int("axis", 0) == 0 else { throw c.error("Gather is only supported on axis 0 of a shape vector") }
    try a.finish()
    let data = try c.symbolicInts(n.inputs[0])
    let indices = try c.constant(n.inputs[1])
    var out: [SymbolicInt] = []
    for k in try indices.values.map({ Int(try c.integer($0, in: n.inputs[1])) }) {
        let j = k < 0 ? k + data.count : k
        guard j >= 0, j < data.count else { throw c.error("Gather index \(k) is outside 0..<\(data.count)") }
        out.append(data[j])
    }
    if indices.shape.isEmpty, let only = out.first, case .known(let v) = only {
        c.constants[n.outputs[0]] = ConstantTensor(shape: [], values: [Double(v)])
    } else {
        c.symbolic[n.outputs[0]] = out
    }
}

private func importCast(_ n: ONNXNodeProto, _ i: Int, _ c: ONNXImportContext) throws {
    var a = Attributes(n, c, ignoring: ["saturate"])
    let to = try a.int("to", 1)
    try a.finish()
    if c.isConstant(n.inputs[0]) {
        if let s = c.symbolic[n.inputs[0]] { c.symbolic[n.outputs[0]] = s } else { c.constants[n.outputs[0]] = c.constants[n.inputs[0]] }
        return
    }
    guard to == 1 else { throw c.error("Cast of a computed tensor to element type \(to) is not supported (ModelPort computes in float32)") }
    output(n, c, try c.value(n.inputs[0]))
}

private func importConcat(_ n: ONNXNodeProto, _ i: Int, _ c: ONNXImportContext) throws {
    var a = Attributes(n, c)
    let axis = try a.int("axis", 0)
    try a.finish()
    let inputs = n.inputs.filter { !$0.isEmpty }
    if inputs.allSatisfy({ c.isConstant($0) }) {
        let parts = try inputs.map { try c.symbolicInts($0) }
        c.symbolic[n.outputs[0]] = parts.flatMap { $0 }
        return
    }
    let values = try inputs.map { try c.value($0) }
    let first = values[0]
    guard values.allSatisfy({ $0.onnxShape.count == first.onnxShape.count }) else {
        throw c.error("Concat of tensors of different ranks \(values.map(\.onnxShape)) is not supported")
    }
    let rank = first.onnxShape.count + 1
    let onnxAxis = axis < 0 ? axis + rank : axis
    guard onnxAxis >= 1, onnxAxis < rank else { throw c.error("Concat on axis \(axis) (the batch axis or outside the rank) is not supported") }
    let aligned = try values.map { try c.materialize($0, first.perm) }
    let runtimeAxis = first.perm.firstIndex(of: onnxAxis - 1)!
    let node = try c.add(Merge(name: c.layerName("Concatenate"), operation: .concatenate, axis: runtimeAxis), aligned)
    var shape = first.onnxShape
    shape[onnxAxis - 1] = values.reduce(0) { $0 + $1.onnxShape[onnxAxis - 1] }
    output(n, c, ImportedValue(node: node, onnxShape: shape, perm: first.perm))
}

private func importSlice(_ n: ONNXNodeProto, _ i: Int, _ c: ONNXImportContext) throws {
    var a = Attributes(n, c)
    try a.finish()
    let starts = try c.ints(n.inputs[1]), ends = try c.ints(n.inputs[2])
    let axes = n.inputs.count > 3 && !n.inputs[3].isEmpty ? try c.ints(n.inputs[3]) : Array(0..<starts.count)
    let steps = n.inputs.count > 4 && !n.inputs[4].isEmpty ? try c.ints(n.inputs[4]) : [Int](repeating: 1, count: starts.count)
    guard ends.count == starts.count, axes.count == starts.count, steps.count == starts.count else {
        throw c.error("Slice starts \(starts), ends \(ends), axes \(axes) and steps \(steps) differ in length")
    }
    guard steps.allSatisfy({ $0 == 1 }) else { throw c.error("Slice with steps \(steps) is not supported (only 1)") }
    func clamp(_ k: Int, _ size: Int) -> Int { max(0, min(size, k < 0 ? k + size : k)) }
    if c.isConstant(n.inputs[0]) {
        let data = try c.symbolicInts(n.inputs[0])
        guard axes == [0] || axes == [-1] else { throw c.error("Slice of a constant is only supported on one axis of a vector") }
        let s = clamp(starts[0], data.count), e = clamp(ends[0], data.count)
        c.symbolic[n.outputs[0]] = s < e ? Array(data[s..<e]) : []
        return
    }
    // On an image (N, C, H, W): spatial cropping.
    let x = try c.value(n.inputs[0])
    guard x.onnxShape.count == 3 else { throw c.error("Slice of a computed tensor is only supported as spatial cropping of (N, C, H, W)") }
    var crop = [0, 0, 0, 0]  // top, bottom, left, right
    for (k, axis) in axes.enumerated() {
        let ax = axis < 0 ? axis + 4 : axis
        guard ax == 2 || ax == 3 else { throw c.error("Slice on axis \(axis) is not supported (only the spatial axes 2 and 3)") }
        let size = x.onnxShape[ax - 1]
        let s = clamp(starts[k], size), e = clamp(ends[k], size)
        crop[ax == 2 ? 0 : 2] = s
        crop[ax == 2 ? 1 : 3] = size - e
    }
    let input = try c.channelsLast(x)
    let node = try c.add(Padding2D(name: c.layerName("Cropping2D"), kind: .crop, top: crop[0], bottom: crop[1], left: crop[2], right: crop[3]), [input])
    let out = c.shape(ofNode: node)
    output(n, c, ImportedValue(node: node, onnxShape: [out[2], out[0], out[1]], perm: [1, 2, 0]))
}

private func importUnsqueeze(_ n: ONNXNodeProto, _ i: Int, _ c: ONNXImportContext) throws {
    var a = Attributes(n, c, ignoring: ["axes"])
    try a.finish()
    if !c.isConstant(n.inputs[0]) {
        // Inserting size-1 axes: a Reshape in ONNX order.
        let x = try c.identityLayout(try c.value(n.inputs[0]))
        guard n.inputs.count > 1 else { throw c.error("Unsqueeze needs its axes input (opset 13 and later)") }
        let rank = x.onnxShape.count + 1
        var axes = try c.ints(n.inputs[1]).map { $0 < 0 ? $0 + rank + 1 : $0 }.sorted()
        guard !axes.contains(0), Set(axes).count == axes.count, axes.allSatisfy({ $0 >= 1 && $0 <= rank + axes.count - 1 }) else {
            throw c.error("Unsqueeze on axes \(axes) (the batch axis, repeated or out of range) is not supported")
        }
        var shape = x.onnxShape
        for a in axes {
            guard a - 1 <= shape.count else { throw c.error("Unsqueeze axis \(a) is out of range") }
            shape.insert(1, at: a - 1)
        }
        axes.removeAll()
        let node = try c.add(Reshape(name: c.layerName("Reshape"), targetShape: shape), [x])
        output(n, c, ImportedValue(node: node, onnxShape: shape, perm: Array(0..<shape.count)))
        return
    }
    let data = try c.symbolicInts(n.inputs[0])
    guard data.count == 1 else { throw c.error("Unsqueeze is only supported on scalars (shape arithmetic)") }
    c.symbolic[n.outputs[0]] = data
}

private func importSqueeze(_ n: ONNXNodeProto, _ i: Int, _ c: ONNXImportContext) throws {
    var a = Attributes(n, c, ignoring: ["axes"])
    try a.finish()
    guard c.isConstant(n.inputs[0]) else { throw c.error("Squeeze of a computed tensor is not supported") }
    let data = try c.symbolicInts(n.inputs[0])
    guard data.count == 1 else { throw c.error("Squeeze is only supported on one-element vectors (shape arithmetic)") }
    if case .known(let k) = data[0] { c.constants[n.outputs[0]] = ConstantTensor(shape: [], values: [Double(k)]) }
    else { c.symbolic[n.outputs[0]] = data }
}

// MARK: - Convolution and dense

private func importConv(_ n: ONNXNodeProto, _ i: Int, _ c: ONNXImportContext) throws {
    var a = Attributes(n, c)
    let x = try c.value(n.inputs[0])
    guard x.onnxShape.count == 3 else { throw c.error("only 2-D convolutions of (N, C, H, W) are supported, input has shape \([-1] + x.onnxShape)") }
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
    var outputName = n.outputs[0]
    if bias == nil, let fused = fusableBias(after: n.outputs[0], channels: o, image: true, c) {
        bias = fused.bias
        c.skipped.insert(fused.index)
        outputName = c.graph.nodes[fused.index].outputs[0]
    }
    var input = try c.channelsLast(x)
    if pads != [0, 0, 0, 0] {
        input = ImportedValue(node: try c.add(Padding2D(name: c.layerName("ZeroPadding2D"), kind: .zeroPad, top: pads[0], bottom: pads[2],
                                                        left: pads[1], right: pads[3]), [input]),
                              onnxShape: [cin, h + pads[0] + pads[2], wd + pads[1] + pads[3]], perm: [1, 2, 0])
    }
    try c.reserve(w.shape, for: "the Conv kernel")
    let kernelValues = w.values.map { Float($0) }
    let layer: any Layer
    if group == 1 {
        guard ig == cin else { throw c.error("kernel expects \(ig) input channels, the input has \(cin)") }
        let conv = Conv2D(name: c.layerName("Conv2D"), inputChannels: cin, filters: o, kernelSize: (kh, kw), strides: (strides[0], strides[1]),
                          dilation: (dilations[0], dilations[1]), padding: padding, useBias: bias != nil)
        conv.kernel.value = Tensor(shape: [kh, kw, cin, o], scalars: permuteAxes(kernelValues, shape: w.shape, perm: [2, 3, 1, 0]))
        if let bias { conv.bias!.value = Tensor(shape: [o], scalars: bias) }
        layer = conv
    } else if group == cin, ig == 1, o % cin == 0 {
        let dm = o / cin
        let conv = DepthwiseConv2D(name: c.layerName("DepthwiseConv2D"), inputChannels: cin, depthMultiplier: dm, kernelSize: (kh, kw),
                                   strides: (strides[0], strides[1]), dilation: (dilations[0], dilations[1]), padding: padding, useBias: bias != nil)
        conv.kernel.value = Tensor(shape: [kh, kw, cin, dm], scalars: permuteAxes(kernelValues, shape: [cin, dm, kh, kw], perm: [2, 3, 0, 1]))
        if let bias { conv.bias!.value = Tensor(shape: [o], scalars: bias) }
        layer = conv
    } else {
        throw c.error("grouped convolution with group=\(group) is not supported (only 1, or depthwise: group = input channels)")
    }
    let node = try c.add(layer, [input])
    let out = c.shape(ofNode: node)
    c.values[outputName] = ImportedValue(node: node, onnxShape: [out[2], out[0], out[1]], perm: [1, 2, 0])
}

private func importConvTranspose(_ n: ONNXNodeProto, _ i: Int, _ c: ONNXImportContext) throws {
    var a = Attributes(n, c)
    let x = try c.value(n.inputs[0])
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
    guard same || valid else { throw c.error("pads \(pads) with output_padding \(outputPadding) match neither Keras 'valid' nor 'same'") }
    var bias: [Float]? = nil
    if n.inputs.count > 2, !n.inputs[2].isEmpty {
        let b = try c.constant(n.inputs[2])
        guard b.values.count == f else { throw c.error("bias has \(b.values.count) values for \(f) filters") }
        bias = b.values.map { Float($0) }
    }
    try c.reserve(w.shape, for: "the ConvTranspose kernel")
    let layer = Conv2DTranspose(name: c.layerName("Conv2DTranspose"), inputChannels: cin, filters: f, kernelSize: (kh, kw),
                                strides: (strides[0], strides[1]), padding: valid ? .valid : .same, useBias: bias != nil)
    layer.kernel.value = Tensor(shape: [kh, kw, f, cin], scalars: permuteAxes(w.values.map { Float($0) }, shape: w.shape, perm: [2, 3, 1, 0]))
    if let bias { layer.bias!.value = Tensor(shape: [f], scalars: bias) }
    let node = try c.add(layer, [try c.channelsLast(x)])
    let out = c.shape(ofNode: node)
    output(n, c, ImportedValue(node: node, onnxShape: [out[2], out[0], out[1]], perm: [1, 2, 0]))
}

private func dense(_ n: ONNXNodeProto, _ c: ONNXImportContext, x: ImportedValue, kernel: [Float], inputs k: Int, units: Int, bias: [Float]?) throws {
    var bias = bias
    var outputName = n.outputs[0]
    if bias == nil, let fused = fusableBias(after: n.outputs[0], channels: units, image: false, c) {
        bias = fused.bias
        c.skipped.insert(fused.index)
        outputName = c.graph.nodes[fused.index].outputs[0]
    }
    let input = try c.identityLayout(x)
    try c.reserve([k, units], for: "the dense kernel")
    let layer = Dense(name: c.layerName("Dense"), inputUnits: k, units: units, useBias: bias != nil)
    layer.kernel.value = Tensor(shape: [k, units], scalars: kernel)
    if let bias { layer.bias!.value = Tensor(shape: [units], scalars: bias) }
    let node = try c.add(layer, [input])
    c.values[outputName] = ImportedValue(node: node, onnxShape: c.shape(ofNode: node), perm: Array(0..<x.onnxShape.count))
}

private func importMatMul(_ n: ONNXNodeProto, _ i: Int, _ c: ONNXImportContext) throws {
    var a = Attributes(n, c)
    try a.finish()
    let x = try c.value(n.inputs[0])
    guard let w = c.constants[n.inputs[1]], w.shape.count == 2 else {
        throw c.error("MatMul is supported as a dense layer: a computed tensor times a constant 2-D matrix")
    }
    guard x.onnxShape.last == w.shape[0] else { throw c.error("input of shape \(x.onnxShape) does not fit a \(w.shape) matrix") }
    try dense(n, c, x: x, kernel: w.values.map { Float($0) }, inputs: w.shape[0], units: w.shape[1], bias: nil)
}

private func importGemm(_ n: ONNXNodeProto, _ i: Int, _ c: ONNXImportContext) throws {
    var a = Attributes(n, c)
    try a.require("transA", int: 0)
    let transB = try a.int("transB", 0)
    let alpha = try a.float("alpha", 1), beta = try a.float("beta", 1)
    try a.finish()
    guard alpha == 1 else { throw c.error("Gemm with alpha=\(alpha) is not supported (only 1)") }
    let x = try c.value(n.inputs[0])
    let w = try c.constant(n.inputs[1])
    guard x.onnxShape.count == 1, w.shape.count == 2 else { throw c.error("Gemm is supported as a dense layer on (N, K) input with a constant 2-D matrix") }
    let (k, units) = transB == 0 ? (w.shape[0], w.shape[1]) : (w.shape[1], w.shape[0])
    guard x.onnxShape[0] == k else { throw c.error("input of shape \(x.onnxShape) does not fit a \(w.shape) matrix") }
    var kernel = w.values.map { Float($0) }
    if transB != 0 { kernel = permuteAxes(kernel, shape: w.shape, perm: [1, 0]) }
    var bias: [Float]? = nil
    if n.inputs.count > 2, !n.inputs[2].isEmpty {
        let b = try c.constant(n.inputs[2])
        guard b.values.count == units else { throw c.error("Gemm bias of shape \(b.shape) is not per output unit (\(units))") }
        bias = b.values.map { Float($0) * beta }
    }
    try dense(n, c, x: x, kernel: kernel, inputs: k, units: units, bias: bias)
}

// MARK: - Pooling and normalization

private func importPool(_ n: ONNXNodeProto, _ i: Int, _ c: ONNXImportContext) throws {
    var a = Attributes(n, c)
    let x = try c.value(n.inputs[0])
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
    guard pads == [0, 0, 0, 0] else { throw c.error("pads \(pads) are neither Keras 'valid' nor 'same' padding") }
    if padding == .same && countIncludePad != 0 { throw c.error("count_include_pad=1 with padding differs from Keras's average pooling") }
    if n.outputs.count > 1, c.consumers[n.outputs[1]] != nil { throw c.error("the MaxPool indices output is not supported") }
    let layer: any Layer = isMax
        ? MaxPooling2D(name: c.layerName("MaxPooling2D"), poolSize: (kernel[0], kernel[1]), strides: (strides[0], strides[1]), padding: padding)
        : AveragePooling2D(name: c.layerName("AveragePooling2D"), poolSize: (kernel[0], kernel[1]), strides: (strides[0], strides[1]), padding: padding)
    let node = try c.add(layer, [try c.channelsLast(x)])
    let out = c.shape(ofNode: node)
    output(n, c, ImportedValue(node: node, onnxShape: [out[2], out[0], out[1]], perm: [1, 2, 0]))
}

private func importGlobalPool(_ n: ONNXNodeProto, _ i: Int, _ c: ONNXImportContext) throws {
    try Attributes(n, c).finish()
    let x = try c.value(n.inputs[0])
    guard x.onnxShape.count == 3 else { throw c.error("only 2-D global pooling of (N, C, H, W) is supported") }
    let kind: GlobalPooling2D.Kind = n.opType == "GlobalAveragePool" ? .average : .max
    let typeName = kind == .average ? "GlobalAveragePooling2D" : "GlobalMaxPooling2D"
    let node = try c.add(GlobalPooling2D(name: c.layerName(typeName), kind: kind, keepDims: true), [try c.channelsLast(x)])
    output(n, c, ImportedValue(node: node, onnxShape: [x.onnxShape[0], 1, 1], perm: [1, 2, 0]))
}

private func importBatchNormalization(_ n: ONNXNodeProto, _ i: Int, _ c: ONNXImportContext) throws {
    var a = Attributes(n, c, ignoring: ["momentum"])
    let epsilon = try a.float("epsilon", 1e-5)
    try a.require("training_mode", int: 0)
    try a.finish()
    guard n.outputs.count == 1 || n.outputs.dropFirst().allSatisfy({ $0.isEmpty || c.consumers[$0] == nil }) else {
        throw c.error("training-mode outputs (running mean/variance) are not supported")
    }
    let x = try c.value(n.inputs[0])
    guard !x.onnxShape.isEmpty else { throw c.error("input has no channel axis") }
    let channels = x.onnxShape[0]
    let params = try (1...4).map { k -> [Float] in
        let t = try c.constant(n.inputs[k])
        guard t.values.count == channels else { throw c.error("parameter '\(n.inputs[k])' has \(t.values.count) values for \(channels) channels") }
        return t.values.map { Float($0) }
    }
    try c.reserve([4, channels], for: "the BatchNormalization parameters")
    let layer = BatchNormalization(name: c.layerName("BatchNormalization"), channels: channels, epsilon: epsilon)
    layer.gamma!.value = Tensor(shape: [channels], scalars: params[0])
    layer.beta!.value = Tensor(shape: [channels], scalars: params[1])
    layer.movingMean.value = Tensor(shape: [channels], scalars: params[2])
    layer.movingVariance.value = Tensor(shape: [channels], scalars: params[3])
    let input = try c.channelsLast(x)
    let node = try c.add(layer, [input])
    output(n, c, ImportedValue(node: node, onnxShape: x.onnxShape, perm: input.perm))
}

private func importLayerNormalization(_ n: ONNXNodeProto, _ i: Int, _ c: ONNXImportContext) throws {
    var a = Attributes(n, c, ignoring: ["stash_type"])
    let x = try c.value(n.inputs[0])
    let rank = x.onnxShape.count + 1
    let axis = try a.int("axis", -1)
    let epsilon = try a.float("epsilon", 1e-5)
    try a.finish()
    guard axis == -1 || axis == rank - 1 else { throw c.error("LayerNormalization over axis \(axis) is not supported (only the last axis)") }
    guard n.outputs.count == 1 || n.outputs.dropFirst().allSatisfy({ $0.isEmpty || c.consumers[$0] == nil }) else {
        throw c.error("the mean / inverse standard deviation outputs are not supported")
    }
    guard let f = x.onnxShape.last else { throw c.error("input has no feature axis") }
    let scale = try c.constant(n.inputs[1])
    let bias = n.inputs.count > 2 && !n.inputs[2].isEmpty ? try c.constant(n.inputs[2]) : nil
    guard scale.values.count == f, bias == nil || bias!.values.count == f else { throw c.error("scale/bias are not per feature (\(f))") }
    try c.reserve([2, f], for: "the LayerNormalization parameters")
    let layer = LayerNormalization(name: c.layerName("LayerNormalization"), features: f, epsilon: epsilon, scale: true, center: bias != nil)
    layer.gamma!.value = Tensor(shape: [f], scalars: scale.values.map { Float($0) })
    if let bias { layer.beta!.value = Tensor(shape: [f], scalars: bias.values.map { Float($0) }) }
    let input = try c.identityLayout(x)
    output(n, c, ImportedValue(node: try c.add(layer, [input]), onnxShape: x.onnxShape, perm: input.perm))
}

// MARK: - Shapes

private func importFlatten(_ n: ONNXNodeProto, _ i: Int, _ c: ONNXImportContext) throws {
    var a = Attributes(n, c)
    let axis = try a.int("axis", 1)
    try a.finish()
    guard axis == 1 else { throw c.error("Flatten with axis=\(axis) is not supported (only 1: keep the batch axis)") }
    let x = try c.identityLayout(try c.value(n.inputs[0]))
    let node = try c.add(Flatten(name: c.layerName("Flatten")), [x])
    output(n, c, ImportedValue(node: node, onnxShape: [x.onnxShape.reduce(1, *)], perm: [0]))
}

private func importReshape(_ n: ONNXNodeProto, _ i: Int, _ c: ONNXImportContext) throws {
    var a = Attributes(n, c)
    try a.require("allowzero", int: 0)
    try a.finish()
    let x = try c.value(n.inputs[0])
    let target = try c.symbolicInts(n.inputs[1])
    guard !target.isEmpty else { throw c.error("Reshape to a scalar is not supported") }
    guard !target.contains(where: { if case .known(let v) = $0 { return v < -1 } else { return false } }) else {
        throw c.error("Reshape target \(target) is invalid: sizes must be positive, 0 (copy) or -1 (infer), none negative")
    }
    let size = try c.product(x.onnxShape, of: "input shape")
    var sample: [Int] = []
    for (k, d) in target.enumerated().dropFirst() {
        switch d {
        case .batch: throw c.error("Reshape moves the batch size into axis \(k), which is not supported")
        case .known(0): guard k - 1 < x.onnxShape.count else { throw c.error("Reshape copies missing axis \(k)") }; sample.append(x.onnxShape[k - 1])
        case .known(let v): sample.append(Int(v))
        }
    }
    let unknown = sample.filter { $0 == -1 }.count
    switch target[0] {
    case .batch, .known(0): break
    case .known(-1) where unknown == 0:
        guard try c.product(sample, of: "Reshape target") == size else { throw c.error("Reshape to \(target) would change the batch size") }
    default: throw c.error("Reshape to \(target) changes the batch axis, which is not supported")
    }
    guard unknown <= 1, sample.allSatisfy({ $0 == -1 || $0 > 0 }) else { throw c.error("Reshape target \(target) is not valid") }
    if unknown == 1 {
        let known = try c.product(sample.filter { $0 != -1 }, of: "Reshape target")
        guard known > 0, size % known == 0 else { throw c.error("cannot reshape \(x.onnxShape) to \(target)") }
        sample = sample.map { $0 == -1 ? size / known : $0 }
    }
    guard try c.product(sample, of: "Reshape target") == size else { throw c.error("cannot reshape \(x.onnxShape) (\(size) elements) to \(sample)") }
    let input = try c.identityLayout(x)
    if sample == x.onnxShape { output(n, c, input); return }
    let node = try c.add(Reshape(name: c.layerName("Reshape"), targetShape: sample), [input])
    output(n, c, ImportedValue(node: node, onnxShape: sample, perm: Array(0..<sample.count)))
}

/// A transpose costs nothing: only the record of which ONNX axis each runtime axis holds changes.
private func importTranspose(_ n: ONNXNodeProto, _ i: Int, _ c: ONNXImportContext) throws {
    var a = Attributes(n, c)
    let x = try c.value(n.inputs[0])
    let rank = x.onnxShape.count + 1
    let perm = try a.ints("perm", Array((0..<rank).reversed()))!
    try a.finish()
    guard perm.count == rank, Set(perm) == Set(0..<rank) else { throw c.error("perm \(perm) is not a permutation of \(rank) axes") }
    guard perm[0] == 0 else { throw c.error("Transpose with perm \(perm) moves the batch axis, which is not supported") }
    let p = perm.dropFirst().map { $0 - 1 }
    var inverse = [Int](repeating: 0, count: p.count)
    for (j, axis) in p.enumerated() { inverse[axis] = j }
    output(n, c, ImportedValue(node: x.node, onnxShape: p.map { x.onnxShape[$0] }, perm: x.perm.map { inverse[$0] }))
}

private func importPad(_ n: ONNXNodeProto, _ i: Int, _ c: ONNXImportContext) throws {
    var a = Attributes(n, c)
    let mode = try a.string("mode", "constant")
    try a.finish()
    guard mode == "constant" else { throw c.error("Pad mode '\(mode)' is not supported (only constant zeros)") }
    if n.inputs.count > 2, !n.inputs[2].isEmpty, try c.constant(n.inputs[2]).values.contains(where: { $0 != 0 }) {
        throw c.error("padding with a non-zero constant is not supported")
    }
    guard n.inputs.count < 4 || n.inputs[3].isEmpty else { throw c.error("Pad with an 'axes' input is not supported") }
    let x = try c.value(n.inputs[0])
    let pads = try c.ints(n.inputs[1])
    guard x.onnxShape.count == 3, pads.count == 8, pads[0] == 0, pads[1] == 0, pads[4] == 0, pads[5] == 0, pads.allSatisfy({ $0 >= 0 }) else {
        throw c.error("only zero padding of the spatial axes of (N, C, H, W) is supported, got pads \(pads)")
    }
    try c.checkWindow(pads, "pads")
    let node = try c.add(Padding2D(name: c.layerName("ZeroPadding2D"), kind: .zeroPad, top: pads[2], bottom: pads[6], left: pads[3], right: pads[7]),
                         [try c.channelsLast(x)])
    let out = c.shape(ofNode: node)
    output(n, c, ImportedValue(node: node, onnxShape: [out[2], out[0], out[1]], perm: [1, 2, 0]))
}

private func importResize(_ n: ONNXNodeProto, _ i: Int, _ c: ONNXImportContext) throws {
    var a = Attributes(n, c, ignoring: ["cubic_coeff_a", "exclude_outside", "extrapolation_value"])
    let mode = try a.string("mode", "nearest")
    let transform = try a.string("coordinate_transformation_mode", "half_pixel")
    let nearest = try a.string("nearest_mode", "round_prefer_floor")
    try a.finish()
    let x = try c.value(n.inputs[0])
    guard x.onnxShape.count == 3 else { throw c.error("only resizing of (N, C, H, W) is supported") }
    var factors: [Double]
    if n.inputs.count > 2, !n.inputs[2].isEmpty, let s = c.constants[n.inputs[2]], !s.values.isEmpty {
        factors = s.values
    } else if n.inputs.count > 3, !n.inputs[3].isEmpty {
        let sizes = try c.ints(n.inputs[3])
        guard sizes.count == 4 else { throw c.error("Resize sizes must have 4 values") }
        factors = [1, 1, Double(sizes[2]) / Double(x.onnxShape[1]), Double(sizes[3]) / Double(x.onnxShape[2])]
    } else { throw c.error("Resize needs constant scales or sizes") }
    guard mode == "nearest", transform == "asymmetric", nearest == "floor", factors.count == 4, factors[0] == 1, factors[1] == 1,
          factors[2] >= 1, factors[3] >= 1, factors[2].rounded() == factors[2], factors[3].rounded() == factors[3],
          factors[2] <= Double(ONNXImportContext.maxWindowValue), factors[3] <= Double(ONNXImportContext.maxWindowValue) else {
        throw c.error("Resize is supported as Keras UpSampling2D only: nearest, asymmetric, floor, integer scales on H and W up to \(ONNXImportContext.maxWindowValue) (got mode \(mode), \(transform), \(nearest), scales \(factors))")
    }
    let node = try c.add(UpSampling2D(name: c.layerName("UpSampling2D"), size: (Int(factors[2]), Int(factors[3]))), [try c.channelsLast(x)])
    let out = c.shape(ofNode: node)
    output(n, c, ImportedValue(node: node, onnxShape: [out[2], out[0], out[1]], perm: [1, 2, 0]))
}

// MARK: - Element-wise

private func importArithmetic(_ n: ONNXNodeProto, _ i: Int, _ c: ONNXImportContext) throws {
    try Attributes(n, c).finish()
    let (lhs, rhs) = (n.inputs[0], n.inputs[1])
    if c.isConstant(lhs) && c.isConstant(rhs) { throw c.error("arithmetic on two constants (constant folding) is not supported") }
    if !c.isConstant(lhs) && !c.isConstant(rhs) {
        var x = try c.value(lhs)
        var y = try c.value(rhs)
        let operation = ONNXBinaryOp.Operation(rawValue: n.opType)!
        if x.onnxShape != y.onnxShape {
            // Broadcast of a size-1 last axis (x - mean(x)), in ONNX order.
            guard !x.onnxShape.isEmpty, y.onnxShape == Array(x.onnxShape.dropLast()) + [1] else {
                throw c.error("broadcasting between computed tensors \(x.onnxShape) and \(y.onnxShape) is not supported")
            }
            x = try c.identityLayout(x)
            y = try c.identityLayout(y)
            let node = try c.add(ONNXBinaryOp(name: c.layerName("ONNX:" + n.opType), operation: operation), [x, y])
            output(n, c, ImportedValue(node: node, onnxShape: x.onnxShape, perm: x.perm))
            return
        }
        y = try c.materialize(y, x.perm)
        let layer: any Layer
        switch n.opType {
        case "Add": layer = Merge(name: c.layerName("Add"), operation: .add)
        case "Sub": layer = Merge(name: c.layerName("Subtract"), operation: .subtract)
        case "Mul": layer = Merge(name: c.layerName("Multiply"), operation: .multiply)
        default: layer = ONNXBinaryOp(name: c.layerName("ONNX:" + n.opType), operation: operation)
        }
        output(n, c, ImportedValue(node: try c.add(layer, [x, y]), onnxShape: x.onnxShape, perm: x.perm))
        return
    }
    let constantFirst = c.isConstant(lhs)
    let x = try c.value(constantFirst ? rhs : lhs)
    let k = try c.constant(constantFirst ? lhs : rhs)
    // A scalar multiply or add is Keras's Rescaling.
    if k.isScalarLike, !constantFirst || n.opType == "Add" || n.opType == "Mul" {
        let v = Float(k.values[0])
        let rescaling: Rescaling?
        switch n.opType {
        case "Add": rescaling = Rescaling(name: c.layerName("Rescaling"), scale: 1, offset: v)
        case "Sub": rescaling = Rescaling(name: c.layerName("Rescaling"), scale: 1, offset: -v)
        case "Mul": rescaling = Rescaling(name: c.layerName("Rescaling"), scale: v, offset: 0)
        default: rescaling = nil
        }
        if let rescaling {
            output(n, c, ImportedValue(node: try c.add(rescaling, [x]), onnxShape: x.onnxShape, perm: x.perm))
            return
        }
    }
    // The constant is stored at the full sample shape.
    try c.reserve(x.onnxShape, for: "the \(n.opType) constant")
    guard let full = broadcast(k, to: x.onnxShape) else {
        throw c.error("constant of shape \(k.shape) does not broadcast to one sample of shape \(x.onnxShape) (broadcasting over the batch axis is not supported)")
    }
    let stored = permuteAxes(full, shape: x.onnxShape, perm: x.perm)
    let layer = ONNXConstantOp(name: c.layerName("ONNX:" + n.opType), operation: ONNXConstantOp.Operation(rawValue: n.opType)!,
                               constant: Tensor(shape: x.runtimeShape, scalars: stored), constantFirst: constantFirst)
    output(n, c, ImportedValue(node: try c.add(layer, [x]), onnxShape: x.onnxShape, perm: x.perm))
}

private func importVariadic(_ n: ONNXNodeProto, _ i: Int, _ c: ONNXImportContext) throws {
    try Attributes(n, c).finish()
    if (n.opType == "Min" || n.opType == "Max"), n.inputs.count == 2, let k = n.inputs.firstIndex(where: { c.isConstant($0) }) {
        // A clamp by a constant (a ReLU's max_value).
        let x = try c.value(n.inputs[1 - k])
        try c.reserve(x.onnxShape, for: "the \(n.opType) constant")
        guard let full = broadcast(try c.constant(n.inputs[k]), to: x.onnxShape) else { throw c.error("constant does not broadcast to \(x.onnxShape)") }
        let layer = ONNXConstantOp(name: c.layerName("ONNX:" + n.opType), operation: n.opType == "Min" ? .min : .max,
                                   constant: Tensor(shape: x.runtimeShape, scalars: permuteAxes(full, shape: x.onnxShape, perm: x.perm)))
        output(n, c, ImportedValue(node: try c.add(layer, [x]), onnxShape: x.onnxShape, perm: x.perm))
        return
    }
    let inputs = try n.inputs.map { try c.value($0) }
    let first = inputs[0]
    if inputs.count == 1 { output(n, c, first); return }
    guard inputs.allSatisfy({ $0.onnxShape == first.onnxShape }) else { throw c.error("broadcasting between computed tensors is not supported") }
    let aligned = try inputs.map { try c.materialize($0, first.perm) }
    let operation: Merge.Operation = ["Sum": .add, "Mean": .average, "Max": .maximum, "Min": .minimum][n.opType]!
    let node = try c.add(Merge(name: c.layerName(operation.rawValue), operation: operation), aligned)
    output(n, c, ImportedValue(node: node, onnxShape: first.onnxShape, perm: first.perm))
}

private func importActivation(_ n: ONNXNodeProto, _ i: Int, _ c: ONNXImportContext) throws {
    var a = Attributes(n, c)
    let x = try c.value(n.inputs[0])
    let act: Activation
    switch n.opType {
    case "Relu": act = .relu
    case "Sigmoid": act = .sigmoid
    case "Tanh": act = .tanh
    case "Softplus": act = .softplus
    case "Softsign": act = .softsign
    case "Exp": act = .exponential
    case "HardSwish": act = .hardSilu
    case "Selu":
        let alpha = try a.float("alpha", 1.67326319217681884765625), gamma = try a.float("gamma", 1.05070102214813232421875)
        guard alpha == 1.67326319217681884765625, gamma == 1.05070102214813232421875 else { throw c.error("Selu with non-default alpha/gamma is not supported") }
        act = .selu
    case "HardSigmoid":
        let alpha = try a.float("alpha", 0.2), beta = try a.float("beta", 0.5)
        if abs(alpha - 1.0 / 6) < 1e-7 && beta == 0.5 { act = .hardSigmoid }
        else if alpha == 0.2 && beta == 0.5 { act = .hardSigmoidKeras2 }
        else { throw c.error("HardSigmoid with alpha=\(alpha), beta=\(beta) is not supported (Keras's 1/6, 0.5 or 0.2, 0.5)") }
    case "Gelu":
        let approximate = try a.string("approximate", "none")
        guard approximate == "none" || approximate == "tanh" else { throw c.error("Gelu approximate='\(approximate)' is not supported") }
        act = approximate == "tanh" ? .geluTanh : .gelu
    default: throw c.error("no activation for \(n.opType)")
    }
    try a.finish()
    output(n, c, try activation(act, x, c))
}

private func importClip(_ n: ONNXNodeProto, _ i: Int, _ c: ONNXImportContext) throws {
    try Attributes(n, c).finish()
    let x = try c.value(n.inputs[0])
    let low = n.inputs.count > 1 && !n.inputs[1].isEmpty ? try c.constant(n.inputs[1]).values.first : nil
    let high = n.inputs.count > 2 && !n.inputs[2].isEmpty ? try c.constant(n.inputs[2]).values.first : nil
    guard low == 0 else { throw c.error("Clip is supported with min 0 only (a ReLU with an optional maximum)") }
    if high == 6 { output(n, c, try activation(.relu6, x, c)); return }
    let node = try c.add(ReLU(name: c.layerName("ReLU"), maxValue: high.map { Float($0) }), [x])
    output(n, c, ImportedValue(node: node, onnxShape: x.onnxShape, perm: x.perm))
}

private func importSoftmax(_ n: ONNXNodeProto, _ i: Int, _ c: ONNXImportContext) throws {
    var a = Attributes(n, c)
    let x = try c.value(n.inputs[0])
    let rank = x.onnxShape.count + 1
    let axis = try a.int("axis", -1)
    try a.finish()
    let onnxAxis = axis < 0 ? axis + rank : axis
    guard onnxAxis >= 1, onnxAxis < rank else { throw c.error("\(n.opType) over axis \(axis) (the batch axis) is not supported") }
    let runtimeAxis = x.perm.firstIndex(of: onnxAxis - 1)!
    if runtimeAxis == x.onnxShape.count - 1 {
        output(n, c, try activation(n.opType == "Softmax" ? .softmax : .logSoftmax, x, c))
        return
    }
    guard n.opType == "Softmax" else { throw c.error("LogSoftmax is supported over the last axis only") }
    let node = try c.add(Softmax(name: c.layerName("Softmax"), axis: runtimeAxis), [x])
    output(n, c, ImportedValue(node: node, onnxShape: x.onnxShape, perm: x.perm))
}

private func importLeakyRelu(_ n: ONNXNodeProto, _ i: Int, _ c: ONNXImportContext) throws {
    var a = Attributes(n, c)
    let alpha = try a.float("alpha", 0.01)
    try a.finish()
    let x = try c.value(n.inputs[0])
    let node = try c.add(ReLU(name: c.layerName("LeakyReLU"), negativeSlope: alpha, kind: .leaky), [x])
    output(n, c, ImportedValue(node: node, onnxShape: x.onnxShape, perm: x.perm))
}

private func importElu(_ n: ONNXNodeProto, _ i: Int, _ c: ONNXImportContext) throws {
    var a = Attributes(n, c)
    let alpha = try a.float("alpha", 1)
    try a.finish()
    let x = try c.value(n.inputs[0])
    output(n, c, ImportedValue(node: try c.add(ELU(name: c.layerName("ELU"), alpha: alpha), [x]), onnxShape: x.onnxShape, perm: x.perm))
}

private func importPRelu(_ n: ONNXNodeProto, _ i: Int, _ c: ONNXImportContext) throws {
    try Attributes(n, c).finish()
    let x = try c.value(n.inputs[0])
    let slope = try c.constant(n.inputs[1])
    var shape = slope.shape
    while shape.count > x.onnxShape.count, shape.first == 1 { shape.removeFirst() }
    guard shape.count <= x.onnxShape.count else { throw c.error("slope of shape \(slope.shape) does not fit input \(x.onnxShape)") }
    shape = [Int](repeating: 1, count: x.onnxShape.count - shape.count) + shape
    guard zip(shape, x.onnxShape).allSatisfy({ $0 == $1 || $0 == 1 }) else { throw c.error("slope of shape \(slope.shape) does not broadcast to \(x.onnxShape)") }
    let stored = x.perm.map { shape[$0] }
    let shared = stored.enumerated().filter { $0.element == 1 && x.runtimeShape[$0.offset] != 1 }.map { $0.offset + 1 }
    try c.reserve(stored, for: "the PReLU slope")
    let layer = PReLU(name: c.layerName("PReLU"), inputShape: x.runtimeShape, sharedAxes: shared)
    guard layer.alpha.shape == stored else { throw c.error("slope of shape \(slope.shape) cannot be laid out as a PReLU alpha") }
    layer.alpha.value = Tensor(shape: stored, scalars: permuteAxes(slope.values.map { Float($0) }, shape: shape, perm: x.perm))
    output(n, c, ImportedValue(node: try c.add(layer, [x]), onnxShape: x.onnxShape, perm: x.perm))
}

private func importUnary(_ n: ONNXNodeProto, _ i: Int, _ c: ONNXImportContext) throws {
    try Attributes(n, c).finish()
    let x = try c.value(n.inputs[0])
    let op = ONNXUnaryOp.Operation(rawValue: n.opType)!
    output(n, c, ImportedValue(node: try c.add(ONNXUnaryOp(name: c.layerName("ONNX:" + n.opType), operation: op), [x]), onnxShape: x.onnxShape, perm: x.perm))
}

// MARK: - Keras ReLU with a threshold, RepeatVector

/// `x >= t` with a constant t: remembered for the `Where` that selects with it.
private func importGreaterOrEqual(_ n: ONNXNodeProto, _ i: Int, _ c: ONNXImportContext) throws {
    try Attributes(n, c).finish()
    _ = try c.value(n.inputs[0])
    let t = try c.constant(n.inputs[1])
    guard t.isScalarLike else { throw c.error("GreaterOrEqual is supported against a scalar constant only (a thresholded ReLU)") }
    c.masks[n.outputs[0]] = (n.inputs[0], Float(t.values[0]))
}

/// `Where(x >= t, x, slope * (x - t))`: Keras's ReLU with a threshold.
private func importWhere(_ n: ONNXNodeProto, _ i: Int, _ c: ONNXImportContext) throws {
    try Attributes(n, c).finish()
    let unsupported = "Where is supported as Keras's thresholded ReLU only: Where(x >= t, x, slope * (x - t))"
    guard let (xName, t) = c.masks[n.inputs[0]], n.inputs[1] == xName,
          let mul = c.producer(of: n.inputs[2]), mul.opType == "Mul", mul.inputs.count == 2 else { throw c.error(unsupported) }
    let (subName, slopeName) = c.isConstant(mul.inputs[1]) ? (mul.inputs[0], mul.inputs[1]) : (mul.inputs[1], mul.inputs[0])
    guard let sub = c.producer(of: subName), sub.opType == "Sub", sub.inputs.count == 2, sub.inputs[0] == xName,
          let shift = c.constants[sub.inputs[1]], shift.isScalarLike, Float(shift.values[0]) == t,
          let slope = c.constants[slopeName], slope.isScalarLike else { throw c.error(unsupported) }
    let x = try c.value(xName)
    let node = try c.add(ReLU(name: c.layerName("ReLU"), negativeSlope: Float(slope.values[0]), threshold: t), [x])
    output(n, c, ImportedValue(node: node, onnxShape: x.onnxShape, perm: x.perm))
}

/// `Tile` of (N, 1, F) by (1, n, 1): Keras's RepeatVector.
private func importTile(_ n: ONNXNodeProto, _ i: Int, _ c: ONNXImportContext) throws {
    try Attributes(n, c).finish()
    let x = try c.identityLayout(try c.value(n.inputs[0]))
    let repeats = try c.ints(n.inputs[1])
    guard x.onnxShape.count == 2, x.onnxShape[0] == 1, repeats.count == 3, repeats[0] == 1, repeats[2] == 1, repeats[1] >= 1 else {
        throw c.error("Tile is supported as Keras RepeatVector only: (N, 1, F) repeated (1, n, 1), got \(x.onnxShape) by \(repeats)")
    }
    let flat = try c.add(Reshape(name: c.layerName("Reshape"), targetShape: [x.onnxShape[1]]), [x])
    let node = try c.add(RepeatVector(name: c.layerName("RepeatVector"), count: repeats[1]),
                         [ImportedValue(node: flat, onnxShape: [x.onnxShape[1]], perm: [0])])
    output(n, c, ImportedValue(node: node, onnxShape: [repeats[1], x.onnxShape[1]], perm: [0, 1]))
}

/// `ReduceMean` over the last axis, keeping it (a decomposed layer normalization).
private func importReduceMean(_ n: ONNXNodeProto, _ i: Int, _ c: ONNXImportContext) throws {
    var a = Attributes(n, c)
    let x = try c.value(n.inputs[0])
    let rank = x.onnxShape.count + 1
    let axes = try n.inputs.count > 1 && !n.inputs[1].isEmpty ? c.ints(n.inputs[1]) : a.ints("axes", nil)
    let keep = try a.int("keepdims", 1)
    try a.require("noop_with_empty_axes", int: 0)
    try a.finish()
    guard let axes, axes.count == 1, axes[0] == -1 || axes[0] == rank - 1, keep == 1 else {
        throw c.error("ReduceMean is supported over the last axis with keepdims=1 only, got axes \(axes.map { "\($0)" } ?? "none"), keepdims \(keep)")
    }
    let input = try c.identityLayout(x)
    let node = try c.add(ONNXReduceMean(name: c.layerName("ONNX:ReduceMean")), [input])
    output(n, c, ImportedValue(node: node, onnxShape: x.onnxShape.dropLast() + [1], perm: input.perm))
}

import ModelPortRuntime

// Helpers the ONNX codec families share: attribute reading and making, window
// padding both ways, bias fusion, and activations both ways.

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

    mutating func floats(_ name: String, _ fallback: [Float]?) throws -> [Float]? {
        understood.insert(name)
        guard let v = node.attribute(name) else { return fallback }
        guard case .floats(let a) = v else { throw c.error("attribute '\(name)' should be a list of floats") }
        return a
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

extension ONNXImportContext {
    /// Registers `v` as node `n`'s (first) output.
    func output(_ n: ONNXNodeProto, _ v: ImportedValue) { values[n.outputs[0]] = v }

    /// The output of image layer `node` (NHWC in the runtime) as ONNX's `(C, H, W)`.
    func imageValue(ofNode node: Int) -> ImportedValue {
        let out = shape(ofNode: node)
        return ImportedValue(node: node, onnxShape: [out[2], out[0], out[1]], perm: [1, 2, 0])
    }
}

/// Adds an `Activation` layer applying `a` to `x`.
func addActivation(_ a: Activation, _ x: ImportedValue, _ c: ONNXImportContext) throws -> ImportedValue {
    let node = try c.add(ActivationLayer(name: c.layerName("Activation"), activation: a), [x])
    return ImportedValue(node: node, onnxShape: x.onnxShape, perm: x.perm)
}

/// A layer's bias: `bias` if it has one, else the constant of a following
/// bias `Add` (`fusableBias`), whose node is then skipped and whose output
/// the layer's output becomes. Returns the bias and the layer's output name.
func foldBias(_ bias: [Float]?, after n: ONNXNodeProto, channels: Int, image: Bool, _ c: ONNXImportContext) -> (bias: [Float]?, outputName: String) {
    guard bias == nil, let fused = fusableBias(after: n.outputs[0], channels: channels, image: image, c) else { return (bias, n.outputs[0]) }
    c.skipped.insert(fused.index)
    return (fused.bias, c.graph.nodes[fused.index].outputs[0])
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
/// explicit zero padding for Conv (SAME_LOWER with an odd total, other pads).
func windowPadding(_ a: inout Attributes, kernel: (Int, Int), strides: (Int, Int), dilation: (Int, Int),
                   height: Int, width: Int, c: ONNXImportContext) throws -> (WindowGeometry.Padding, [Int]) {
    let autoPad = try a.string("auto_pad", "NOTSET")
    switch autoPad {
    case "VALID": return (.valid, [0, 0, 0, 0])
    case "SAME_UPPER": return (.same, [0, 0, 0, 0])
    case "SAME_LOWER":
        // Like SAME_UPPER with the odd extra row/column before: explicit pads when there is one.
        let g = try WindowGeometry(inHeight: height, inWidth: width, kernel: kernel, strides: strides, dilation: dilation, padding: .same)
        let upper = windowPads(g)
        let lower = [upper[2], upper[3], upper[0], upper[1]]
        return lower == upper ? (.same, [0, 0, 0, 0]) : (.valid, lower)
    case "NOTSET": break
    default: throw c.error("auto_pad '\(autoPad)' is not supported (supported: NOTSET, VALID, SAME_UPPER, SAME_LOWER)")
    }
    let pads = try a.ints("pads", [0, 0, 0, 0])!
    guard pads.count == 4, pads.allSatisfy({ $0 >= 0 }) else { throw c.error("pads \(pads) are not 4 non-negative values") }
    try c.checkWindow(pads, "pads")
    if pads == [0, 0, 0, 0] { return (.valid, pads) }
    let g = try WindowGeometry(inHeight: height, inWidth: width, kernel: kernel, strides: strides, dilation: dilation, padding: .same)
    if pads == windowPads(g) { return (.same, [0, 0, 0, 0]) }
    return (.valid, pads)
}

/// An integer-list attribute.
func ints(_ name: String, _ values: [Int]) -> ONNXAttribute { ONNXAttribute(name, .ints(values.map { Int64($0) })) }

/// A Conv2D/pooling window's explicit ONNX pads `[top, left, bottom, right]`,
/// TensorFlow-style ("same" puts the odd extra row/column after). Import
/// recognises Keras's "same" by these pads; export writes them.
func windowPads(_ g: WindowGeometry) -> [Int] {
    let effH = (g.kernelHeight - 1) * g.dilationY + 1, effW = (g.kernelWidth - 1) * g.dilationX + 1
    let totalH = max((g.outHeight - 1) * g.strideY + effH - g.inHeight, 0)
    let totalW = max((g.outWidth - 1) * g.strideX + effW - g.inWidth, 0)
    return [g.padTop, g.padLeft, totalH - g.padTop, totalW - g.padLeft]
}

/// `x` channels-first, checked to be an image `(height, width, channels)`.
func imageInput(_ layer: any Layer, _ x: ONNXValue, _ c: ONNXExportContext) throws -> ONNXValue {
    guard x.kerasShape.count == 3 else { throw c.error(layer, "expects (height, width, channels) input, got \(x.kerasShape)") }
    return c.channelsFirst(x)
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

/// A 1-D `Conv`, `ConvTranspose`, `MaxPool` or `AveragePool` on (N, C, L), imported as its 2-D
/// form on (N, C, L, 1) by `importer`: kernel, strides and dilations get a 1,
/// pads and output_padding a 0, a (O, I, k) weight becomes (O, I, k, 1); the result,
/// (N, C', L', 1), is reshaped back to (N, C', L').
func importAs2D(_ n: ONNXNodeProto, _ i: Int, _ c: ONNXImportContext, _ importer: ONNXOpImporter) throws {
    let x = try c.identityLayout(try c.value(n.inputs[0]))
    let inputName = n.inputs[0] + "#as2d", outputName = n.outputs[0] + "#as2d"
    let lifted = try c.add(Reshape(name: c.layerName("Reshape"), targetShape: x.onnxShape + [1]), [x])
    c.values[inputName] = ImportedValue(node: lifted, onnxShape: x.onnxShape + [1], perm: [0, 1, 2])
    var inputs = [inputName] + n.inputs.dropFirst()
    if inputs.count > 1, let w = c.constants[inputs[1]], w.shape.count == 3 {
        try c.reserve(w.shape + [1], elementSize: MemoryLayout<Double>.size, for: "the 2-D form of weight '\(inputs[1])'")
        inputs[1] += "#as2d"
        c.constants[inputs[1]] = ConstantTensor(shape: w.shape + [1], values: w.values)
    }
    let attributes = n.attributes.map { a -> ONNXAttribute in
        switch (a.name, a.value) {
        case ("kernel_shape", .ints(let v)), ("strides", .ints(let v)), ("dilations", .ints(let v)): return ONNXAttribute(a.name, .ints(v + [1]))
        case ("output_padding", .ints(let v)): return ONNXAttribute(a.name, .ints(v + [0]))
        case ("pads", .ints(let v)) where v.count == 2: return ONNXAttribute(a.name, .ints([v[0], 0, v[1], 0]))
        default: return a
        }
    }
    let node = ONNXNodeProto(name: n.name, opType: n.opType, domain: n.domain, inputs: inputs, outputs: [outputName] + n.outputs.dropFirst(),
                             attributes: attributes)
    try importer(node, i, c)
    guard let y = c.values[outputName] else { throw c.error("the 2-D form of this \(n.opType) produced no output") }
    let image = try c.identityLayout(y)
    let shape = Array(image.onnxShape.dropLast())
    let back = try c.add(Reshape(name: c.layerName("Reshape"), targetShape: shape), [image])
    c.output(n, ImportedValue(node: back, onnxShape: shape, perm: Array(0..<shape.count)))
}

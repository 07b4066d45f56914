import ModelPortRuntime

/// Activation layers: Keras `ReLU` (either kind: `ReLU`, `LeakyReLU`) <->
/// ONNX `Relu` / `LeakyRelu`, with a threshold `Where(x >= t, x, slope * (x - t))`
/// (`GreaterOrEqual`, `Where`) and a maximum `Min`; `ELU` <-> `Elu`, `PReLU`
/// <-> `PRelu`, `Softmax` <-> `Softmax` (and `LogSoftmax` over the last axis).
extension ONNXFamily {
    static let activations = ONNXFamily(
        "activations",
        imports: [
            ONNXOpImport("LeakyRelu", importLeakyRelu),
            ONNXOpImport("Elu", importElu),
            ONNXOpImport("PRelu", minimumInputs: 2, importPRelu),
            ONNXOpImport("Softmax", importSoftmax),
            ONNXOpImport("LogSoftmax", importSoftmax),
            ONNXOpImport("GreaterOrEqual", minimumInputs: 2, since: 12, importGreaterOrEqual),
            ONNXOpImport("Where", minimumInputs: 3, since: 9, importWhere),
        ],
        exports: [
            .layer(ReLU.self, ["ReLU", "LeakyReLU"], exportReLU),
            .layer(ELU.self, ["ELU"], exportELU),
            .layer(PReLU.self, ["PReLU"], exportPReLU),
            .layer(Softmax.self, ["Softmax"], exportSoftmax),
        ])
}

// MARK: - Import

private func importSoftmax(_ n: ONNXNodeProto, _ i: Int, _ c: ONNXImportContext) throws {
    var a = Attributes(n, c)
    let x = try c.value(n.inputs[0])
    let rank = x.onnxShape.count + 1
    // Before opset 13 the input is coerced to 2-D at `axis` (default 1): one
    // softmax over all of axes axis..<rank together.
    let coerced = c.opset < 13
    let axis = try a.int("axis", coerced ? 1 : -1)
    try a.finish()
    let onnxAxis = axis < 0 ? axis + rank : axis
    guard onnxAxis >= 1, onnxAxis < rank else { throw c.error("\(n.opType) over axis \(axis) (the batch axis) is not supported") }
    if coerced, x.onnxShape[onnxAxis...].contains(where: { $0 != 1 }) {
        // Several trailing axes of size > 1: flatten them, normalize, restore the shape.
        let trailing = Array(x.onnxShape[(onnxAxis - 1)...])
        let flatShape = Array(x.onnxShape[..<(onnxAxis - 1)]) + [try c.product(trailing, of: "the coerced input")]
        let input = try c.identityLayout(x)
        let flat = ImportedValue(node: try c.add(Reshape(name: c.layerName("Reshape"), targetShape: flatShape), [input]),
                                 onnxShape: flatShape, perm: Array(0..<flatShape.count))
        let normalized = try addActivation(n.opType == "Softmax" ? .softmax : .logSoftmax, flat, c)
        let node = try c.add(Reshape(name: c.layerName("Reshape"), targetShape: x.onnxShape), [normalized])
        c.output(n, ImportedValue(node: node, onnxShape: x.onnxShape, perm: Array(0..<x.onnxShape.count)))
        return
    }
    try softmax(n, x, onnxAxis: onnxAxis, c)
}

/// Softmax (or LogSoftmax) over ONNX axis `onnxAxis` alone.
private func softmax(_ n: ONNXNodeProto, _ x: ImportedValue, onnxAxis: Int, _ c: ONNXImportContext) throws {
    let runtimeAxis = x.perm.firstIndex(of: onnxAxis - 1)!
    if runtimeAxis == x.onnxShape.count - 1 {
        c.output(n, try addActivation(n.opType == "Softmax" ? .softmax : .logSoftmax, x, c))
        return
    }
    guard n.opType == "Softmax" else { throw c.error("LogSoftmax is supported over the last axis only") }
    let node = try c.add(Softmax(name: c.layerName("Softmax"), axis: runtimeAxis), [x])
    c.output(n, ImportedValue(node: node, onnxShape: x.onnxShape, perm: x.perm))
}

private func importLeakyRelu(_ n: ONNXNodeProto, _ i: Int, _ c: ONNXImportContext) throws {
    var a = Attributes(n, c)
    let alpha = try a.float("alpha", 0.01)
    try a.finish()
    let x = try c.value(n.inputs[0])
    let node = try c.add(ReLU(name: c.layerName("LeakyReLU"), negativeSlope: alpha, kind: .leaky), [x])
    c.output(n, ImportedValue(node: node, onnxShape: x.onnxShape, perm: x.perm))
}

private func importElu(_ n: ONNXNodeProto, _ i: Int, _ c: ONNXImportContext) throws {
    var a = Attributes(n, c)
    let alpha = try a.float("alpha", 1)
    try a.finish()
    let x = try c.value(n.inputs[0])
    c.output(n, ImportedValue(node: try c.add(ELU(name: c.layerName("ELU"), alpha: alpha), [x]), onnxShape: x.onnxShape, perm: x.perm))
}

private func importPRelu(_ n: ONNXNodeProto, _ i: Int, _ c: ONNXImportContext) throws {
    try Attributes(n, c).finish()
    let x = try c.value(n.inputs[0])
    let slope = try c.constant(n.inputs[1])
    var shape = slope.shape
    // Opset 6's PRelu (before numpy broadcasting, 7) applies a vector slope per channel (axis 1).
    if c.opset < 7, shape.count == 1, shape[0] > 1, x.onnxShape.count > 1, x.onnxShape[0] == shape[0] {
        shape = [shape[0]] + [Int](repeating: 1, count: x.onnxShape.count - 1)
    }
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
    c.output(n, ImportedValue(node: try c.add(layer, [x]), onnxShape: x.onnxShape, perm: x.perm))
}

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
    c.output(n, ImportedValue(node: node, onnxShape: x.onnxShape, perm: x.perm))
}

// MARK: - Export

private func exportReLU(_ l: ReLU, _ x: [ONNXValue], _ c: ONNXExportContext) throws -> ONNXValue {
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

private func exportELU(_ l: ELU, _ x: [ONNXValue], _ c: ONNXExportContext) throws -> ONNXValue {
    let y = c.node("Elu", [x[0].name], [ONNXAttribute("alpha", .float(l.alpha))], name: l.name)
    return ONNXValue(name: y, kerasShape: x[0].kerasShape, channelsFirst: x[0].channelsFirst)
}

private func exportPReLU(_ l: PReLU, _ x: [ONNXValue], _ c: ONNXExportContext) throws -> ONNXValue {
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

private func exportSoftmax(_ l: Softmax, _ x: [ONNXValue], _ c: ONNXExportContext) throws -> ONNXValue {
    let v = x[0]
    let y = c.node("Softmax", [v.name], [ONNXAttribute("axis", .int(Int64(v.onnxAxis(ofKerasSampleAxis: l.axis))))], name: l.name)
    return ONNXValue(name: y, kerasShape: v.kerasShape, channelsFirst: v.channelsFirst)
}

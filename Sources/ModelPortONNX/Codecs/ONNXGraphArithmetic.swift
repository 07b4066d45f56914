import ModelPortRuntime

/// Graph arithmetic, ONNX only (nothing exports to it): constants and the
/// shape computations exporters such as tf2onnx write (`Shape`, `Gather`,
/// `Cast`, `ConstantOfShape`), evaluated at import into constants or symbolic
/// shapes, and `ReduceMean`/`ReduceSum`/`ReduceMax` over sample axes,
/// imported as `ONNXReduce` over the last axis (after a Permute and Reshape
/// bringing the reduced axes there).
extension ONNXFamily {
    static let graphArithmetic = ONNXFamily(
        "graph arithmetic",
        imports: [
            ONNXOpImport("Constant", minimumInputs: 0, importConstant),
            ONNXOpImport("ConstantOfShape", since: 9, importConstantOfShape),
            ONNXOpImport("Shape", importShape),
            ONNXOpImport("Gather", minimumInputs: 2, importGather),
            ONNXOpImport("Cast", importCast),
            ONNXOpImport("ReduceMean", importReduce),
            ONNXOpImport("ReduceSum", importReduce),
            ONNXOpImport("ReduceMax", importReduce),
        ])
}

// MARK: - Import

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

/// A constant of a constant shape filled with one value (the `value`
/// attribute's, default float 0): ONNX's "light" models make their weights so.
private func importConstantOfShape(_ n: ONNXNodeProto, _ i: Int, _ c: ONNXImportContext) throws {
    let a = Attributes(n, c, ignoring: ["value"])
    try a.finish()
    let shape = try c.ints(n.inputs[0])
    guard shape.allSatisfy({ $0 >= 0 }) else { throw c.error("ConstantOfShape shape \(shape) has a negative size") }
    var fill = 0.0
    if let v = n.attribute("value") {
        guard case .tensor(let t) = v else { throw c.error("attribute 'value' should be a one-element tensor") }
        let k = try c.decode(t)
        guard k.values.count == 1 else { throw c.error("attribute 'value' has \(k.values.count) elements; ConstantOfShape needs one") }
        fill = k.values[0]
    }
    let count = try c.product(shape, of: "ConstantOfShape shape")
    guard count <= ONNXImportContext.maxTensorElements else {
        throw c.error("ConstantOfShape of shape \(shape) is larger than ModelPort accepts (\(ONNXImportContext.maxTensorElements) elements)")
    }
    try c.reserve(shape, elementSize: MemoryLayout<Double>.size, for: "ConstantOfShape '\(n.outputs[0])'")
    c.constants[n.outputs[0]] = ConstantTensor(shape: shape, values: [Double](repeating: fill, count: count))
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
    c.output(n, try c.value(n.inputs[0]))
}

/// `ReduceMean`/`ReduceSum`/`ReduceMax` over sample axes: the reduced axes are
/// moved last (a Permute) and merged (a Reshape), `ONNXReduce` reduces that
/// last axis, and a Reshape gives ONNX's shape (size-1 axes with `keepdims`).
/// `axes` is an input from opset 13 for ReduceSum, 18 for the others.
private func importReduce(_ n: ONNXNodeProto, _ i: Int, _ c: ONNXImportContext) throws {
    var a = Attributes(n, c)
    let x = try c.value(n.inputs[0])
    let rank = x.onnxShape.count + 1
    let axesAreInput = c.opset >= (n.opType == "ReduceSum" ? 13 : 18)
    let given = try axesAreInput ? (n.inputs.count > 1 && !n.inputs[1].isEmpty ? c.ints(n.inputs[1]) : nil) : a.ints("axes", nil)
    let keep = try a.int("keepdims", 1)
    if axesAreInput { try a.require("noop_with_empty_axes", int: 0) }
    try a.finish()
    guard let given, !given.isEmpty else {
        throw c.error("\(n.opType) without axes reduces every axis, the batch axis too, which is not supported")
    }
    let axes = given.map { $0 < 0 ? $0 + rank : $0 }
    guard Set(axes).count == axes.count, axes.allSatisfy({ $0 >= 1 && $0 < rank }) else {
        throw c.error("\(n.opType) over axes \(given) (the batch axis, repeated or out of range) is not supported")
    }
    let reduced = axes.map { $0 - 1 }.sorted()
    let kept = Array(0..<x.onnxShape.count).filter { !reduced.contains($0) }
    let keptShape = kept.map { x.onnxShape[$0] }
    guard keep == 1 || !keptShape.isEmpty else {
        throw c.error("\(n.opType) over every sample axis with keepdims=0 leaves (N,) without a sample axis, which is not supported")
    }
    let operation = ONNXReduce.Operation(rawValue: n.opType)!
    // Reduced axes last, then merged into one.
    let moved = try c.materialize(x, kept + reduced)
    let merged = keptShape + [try c.product(reduced.map { x.onnxShape[$0] }, of: "the reduced axes")]
    var input = ImportedValue(node: moved.node, onnxShape: moved.runtimeShape, perm: Array(0..<moved.runtimeShape.count))
    if merged != input.onnxShape {
        input = ImportedValue(node: try c.add(Reshape(name: c.layerName("Reshape"), targetShape: merged), [input]), onnxShape: merged,
                              perm: Array(0..<merged.count))
    }
    let node = try c.add(ONNXReduce(name: c.layerName("ONNX:" + n.opType), operation: operation), [input])
    let reducedShape = keptShape + [1]
    let shape = keep == 1 ? x.onnxShape.enumerated().map { reduced.contains($0.offset) ? 1 : $0.element } : keptShape
    if shape == reducedShape {
        c.output(n, ImportedValue(node: node, onnxShape: shape, perm: Array(0..<shape.count)))
        return
    }
    let back = try c.add(Reshape(name: c.layerName("Reshape"), targetShape: shape),
                         [ImportedValue(node: node, onnxShape: reducedShape, perm: Array(0..<reducedShape.count))])
    c.output(n, ImportedValue(node: back, onnxShape: shape, perm: Array(0..<shape.count)))
}

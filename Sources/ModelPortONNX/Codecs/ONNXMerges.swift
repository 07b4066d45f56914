import ModelPortRuntime

/// Merges: Keras `Add`, `Subtract`, `Multiply`, `Average`, `Maximum`,
/// `Minimum`, `Concatenate` (one runtime `Merge`) <-> ONNX `Add`/`Sum`,
/// `Sub`, `Mul`, `Mean`, `Max`, `Min`, `Concat`. Imported element-wise
/// operators with a constant become `Rescaling` (scalar) or `ConstantArithmetic`;
/// `Div` and `Pow` of two computed tensors become `ONNXBinaryOp`; `Concat` of
/// constants is shape arithmetic.
extension ONNXFamily {
    static let merges = ONNXFamily(
        "merges",
        imports: [
            ONNXOpImport("Add", minimumInputs: 2, importArithmetic),
            ONNXOpImport("Sub", minimumInputs: 2, importArithmetic),
            ONNXOpImport("Mul", minimumInputs: 2, importArithmetic),
            ONNXOpImport("Div", minimumInputs: 2, importArithmetic),
            ONNXOpImport("Pow", minimumInputs: 2, importArithmetic),
            ONNXOpImport("Sum", importVariadic),
            ONNXOpImport("Mean", importVariadic),
            ONNXOpImport("Max", importVariadic),
            ONNXOpImport("Min", importVariadic),
            ONNXOpImport("Concat", importConcat),
        ],
        exports: [
            .layer(Merge.self, Merge.Operation.allCases.map(\.rawValue), exportMerge),
        ])
}

// MARK: - Import

private func importArithmetic(_ n: ONNXNodeProto, _ i: Int, _ c: ONNXImportContext) throws {
    var a = Attributes(n, c)
    // Before opset 7: `broadcast` = 1 lets B broadcast, suffix-aligned
    // (numpy's rule for B of lower rank) or from A's axis `axis`.
    var alignAt: Int? = nil
    if c.opset < 7 {
        _ = try a.int("broadcast", 0)
        if n.attribute("axis") != nil { alignAt = try a.int("axis", 0) }
    }
    try a.finish()
    let (lhs, rhs) = (n.inputs[0], n.inputs[1])
    if let axis = alignAt {
        guard !c.isConstant(lhs), let b = c.constants[rhs] else {
            throw c.error("broadcast with axis=\(axis) is supported for a computed A and a constant B only")
        }
        let rank = try c.value(lhs).onnxShape.count + 1
        let start = axis < 0 ? axis + rank : axis
        guard start >= 0, start + b.shape.count <= rank else { throw c.error("B of shape \(b.shape) does not fit A's axes from axis \(axis)") }
        // Aligned at `axis`: trailing size-1 axes make numpy's rule place it there.
        let aligned = ConstantTensor(shape: b.shape + [Int](repeating: 1, count: rank - start - b.shape.count), values: b.values)
        return try arithmetic(n, lhs: lhs, rhs: rhs, alignedConstant: aligned, c)
    }
    try arithmetic(n, lhs: lhs, rhs: rhs, alignedConstant: nil, c)
}

/// `lhs op rhs`; `alignedConstant` replaces the constant rhs (opset 6's axis alignment).
private func arithmetic(_ n: ONNXNodeProto, lhs: String, rhs: String, alignedConstant: ConstantTensor?, _ c: ONNXImportContext) throws {
    if c.isConstant(lhs) && c.isConstant(rhs) { throw c.error("arithmetic on two constants (constant folding) is not supported") }
    if !c.isConstant(lhs) && !c.isConstant(rhs) {
        var x = try c.value(lhs)
        var y = try c.value(rhs)
        let operation = ONNXBinaryOp.Operation(rawValue: n.opType)!
        if x.onnxShape != y.onnxShape, n.opType != "Div", n.opType != "Pow", x.onnxShape.count == y.onnxShape.count,
           let shape = try? Broadcasting.shape([x.onnxShape, y.onnxShape]) {
            // Size-1 axes broadcast (a squeeze-and-excitation Mul): a broadcasting merge, in one layout.
            y = try c.materialize(y, x.perm)
            let operation: Merge.Operation = ["Add": .add, "Sub": .subtract, "Mul": .multiply][n.opType]!
            let node = try c.add(Merge(name: c.layerName(operation.rawValue), operation: operation), [x, y])
            c.output(n, ImportedValue(node: node, onnxShape: shape, perm: x.perm))
            return
        }
        if x.onnxShape != y.onnxShape {
            // Broadcast of a size-1 last axis (x - mean(x)), in ONNX order.
            guard !x.onnxShape.isEmpty, y.onnxShape == Array(x.onnxShape.dropLast()) + [1] else {
                throw c.error("broadcasting between computed tensors \(x.onnxShape) and \(y.onnxShape) is not supported")
            }
            x = try c.identityLayout(x)
            y = try c.identityLayout(y)
            let node = try c.add(ONNXBinaryOp(name: c.layerName("ONNX:" + n.opType), operation: operation), [x, y])
            c.output(n, ImportedValue(node: node, onnxShape: x.onnxShape, perm: x.perm))
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
        c.output(n, ImportedValue(node: try c.add(layer, [x, y]), onnxShape: x.onnxShape, perm: x.perm))
        return
    }
    let constantFirst = c.isConstant(lhs)
    let x = try c.value(constantFirst ? rhs : lhs)
    let k = try alignedConstant ?? c.constant(constantFirst ? lhs : rhs)
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
            c.output(n, ImportedValue(node: try c.add(rescaling, [x]), onnxShape: x.onnxShape, perm: x.perm))
            return
        }
    }
    let operation: ConstantArithmetic.Operation = ["Add": .add, "Sub": .subtract, "Mul": .multiply, "Div": .divide, "Pow": .power][n.opType]!
    let layer = ConstantArithmetic(name: c.layerName(operation.rawValue), operation: operation,
                                   constant: try c.runtimeConstant(k, for: x, of: n.opType), constantFirst: constantFirst)
    c.output(n, ImportedValue(node: try c.add(layer, [x]), onnxShape: x.onnxShape, perm: x.perm))
}

private func importVariadic(_ n: ONNXNodeProto, _ i: Int, _ c: ONNXImportContext) throws {
    try Attributes(n, c).finish()
    if (n.opType == "Min" || n.opType == "Max"), n.inputs.count == 2, let k = n.inputs.firstIndex(where: { c.isConstant($0) }) {
        // A clamp by a constant (a ReLU's max_value).
        let x = try c.value(n.inputs[1 - k])
        let operation: ConstantArithmetic.Operation = n.opType == "Min" ? .minimum : .maximum
        let layer = ConstantArithmetic(name: c.layerName(operation.rawValue), operation: operation,
                                       constant: try c.runtimeConstant(try c.constant(n.inputs[k]), for: x, of: n.opType))
        c.output(n, ImportedValue(node: try c.add(layer, [x]), onnxShape: x.onnxShape, perm: x.perm))
        return
    }
    let inputs = try n.inputs.map { try c.value($0) }
    let first = inputs[0]
    if inputs.count == 1 { c.output(n, first); return }
    guard inputs.allSatisfy({ $0.onnxShape == first.onnxShape }) else { throw c.error("broadcasting between computed tensors is not supported") }
    let aligned = try inputs.map { try c.materialize($0, first.perm) }
    let operation: Merge.Operation = ["Sum": .add, "Mean": .average, "Max": .maximum, "Min": .minimum][n.opType]!
    let node = try c.add(Merge(name: c.layerName(operation.rawValue), operation: operation), aligned)
    c.output(n, ImportedValue(node: node, onnxShape: first.onnxShape, perm: first.perm))
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
    c.output(n, ImportedValue(node: node, onnxShape: shape, perm: first.perm))
}

// MARK: - Export

private func exportMerge(_ l: Merge, _ x: [ONNXValue], _ c: ONNXExportContext) throws -> ONNXValue {
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

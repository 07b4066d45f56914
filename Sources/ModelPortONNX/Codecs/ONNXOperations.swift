import ModelPortRuntime

/// Operations from Keras functional graphs (`x / 127.5 - 1`,
/// `preprocess_input`, `x[..., ::-1]`, `stack`): `ConstantArithmetic` <->
/// `Add`/`Sub`/`Mul`/`Div`/`Max`/`Min`/`Pow` with an initializer (imported
/// by the merges family), `UnaryMath` <-> `Sqrt`, `Mul(x, x)`, `Abs`, `Neg`,
/// `Log`, `Reciprocal` (imported by the core family), `StridedSlice` <->
/// `Slice` (+ `Squeeze` for a single index), `Stack` <-> `Unsqueeze` + `Concat`.
/// Exported in Keras's channels-last order, so Keras's axes and constant
/// shapes hold as they are (ONNX broadcasts numpy-style, over the batch too).
extension ONNXFamily {
    static let operations = ONNXFamily(
        "operations",
        imports: [],
        exports: [
            .layer(ConstantArithmetic.self, ConstantArithmetic.Operation.allCases.map { "ops." + $0.rawValue }, exportConstantArithmetic),
            .layer(UnaryMath.self, UnaryMath.Function.allCases.map { "ops." + $0.rawValue }, exportUnaryMath),
            .layer(StridedSlice.self, ["ops.get_item"], exportStridedSlice),
            .layer(Stack.self, ["ops.stack"], exportStack),
        ])
}

// MARK: - Export

private func exportConstantArithmetic(_ l: ConstantArithmetic, _ x: [ONNXValue], _ c: ONNXExportContext) throws -> ONNXValue {
    // A scalar fits any layout; a shaped constant is in Keras's.
    let input = l.constant.count == 1 ? x[0] : c.channelsLast(x[0])
    let op: String
    switch l.operation {
    case .add: op = "Add"
    case .subtract: op = "Sub"
    case .multiply: op = "Mul"
    case .divide: op = "Div"
    case .maximum: op = "Max"
    case .minimum: op = "Min"
    case .power: op = "Pow"
    }
    let shape = l.constant.count == 1 ? [] : l.constant.shape
    let constant = c.constant(l.name + "_constant", shape: shape, l.constant.scalars)
    let operands = l.constantFirst ? [constant, input.name] : [input.name, constant]
    let y = c.node(op, operands, name: l.name)
    return ONNXValue(name: y, kerasShape: input.kerasShape, channelsFirst: input.channelsFirst)
}

private func exportUnaryMath(_ l: UnaryMath, _ x: [ONNXValue], _ c: ONNXExportContext) throws -> ONNXValue {
    // Element-wise: any layout will do.
    let v = x[0]
    let y: String
    switch l.function {
    case .sqrt: y = c.node("Sqrt", [v.name], name: l.name)
    case .square: y = c.node("Mul", [v.name, v.name], name: l.name)
    case .absolute: y = c.node("Abs", [v.name], name: l.name)
    case .negative: y = c.node("Neg", [v.name], name: l.name)
    case .log: y = c.node("Log", [v.name], name: l.name)
    case .reciprocal: y = c.node("Reciprocal", [v.name], name: l.name)
    }
    return ONNXValue(name: y, kerasShape: v.kerasShape, channelsFirst: v.channelsFirst)
}

/// ONNX `Slice` bounds for Python's: a negative step's end before index 0
/// is `-(size + 1)` (ONNX reads -1 as the last element).
private func exportStridedSlice(_ l: StridedSlice, _ x: [ONNXValue], _ c: ONNXExportContext) throws -> ONNXValue {
    let input = c.channelsLast(x[0])
    let out = try l.outputShape(for: input.kerasShape)
    var starts: [Int64] = [], ends: [Int64] = [], axes: [Int64] = [], steps: [Int64] = []
    var squeezed: [Int64] = []
    for (k, (axis, size)) in zip(l.axes, input.kerasShape).enumerated() {
        if axis == .all { continue }
        let positions = try StridedSlice.positions(axis, size: size)
        let step: Int
        if case .range(_, _, let s) = axis { step = s } else { step = 1; squeezed.append(Int64(k + 1)) }
        let first = positions[0]
        var end = first + positions.count * step
        if end < 0 { end = -(size + 1) }
        starts.append(Int64(first)); ends.append(Int64(end)); axes.append(Int64(k + 1)); steps.append(Int64(step))
    }
    var y = input.name
    if !axes.isEmpty {
        let n = axes.count
        y = c.node("Slice", [y, c.constant(l.name + "_starts", shape: [n], int64s: starts), c.constant(l.name + "_ends", shape: [n], int64s: ends),
                             c.constant(l.name + "_axes", shape: [n], int64s: axes), c.constant(l.name + "_steps", shape: [n], int64s: steps)],
                   name: squeezed.isEmpty ? l.name : l.name + "_slice")
    }
    if !squeezed.isEmpty {
        y = c.node("Squeeze", [y, c.constant(l.name + "_squeezed", shape: [squeezed.count], int64s: squeezed)], name: l.name)
    }
    if axes.isEmpty && squeezed.isEmpty { y = c.node("Identity", [y], name: l.name) }
    return ONNXValue(name: y, kerasShape: out, channelsFirst: false)
}

private func exportStack(_ l: Stack, _ x: [ONNXValue], _ c: ONNXExportContext) throws -> ONNXValue {
    let inputs = x.map { c.channelsLast($0) }
    let out = try l.outputShape(forInputs: inputs.map(\.kerasShape))
    // The new axis in ONNX order (batch first).
    let axis = Int64((l.axis < 0 ? out.count + l.axis : l.axis) + 1)
    let axes = c.constant(l.name + "_axis", shape: [1], int64s: [axis])
    let expanded = inputs.enumerated().map { k, v in c.node("Unsqueeze", [v.name, axes], name: l.name + "_expand_\(k)") }
    let y = c.node("Concat", expanded, [ONNXAttribute("axis", .int(axis))], name: l.name)
    return ONNXValue(name: y, kerasShape: out, channelsFirst: false)
}

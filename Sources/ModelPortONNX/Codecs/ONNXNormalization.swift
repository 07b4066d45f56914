import ModelPortRuntime

/// Normalization: Keras `BatchNormalization` <-> ONNX `BatchNormalization`
/// (images and vectors; other ranks export as a per-channel `Mul` + `Add`),
/// `LayerNormalization` <-> `LayerNormalization` (opset 17+, decomposed with
/// `ReduceMean` before), and the exports of `Normalization` (`Sub`, `Div`) and
/// `Rescaling` (`Mul`, `Add`; imported by the merges family from a scalar
/// `Mul`/`Add`/`Sub`). ONNX-only, both ways (no core Keras layer):
/// `LRN` <-> `LocalResponseNormalization`, `InstanceNormalization` <->
/// `InstanceNormalization`, `LpNormalization` <-> `LpNormalization`.
extension ONNXFamily {
    static let normalization = ONNXFamily(
        "normalization",
        imports: [
            ONNXOpImport("BatchNormalization", minimumInputs: 5, importBatchNormalization),
            ONNXOpImport("LayerNormalization", minimumInputs: 2, since: 17, importLayerNormalization),
            ONNXOpImport("LRN", importLRN),
            ONNXOpImport("InstanceNormalization", minimumInputs: 3, importInstanceNormalization),
            ONNXOpImport("LpNormalization", importLpNormalization),
        ],
        exports: [
            .layer(BatchNormalization.self, ["BatchNormalization"], exportBatchNormalization),
            .layer(LayerNormalization.self, ["LayerNormalization"], exportLayerNormalization),
            .layer(Normalization.self, ["Normalization"], exportNormalization),
            .layer(UnitNormalization.self, ["UnitNormalization"], exportUnitNormalization),
            .layer(Rescaling.self, ["Rescaling"], exportRescaling),
            .layer(LocalResponseNormalization.self, ["LocalResponseNormalization"], exportLRN),
            .layer(InstanceNormalization.self, ["InstanceNormalization"], exportInstanceNormalization),
            .layer(LpNormalization.self, ["LpNormalization"], exportLpNormalization),
        ])
}

// MARK: - Import

private func importBatchNormalization(_ n: ONNXNodeProto, _ i: Int, _ c: ONNXImportContext) throws {
    var a = Attributes(n, c, ignoring: ["momentum"])
    let epsilon = try a.float("epsilon", 1e-5)
    if c.opset >= 14 { try a.require("training_mode", int: 0) }
    // Opset 6: `is_test` (default 0, training: normalize by the batch's own statistics).
    if c.opset < 7, try a.int("is_test", 0) == 0 {
        throw c.error("is_test=0 (opset \(c.opset)'s default) normalizes by the batch's own statistics (training mode), which ModelPort does not run; only is_test=1 (inference) is supported")
    }
    // Opsets 6 to 8: `spatial` (default 1, per channel); 0 would normalize each element with its own statistics.
    if c.opset < 9 { try a.require("spatial", int: 1) }
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
    c.output(n, ImportedValue(node: node, onnxShape: x.onnxShape, perm: input.perm))
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
    c.output(n, ImportedValue(node: try c.add(layer, [input]), onnxShape: x.onnxShape, perm: input.perm))
}

/// Across the channels (ONNX axis 1) of (N, C, ...), at any rank: the runtime layer works on the last axis.
private func importLRN(_ n: ONNXNodeProto, _ i: Int, _ c: ONNXImportContext) throws {
    var a = Attributes(n, c)
    let size = try a.int("size", 0)
    let alpha = try a.float("alpha", 1e-4), beta = try a.float("beta", 0.75), bias = try a.float("bias", 1)
    try a.finish()
    guard (1...ONNXImportContext.maxWindowValue).contains(size) else {
        throw c.error("LRN needs its 'size' attribute between 1 and \(ONNXImportContext.maxWindowValue), got \(size)")
    }
    guard alpha.isFinite, beta.isFinite, bias.isFinite else { throw c.error("LRN alpha \(alpha), beta \(beta) and bias \(bias) must be finite") }
    let x = try c.value(n.inputs[0])
    guard !x.onnxShape.isEmpty else { throw c.error("LRN needs an input with a channel axis (N, C, ...)") }
    let input = try c.channelsLast(x)
    let layer = LocalResponseNormalization(name: c.layerName("LocalResponseNormalization"), size: size, alpha: alpha, beta: beta, bias: bias)
    c.output(n, ImportedValue(node: try c.add(layer, [input]), onnxShape: x.onnxShape, perm: input.perm))
}

/// Each channel (ONNX axis 1) of (N, C, D1, ...) normalized over D1, ...
private func importInstanceNormalization(_ n: ONNXNodeProto, _ i: Int, _ c: ONNXImportContext) throws {
    var a = Attributes(n, c)
    let epsilon = try a.float("epsilon", 1e-5)
    try a.finish()
    let x = try c.value(n.inputs[0])
    guard x.onnxShape.count >= 2 else { throw c.error("InstanceNormalization needs an input (N, C, D1, ...) with at least one axis after the channels") }
    let channels = x.onnxShape[0]
    let scale = try c.constant(n.inputs[1]), bias = try c.constant(n.inputs[2])
    guard scale.values.count == channels, bias.values.count == channels else {
        throw c.error("scale (\(scale.values.count) values) and B (\(bias.values.count)) must hold one value per channel (\(channels))")
    }
    try c.reserve([2, channels], for: "the InstanceNormalization parameters")
    let layer = InstanceNormalization(name: c.layerName("InstanceNormalization"), channels: channels, epsilon: epsilon)
    layer.gamma.value = Tensor(shape: [channels], scalars: scale.values.map { Float($0) })
    layer.beta.value = Tensor(shape: [channels], scalars: bias.values.map { Float($0) })
    let input = try c.channelsLast(x)
    c.output(n, ImportedValue(node: try c.add(layer, [input]), onnxShape: x.onnxShape, perm: input.perm))
}

/// Over any axis but the batch axis, in whatever layout the value is held.
private func importLpNormalization(_ n: ONNXNodeProto, _ i: Int, _ c: ONNXImportContext) throws {
    var a = Attributes(n, c)
    let axis = try a.int("axis", -1), p = try a.int("p", 2)
    try a.finish()
    guard p == 1 || p == 2 else { throw c.error("LpNormalization p = \(p) is not supported (ONNX defines 1 and 2)") }
    let x = try c.value(n.inputs[0])
    let rank = x.onnxShape.count + 1
    guard (-rank..<rank).contains(axis) else { throw c.error("axis \(axis) is outside the input's \(rank) axes") }
    let onnxAxis = axis < 0 ? axis + rank : axis
    guard onnxAxis != 0 else { throw c.error("LpNormalization over axis 0, ModelPort's batch axis, is not supported") }
    let runtimeAxis = x.perm.firstIndex(of: onnxAxis - 1)!
    let layer = LpNormalization(name: c.layerName("LpNormalization"), axis: runtimeAxis, p: p)
    c.output(n, ImportedValue(node: try c.add(layer, [x]), onnxShape: x.onnxShape, perm: x.perm))
}

// MARK: - Export

private func exportBatchNormalization(_ l: BatchNormalization, _ x: [ONNXValue], _ c: ONNXExportContext) throws -> ONNXValue {
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

private func exportLayerNormalization(_ l: LayerNormalization, _ x: [ONNXValue], _ c: ONNXExportContext) throws -> ONNXValue {
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

private func exportNormalization(_ l: Normalization, _ x: [ONNXValue], _ c: ONNXExportContext) throws -> ONNXValue {
    let input = c.channelsLast(x[0])
    let f = l.features
    let denominators = l.variance.value.scalars.map { max($0.squareRoot(), l.epsilon) }
    let shape = f == 1 ? [] : [f]
    let centered = c.node("Sub", [input.name, c.constant(l.name + "_mean", shape: shape, l.mean.value.scalars)], name: l.name + "_centered")
    let y = c.node("Div", [centered, c.constant(l.name + "_denominator", shape: shape, denominators)], name: l.name)
    return ONNXValue(name: y, kerasShape: input.kerasShape, channelsFirst: false)
}

private func exportRescaling(_ l: Rescaling, _ x: [ONNXValue], _ c: ONNXExportContext) throws -> ONNXValue {
    var y = c.node("Mul", [x[0].name, c.scalar(l.name + "_scale", l.scale)], name: l.offset == 0 ? l.name : l.name + "_scale")
    if l.offset != 0 { y = c.node("Add", [y, c.scalar(l.name + "_offset", l.offset)], name: l.name) }
    return ONNXValue(name: y, kerasShape: x[0].kerasShape, channelsFirst: x[0].channelsFirst)
}

/// x / max(sqrt(sum(x²)), 1 / cap), the sum over the last axis as a MatMul by
/// ones (the same in every opset; Reduce* moved `axes` to an input in 18).
private func exportUnitNormalization(_ l: UnitNormalization, _ x: [ONNXValue], _ c: ONNXExportContext) throws -> ONNXValue {
    let input = c.channelsLast(x[0])
    guard let f = input.kerasShape.last else { throw ONNXError(file: "", node: l.name, message: "UnitNormalization needs an input with a last axis") }
    let squared = c.node("Mul", [input.name, input.name], name: l.name + "_squared")
    let sum = c.node("MatMul", [squared, c.constant(l.name + "_ones", shape: [f, 1], .init(repeating: 1, count: f))], name: l.name + "_sum")
    let norm = c.node("Sqrt", [sum], name: l.name + "_norm")
    let floor = c.node("Max", [norm, c.scalar(l.name + "_floor", 1 / l.maxInverseNorm)], name: l.name + "_floored")
    let y = c.node("Div", [input.name, floor], name: l.name)
    return ONNXValue(name: y, kerasShape: input.kerasShape, channelsFirst: false)
}

/// ONNX's LRN normalizes axis 1 of (N, C, H, W): the image channels-first.
private func exportLRN(_ l: LocalResponseNormalization, _ x: [ONNXValue], _ c: ONNXExportContext) throws -> ONNXValue {
    let input = try imageInput(l, x[0], c)
    let y = c.node("LRN", [input.name], [ONNXAttribute("size", .int(Int64(l.size))), ONNXAttribute("alpha", .float(l.alpha)),
                                         ONNXAttribute("beta", .float(l.beta)), ONNXAttribute("bias", .float(l.bias))], name: l.name)
    return ONNXValue(name: y, kerasShape: input.kerasShape, channelsFirst: true)
}

private func exportInstanceNormalization(_ l: InstanceNormalization, _ x: [ONNXValue], _ c: ONNXExportContext) throws -> ONNXValue {
    guard x[0].kerasShape.count >= 2 else { throw c.error(l, "expects an input with positions and channels, got \(x[0].kerasShape)") }
    let input = c.channelsFirst(x[0])
    let y = c.node("InstanceNormalization", [input.name, c.constant(l.name + "_scale", shape: [l.channels], l.gamma.value.scalars),
                                             c.constant(l.name + "_bias", shape: [l.channels], l.beta.value.scalars)],
                   [ONNXAttribute("epsilon", .float(l.epsilon))], name: l.name)
    return ONNXValue(name: y, kerasShape: input.kerasShape, channelsFirst: true)
}

private func exportLpNormalization(_ l: LpNormalization, _ x: [ONNXValue], _ c: ONNXExportContext) throws -> ONNXValue {
    let y = c.node("LpNormalization", [x[0].name], [ONNXAttribute("axis", .int(Int64(x[0].onnxAxis(ofKerasSampleAxis: l.axis)))),
                                                    ONNXAttribute("p", .int(Int64(l.p)))], name: l.name)
    return ONNXValue(name: y, kerasShape: x[0].kerasShape, channelsFirst: x[0].channelsFirst)
}

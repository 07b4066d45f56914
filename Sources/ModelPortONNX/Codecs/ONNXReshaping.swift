import ModelPortRuntime

/// Reshaping: Keras `Flatten`, `Reshape`, `Permute` (<-> `Transpose`, which
/// imports as a change of layout only), `RepeatVector` (<-> `Unsqueeze` +
/// `Tile`), `Padding2D` (`ZeroPadding2D` <-> `Pad`, `Cropping2D` <-> `Slice`)
/// and `UpSampling2D` (<-> nearest or half-pixel linear `Resize`); `Squeeze`/`Unsqueeze` and
/// `Slice` of constants are shape arithmetic.
extension ONNXFamily {
    static let reshaping = ONNXFamily(
        "reshaping",
        imports: [
            ONNXOpImport("Flatten", importFlatten),
            ONNXOpImport("Reshape", minimumInputs: 2, importReshape),
            ONNXOpImport("Transpose", importTranspose),
            ONNXOpImport("Pad", minimumInputs: 2, importPad),
            ONNXOpImport("Slice", minimumInputs: 3, importSlice),
            ONNXOpImport("Resize", importResize),
            ONNXOpImport("Tile", minimumInputs: 2, importTile),
            ONNXOpImport("Unsqueeze", importUnsqueeze),
            ONNXOpImport("Squeeze", importSqueeze),
        ],
        exports: [
            .layer(Flatten.self, ["Flatten"], exportFlatten),
            .layer(Reshape.self, ["Reshape"], exportReshape),
            .layer(Permute.self, ["Permute"], exportPermute),
            .layer(RepeatVector.self, ["RepeatVector"], exportRepeatVector),
            .layer(Padding2D.self, ["ZeroPadding2D", "Cropping2D"], exportPadding2D),
            .layer(UpSampling2D.self, ["UpSampling2D"], exportUpSampling2D),
        ])
}

// MARK: - Import

private func importFlatten(_ n: ONNXNodeProto, _ i: Int, _ c: ONNXImportContext) throws {
    var a = Attributes(n, c)
    let axis = try a.int("axis", 1)
    try a.finish()
    guard axis == 1 else { throw c.error("Flatten with axis=\(axis) is not supported (only 1: keep the batch axis)") }
    let x = try c.identityLayout(try c.value(n.inputs[0]))
    let node = try c.add(Flatten(name: c.layerName("Flatten")), [x])
    c.output(n, ImportedValue(node: node, onnxShape: [x.onnxShape.reduce(1, *)], perm: [0]))
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
    if sample == x.onnxShape { c.output(n, input); return }
    let node = try c.add(Reshape(name: c.layerName("Reshape"), targetShape: sample), [input])
    c.output(n, ImportedValue(node: node, onnxShape: sample, perm: Array(0..<sample.count)))
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
    c.output(n, ImportedValue(node: x.node, onnxShape: p.map { x.onnxShape[$0] }, perm: x.perm.map { inverse[$0] }))
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
    c.output(n, c.imageValue(ofNode: node))
}

private func importSlice(_ n: ONNXNodeProto, _ i: Int, _ c: ONNXImportContext) throws {
    try Attributes(n, c).finish()
    let starts = try c.ints(n.inputs[1]), ends = try c.ints(n.inputs[2])
    let axes = n.inputs.count > 3 && !n.inputs[3].isEmpty ? try c.ints(n.inputs[3]) : Array(0..<starts.count)
    let steps = n.inputs.count > 4 && !n.inputs[4].isEmpty ? try c.ints(n.inputs[4]) : [Int](repeating: 1, count: starts.count)
    guard ends.count == starts.count, axes.count == starts.count, steps.count == starts.count else {
        throw c.error("Slice starts \(starts), ends \(ends), axes \(axes) and steps \(steps) differ in length")
    }
    func clamp(_ k: Int, _ size: Int) -> Int { max(0, min(size, k < 0 ? k + size : k)) }
    if c.isConstant(n.inputs[0]) {
        guard steps.allSatisfy({ $0 == 1 }) else { throw c.error("Slice with steps \(steps) is not supported (only 1)") }
        let data = try c.symbolicInts(n.inputs[0])
        guard axes == [0] || axes == [-1] else { throw c.error("Slice of a constant is only supported on one axis of a vector") }
        let s = clamp(starts[0], data.count), e = clamp(ends[0], data.count)
        c.symbolic[n.outputs[0]] = s < e ? Array(data[s..<e]) : []
        return
    }
    // On an image (N, C, H, W), steps 1 on the spatial axes: cropping; anything else a StridedSlice.
    let x = try c.value(n.inputs[0])
    let spatial = x.onnxShape.count == 3 && axes.allSatisfy { $0 == 2 || $0 == 3 || $0 == -2 || $0 == -1 }
    guard spatial, steps.allSatisfy({ $0 == 1 }) else {
        try importStridedSlice(n, x, starts: starts, ends: ends, axes: axes, steps: steps, c)
        return
    }
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
    c.output(n, c.imageValue(ofNode: node))
}

/// A general `Slice` of a computed tensor, in ONNX order (Python's slice
/// semantics hold for the bounds exporters write).
private func importStridedSlice(_ n: ONNXNodeProto, _ x: ImportedValue, starts: [Int], ends: [Int], axes: [Int], steps: [Int],
                                _ c: ONNXImportContext) throws {
    let input = try c.identityLayout(x)
    let rank = x.onnxShape.count + 1
    var sliced = [StridedSlice.Axis](repeating: .all, count: x.onnxShape.count)
    for (k, axis) in axes.enumerated() {
        let a = axis < 0 ? axis + rank : axis
        guard a >= 1, a < rank else { throw c.error("Slice on axis \(axis) (the batch axis or outside the rank) is not supported") }
        guard steps[k] != 0 else { throw c.error("Slice step 0 is invalid") }
        sliced[a - 1] = .range(start: starts[k], stop: ends[k], step: steps[k])
    }
    let node = try c.add(StridedSlice(name: c.layerName("StridedSlice"), axes: sliced), [input])
    let shape = c.shape(ofNode: node)
    c.output(n, ImportedValue(node: node, onnxShape: shape, perm: Array(0..<shape.count)))
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
    // Keras's nearest (floor of out / factor) or bilinear (TensorFlow's half-pixel centres).
    let interpolation: UpSampling2D.Interpolation? = mode == "nearest" && transform == "asymmetric" && nearest == "floor" ? .nearest
        : mode == "linear" && (transform == "half_pixel" || transform == "pytorch_half_pixel") ? .bilinear : nil
    guard let interpolation, factors.count == 4, factors[0] == 1, factors[1] == 1,
          factors[2] >= 1, factors[3] >= 1, factors[2].rounded() == factors[2], factors[3].rounded() == factors[3],
          factors[2] <= Double(ONNXImportContext.maxWindowValue), factors[3] <= Double(ONNXImportContext.maxWindowValue) else {
        throw c.error("Resize is supported as Keras UpSampling2D only: nearest (asymmetric, floor) or linear (half_pixel), integer scales on H and W up to \(ONNXImportContext.maxWindowValue) (got mode \(mode), \(transform), \(nearest), scales \(factors))")
    }
    let node = try c.add(UpSampling2D(name: c.layerName("UpSampling2D"), size: (Int(factors[2]), Int(factors[3])), interpolation: interpolation),
                         [try c.channelsLast(x)])
    c.output(n, c.imageValue(ofNode: node))
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
    c.output(n, ImportedValue(node: node, onnxShape: [repeats[1], x.onnxShape[1]], perm: [0, 1]))
}

private func importUnsqueeze(_ n: ONNXNodeProto, _ i: Int, _ c: ONNXImportContext) throws {
    try Attributes(n, c, ignoring: ["axes"]).finish()
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
        c.output(n, ImportedValue(node: node, onnxShape: shape, perm: Array(0..<shape.count)))
        return
    }
    let data = try c.symbolicInts(n.inputs[0])
    guard data.count == 1 else { throw c.error("Unsqueeze is only supported on scalars (shape arithmetic)") }
    c.symbolic[n.outputs[0]] = data
}

private func importSqueeze(_ n: ONNXNodeProto, _ i: Int, _ c: ONNXImportContext) throws {
    try Attributes(n, c, ignoring: ["axes"]).finish()
    if !c.isConstant(n.inputs[0]) {
        // Removing size-1 axes: a Reshape in ONNX order.
        let x = try c.identityLayout(try c.value(n.inputs[0]))
        guard n.inputs.count > 1, !n.inputs[1].isEmpty else { throw c.error("Squeeze of a computed tensor needs its axes input (opset 13 and later)") }
        let rank = x.onnxShape.count + 1
        let axes = Set(try c.ints(n.inputs[1]).map { $0 < 0 ? $0 + rank : $0 })
        guard !axes.contains(0), axes.allSatisfy({ $0 >= 1 && $0 < rank && x.onnxShape[$0 - 1] == 1 }), axes.count < rank - 1 else {
            throw c.error("Squeeze on axes \(axes.sorted()) (the batch axis, out of range, not of size 1, or every axis) is not supported")
        }
        let shape = x.onnxShape.enumerated().filter { !axes.contains($0.offset + 1) }.map(\.element)
        let node = try c.add(Reshape(name: c.layerName("Reshape"), targetShape: shape), [x])
        c.output(n, ImportedValue(node: node, onnxShape: shape, perm: Array(0..<shape.count)))
        return
    }
    let data = try c.symbolicInts(n.inputs[0])
    guard data.count == 1 else { throw c.error("Squeeze is only supported on one-element vectors (shape arithmetic)") }
    if case .known(let k) = data[0] { c.constants[n.outputs[0]] = ConstantTensor(shape: [], values: [Double(k)]) }
    else { c.symbolic[n.outputs[0]] = data }
}

// MARK: - Export

/// Flatten in Keras's (channels-last) order: a channels-first value is
/// transposed back first, so features keep Keras's order for the Dense after.
private func exportFlatten(_ layer: Flatten, _ x: [ONNXValue], _ c: ONNXExportContext) throws -> ONNXValue {
    let input = c.channelsLast(x[0])
    if input.kerasShape.count == 1 { return input }
    let y = c.node("Flatten", [input.name], [ONNXAttribute("axis", .int(1))], name: layer.name)
    return ONNXValue(name: y, kerasShape: [input.kerasShape.reduce(1, *)], channelsFirst: false)
}

private func exportReshape(_ layer: Reshape, _ x: [ONNXValue], _ c: ONNXExportContext) throws -> ONNXValue {
    let input = c.channelsLast(x[0])
    let out = try layer.outputShape(for: input.kerasShape)
    // 0 keeps the (dynamic) batch size.
    let shape = c.constant(layer.name + "_shape", shape: [out.count + 1], int64s: [0] + out.map { Int64($0) })
    return ONNXValue(name: c.node("Reshape", [input.name, shape], name: layer.name), kerasShape: out, channelsFirst: false)
}

private func exportPermute(_ l: Permute, _ x: [ONNXValue], _ c: ONNXExportContext) throws -> ONNXValue {
    let input = c.channelsLast(x[0])
    let y = c.node("Transpose", [input.name], [ints("perm", [0] + l.dims)], name: l.name)
    return ONNXValue(name: y, kerasShape: try l.outputShape(for: input.kerasShape), channelsFirst: false)
}

private func exportRepeatVector(_ l: RepeatVector, _ x: [ONNXValue], _ c: ONNXExportContext) throws -> ONNXValue {
    let input = c.channelsLast(x[0])
    let expanded = c.node("Unsqueeze", [input.name, c.constant(l.name + "_axes", shape: [1], int64s: [1])], name: l.name + "_unsqueeze")
    let y = c.node("Tile", [expanded, c.constant(l.name + "_repeats", shape: [3], int64s: [1, Int64(l.count), 1])], name: l.name)
    return ONNXValue(name: y, kerasShape: try l.outputShape(for: input.kerasShape), channelsFirst: false)
}

private func exportPadding2D(_ l: Padding2D, _ x: [ONNXValue], _ c: ONNXExportContext) throws -> ONNXValue {
    let input = try imageInput(l, x[0], c)
    let s = input.kerasShape
    let out = try l.outputShape(for: s)
    let y: String
    if l.kind == .zeroPad {
        let pads = c.constant(l.name + "_pads", shape: [8], int64s: [0, 0, l.top, l.left, 0, 0, l.bottom, l.right].map { Int64($0) })
        y = c.node("Pad", [input.name, pads], [ONNXAttribute("mode", .string("constant"))], name: l.name)
    } else {
        let starts = c.constant(l.name + "_starts", shape: [2], int64s: [Int64(l.top), Int64(l.left)])
        let ends = c.constant(l.name + "_ends", shape: [2], int64s: [Int64(s[0] - l.bottom), Int64(s[1] - l.right)])
        let axes = c.constant(l.name + "_axes", shape: [2], int64s: [2, 3])
        y = c.node("Slice", [input.name, starts, ends, axes], name: l.name)
    }
    return ONNXValue(name: y, kerasShape: out, channelsFirst: true)
}

private func exportUpSampling2D(_ l: UpSampling2D, _ x: [ONNXValue], _ c: ONNXExportContext) throws -> ONNXValue {
    let input = try imageInput(l, x[0], c)
    let scales = c.constant(l.name + "_scales", shape: [4], [1, 1, Float(l.size.y), Float(l.size.x)])
    // Integer factors with floor(out / factor) are exactly Keras's nearest neighbour;
    // linear with half-pixel centres is TensorFlow's bilinear resize.
    let attributes = l.interpolation == .nearest
        ? [ONNXAttribute("mode", .string("nearest")), ONNXAttribute("coordinate_transformation_mode", .string("asymmetric")),
           ONNXAttribute("nearest_mode", .string("floor"))]
        : [ONNXAttribute("mode", .string("linear")), ONNXAttribute("coordinate_transformation_mode", .string("half_pixel"))]
    let y = c.node("Resize", [input.name, "", scales], attributes, name: l.name)
    return ONNXValue(name: y, kerasShape: try l.outputShape(for: input.kerasShape), channelsFirst: true)
}

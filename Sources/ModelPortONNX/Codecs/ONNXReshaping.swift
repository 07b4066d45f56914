import ModelPortRuntime

/// Reshaping: Keras `Flatten`, `Reshape`, `Permute` (<-> `Transpose`, which
/// imports as a change of layout only), `RepeatVector` (<-> `Unsqueeze` +
/// `Tile`), `Padding2D` (`ZeroPadding2D` <-> `Pad`, `Cropping2D` <-> `Slice`),
/// `Pad2D` (ONNX-only: `Pad` with a non-zero constant, reflect, edge or wrap)
/// and `UpSampling2D` (<-> nearest or half-pixel linear `Resize`), `Resize2D`
/// (ONNX-only: every other `Resize` of H and W); `Squeeze`/`Unsqueeze` and
/// `Slice` of constants are shape arithmetic.
extension ONNXFamily {
    static let reshaping = ONNXFamily(
        "reshaping",
        imports: [
            ONNXOpImport("Flatten", importFlatten),
            ONNXOpImport("Reshape", minimumInputs: 2, importReshape),
            ONNXOpImport("Transpose", importTranspose),
            ONNXOpImport("Pad", importPad),
            ONNXOpImport("Slice", importSlice),
            ONNXOpImport("Resize", since: 10, importResize),
            ONNXOpImport("Upsample", since: 7, importUpsample),
            ONNXOpImport("Split", importSplit),
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
            .layer(Pad2D.self, ["Pad2D"], exportPad2D),
            .layer(Resize2D.self, ["Resize2D"], exportResize2D),
            .layer(UpSampling2D.self, ["UpSampling2D"], exportUpSampling2D),
        ])
}

// MARK: - Import

private func importFlatten(_ n: ONNXNodeProto, _ i: Int, _ c: ONNXImportContext) throws {
    var a = Attributes(n, c)
    let axis = try a.int("axis", 1)
    try a.finish()
    let x = try c.value(n.inputs[0])
    let rank = x.onnxShape.count + 1
    let k = axis < 0 ? axis + rank : axis
    // Axis k > 1 keeps the batch only when the axes it merges into it (1..<k) all have size 1.
    guard k >= 1, k <= rank, x.onnxShape[..<(k - 1)].allSatisfy({ $0 == 1 }) else {
        throw c.error("Flatten with axis=\(axis) on \([-1] + x.onnxShape) would merge sample axes into the batch axis, which is not supported (only axis 1, or axes after size-1 ones)")
    }
    if k == rank {
        // (N, 1, ..., 1) -> (N, 1).
        let node = try c.add(Reshape(name: c.layerName("Reshape"), targetShape: [1]), [try c.identityLayout(x)])
        c.output(n, ImportedValue(node: node, onnxShape: [1], perm: [0]))
        return
    }
    try c.flatten(x, into: n.outputs[0])
}

private func importReshape(_ n: ONNXNodeProto, _ i: Int, _ c: ONNXImportContext) throws {
    var a = Attributes(n, c)
    try a.require("allowzero", int: 0)
    try a.finish()
    if let k = c.constants[n.inputs[0]] {
        // A constant (Caffe2's zoo models reshape their Gemm weights): the same values in the new shape.
        let target = try c.ints(n.inputs[1])
        var shape = target.enumerated().map { i, d in d == 0 && i < k.shape.count ? k.shape[i] : d }
        guard shape.allSatisfy({ $0 >= -1 }), shape.filter({ $0 == -1 }).count <= 1 else {
            throw c.error("Reshape of constant '\(n.inputs[0])' to \(target) is invalid")
        }
        let known = try c.product(shape.filter { $0 != -1 }, of: "Reshape target")
        if let unknown = shape.firstIndex(of: -1) {
            guard known > 0, k.values.count % known == 0 else { throw c.error("Reshape of constant \(k.shape) to \(target) does not fit its \(k.values.count) values") }
            shape[unknown] = k.values.count / known
        }
        guard try c.product(shape, of: "Reshape target") == k.values.count else {
            throw c.error("Reshape of constant \(k.shape) to \(target) does not fit its \(k.values.count) values")
        }
        c.constants[n.outputs[0]] = ConstantTensor(shape: shape, values: k.values)
        return
    }
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
    let oneSample = try unknown == 0 && c.product(sample, of: "Reshape target") == size
    switch target[0] {
    case .batch, .known(0): break
    case .known(-1) where unknown == 0:
        guard try c.product(sample, of: "Reshape target") == size else { throw c.error("Reshape to \(target) would change the batch size") }
    case .known(let k) where k >= 1 && oneSample:
        // The batch size the exporter traced, written as a constant (PyTorch's
        // `[1, 25088]`): the rest is one sample, so any other batch size makes
        // the ONNX Reshape itself fail; ModelPort keeps the batch.
        break
    case .known(let k) where k >= 1 && unknown > 0:
        throw c.error("Reshape to \(target) fixes the batch axis to \(k) and the rest depends on the batch size, which is not supported (only a constant batch with the rest one whole sample)")
    default: throw c.error("Reshape to \(target) changes the batch axis, which is not supported")
    }
    guard unknown <= 1, sample.allSatisfy({ $0 == -1 || $0 > 0 }) else { throw c.error("Reshape target \(target) is not valid") }
    if unknown == 1 {
        let known = try c.product(sample.filter { $0 != -1 }, of: "Reshape target")
        guard known > 0, size % known == 0 else { throw c.error("cannot reshape \(x.onnxShape) to \(target)") }
        sample = sample.map { $0 == -1 ? size / known : $0 }
    }
    guard try c.product(sample, of: "Reshape target") == size else { throw c.error("cannot reshape \(x.onnxShape) (\(size) elements) to \(sample)") }
    if sample == x.onnxShape { c.output(n, try c.identityLayout(x)); return }
    // x.view(x.size(0), -1): a flattening, which a dense layer can read in the runtime's order.
    if sample.count == 1, x.onnxShape.count > 1 { try c.flatten(x, into: n.outputs[0]); return }
    let input = try c.identityLayout(x)
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
    let x = try c.value(n.inputs[0])
    let rank = x.onnxShape.count + 1
    var pads: [Int]
    var value: Float = 0
    if c.opset < 11 {
        // Before opset 11, `pads` and `value` are attributes.
        guard let p = try a.ints("pads", nil) else { throw c.error("Pad needs its 'pads' attribute (before opset 11)") }
        pads = p
        value = try a.float("value", 0)
    } else {
        guard n.inputs.count > 1, !n.inputs[1].isEmpty else { throw c.error("Pad needs its 'pads' input (opset 11 and later)") }
        pads = try c.ints(n.inputs[1])
        if n.inputs.count > 2, !n.inputs[2].isEmpty {
            let v = try c.constant(n.inputs[2])
            guard v.values.count == 1 else { throw c.error("Pad's constant_value must be one value, got \(v.values.count)") }
            value = Float(v.values[0])
        }
        if n.inputs.count > 3, !n.inputs[3].isEmpty {
            // Opset 18's `axes`: the pads of the listed axes; the others get none.
            let axes = try c.ints(n.inputs[3])
            guard pads.count == 2 * axes.count else { throw c.error("Pad has \(pads.count) pads for \(axes.count) axes") }
            var full = [Int](repeating: 0, count: 2 * rank)
            for (k, axis) in axes.enumerated() {
                guard (-rank..<rank).contains(axis) else { throw c.error("Pad axis \(axis) is outside the input's \(rank) axes") }
                let r = axis < 0 ? axis + rank : axis
                full[r] = pads[k]
                full[r + rank] = pads[k + axes.count]
            }
            pads = full
        }
    }
    try a.finish()
    guard ["constant", "reflect", "edge", "wrap"].contains(mode) else { throw c.error("Pad mode '\(mode)' is not supported (constant, reflect, edge, wrap)") }
    guard value.isFinite else { throw c.error("padding with the constant \(value) is not supported (only finite values)") }
    guard x.onnxShape.count == 3, pads.count == 8, pads[0] == 0, pads[1] == 0, pads[4] == 0, pads[5] == 0, pads.allSatisfy({ $0 >= 0 }) else {
        throw c.error("only padding the spatial axes of (N, C, H, W) is supported, got pads \(pads)")
    }
    try c.checkWindow(pads, "pads")
    let (top, left, bottom, right) = (pads[2], pads[3], pads[6], pads[7])
    let layer: any Layer
    switch mode {
    case "constant" where value == 0:
        layer = Padding2D(name: c.layerName("ZeroPadding2D"), kind: .zeroPad, top: top, bottom: bottom, left: left, right: right)
    default:
        let m: Pad2D.Mode = mode == "reflect" ? .reflect : mode == "edge" ? .edge : mode == "wrap" ? .wrap : .constant(value)
        layer = Pad2D(name: c.layerName("Pad2D"), mode: m, top: top, bottom: bottom, left: left, right: right)
    }
    let node = try c.add(layer, [try c.channelsLast(x)])
    c.output(n, c.imageValue(ofNode: node))
}

private func importSlice(_ n: ONNXNodeProto, _ i: Int, _ c: ONNXImportContext) throws {
    var a = Attributes(n, c)
    let starts: [Int], ends: [Int], axes: [Int], steps: [Int]
    if c.opset < 10 {
        // Before opset 10: starts, ends and axes are attributes, steps are 1.
        guard let s = try a.ints("starts", nil), let e = try a.ints("ends", nil) else {
            throw c.error("Slice needs its 'starts' and 'ends' attributes (before opset 10)")
        }
        (starts, ends) = (s, e)
        axes = try a.ints("axes", nil) ?? Array(0..<s.count)
        steps = [Int](repeating: 1, count: s.count)
    } else {
        guard n.inputs.count >= 3 else { throw c.error("Slice needs its starts and ends inputs (opset 10 and later)") }
        starts = try c.ints(n.inputs[1])
        ends = try c.ints(n.inputs[2])
        axes = n.inputs.count > 3 && !n.inputs[3].isEmpty ? try c.ints(n.inputs[3]) : Array(0..<starts.count)
        steps = n.inputs.count > 4 && !n.inputs[4].isEmpty ? try c.ints(n.inputs[4]) : [Int](repeating: 1, count: starts.count)
    }
    try a.finish()
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

/// `Upsample` (opsets 7 to 9; deprecated at 10 for `Resize`) and opset 10's
/// `Resize`: scales (an attribute in 7, an input from 9), asymmetric
/// coordinates, and for integer factors onnxruntime's nearest is the floor
/// of out / factor: Keras's nearest `UpSampling2D`. Their linear mode uses
/// asymmetric coordinates, which Keras's bilinear (half-pixel) does not.
private func importUpsample(_ n: ONNXNodeProto, _ i: Int, _ c: ONNXImportContext) throws {
    guard n.opType == "Resize" || c.opset < 10 else {
        throw c.error("Upsample is deprecated from opset 10 (onnxruntime refuses it too); use Resize")
    }
    var a = Attributes(n, c)
    let mode = try a.string("mode", "nearest")
    let factors: [Double]
    if n.opType == "Upsample" && c.opset < 9 {
        guard let f = try a.floats("scales", nil) else { throw c.error("Upsample needs its 'scales' attribute (opsets 7 and 8)") }
        factors = f.map { Double($0) }
    } else {
        guard n.inputs.count > 1, !n.inputs[1].isEmpty else { throw c.error("\(n.opType) needs its scales input") }
        factors = try c.constant(n.inputs[1]).values
    }
    try a.finish()
    let x = try c.value(n.inputs[0])
    guard mode == "nearest" else {
        throw c.error("\(n.opType) mode '\(mode)' (opset \(c.opset): asymmetric coordinates) is not supported; only nearest, which is Keras's UpSampling2D")
    }
    try upsample(n, x, factors: factors, interpolation: .nearest, c, description: "mode \(mode), scales \(factors)")
}

/// UpSampling2D by integer `factors` (N, C, H, W) on H and W.
private func upsample(_ n: ONNXNodeProto, _ x: ImportedValue, factors: [Double], interpolation: UpSampling2D.Interpolation?,
                      _ c: ONNXImportContext, description: String) throws {
    guard x.onnxShape.count == 3 else { throw c.error("only resizing of (N, C, H, W) is supported") }
    guard let interpolation, factors.count == 4, factors[0] == 1, factors[1] == 1,
          factors[2] >= 1, factors[3] >= 1, factors[2].rounded() == factors[2], factors[3].rounded() == factors[3],
          factors[2] <= Double(ONNXImportContext.maxWindowValue), factors[3] <= Double(ONNXImportContext.maxWindowValue) else {
        throw c.error("\(n.opType) is supported as Keras UpSampling2D only: nearest (asymmetric, floor) or linear (half_pixel), integer scales on H and W up to \(ONNXImportContext.maxWindowValue) (got \(description))")
    }
    let node = try c.add(UpSampling2D(name: c.layerName("UpSampling2D"), size: (Int(factors[2]), Int(factors[3])), interpolation: interpolation),
                         [try c.channelsLast(x)])
    c.output(n, c.imageValue(ofNode: node))
}

private func importResize(_ n: ONNXNodeProto, _ i: Int, _ c: ONNXImportContext) throws {
    if c.opset < 11 { return try importUpsample(n, i, c) }
    var a = Attributes(n, c)
    let mode = try a.string("mode", "nearest")
    let transform = try a.string("coordinate_transformation_mode", "half_pixel")
    let nearest = try a.string("nearest_mode", "round_prefer_floor")
    let cubicA = try a.float("cubic_coeff_a", -0.75)
    let excludeOutside = try a.int("exclude_outside", 0)
    let extrapolation = try a.float("extrapolation_value", 0)  // tf_crop_and_resize only
    let antialias = try a.int("antialias", 0)
    let policy = try a.string("keep_aspect_ratio_policy", "stretch")
    let givenAxes = try a.ints("axes", nil)
    try a.finish()
    guard antialias == 0 || mode != "nearest" else { throw c.error("Resize with antialias=1 and mode 'nearest' is not supported (ONNX defines it for linear and cubic)") }
    let x = try c.value(n.inputs[0])
    guard x.onnxShape.count == 3 else { throw c.error("only resizing of (N, C, H, W) is supported") }
    let axes = (givenAxes ?? [0, 1, 2, 3]).map { $0 < 0 ? $0 + 4 : $0 }
    guard Set(axes).count == axes.count, axes.allSatisfy({ (0..<4).contains($0) }) else { throw c.error("Resize axes \(givenAxes ?? []) are repeated or out of range") }
    // Per axis (N, C, H, W): the scale and the output size (the batch axis's size is not known here).
    let input = [1] + x.onnxShape
    var scales = [Double](repeating: 1, count: 4), sizes = input
    if n.inputs.count > 2, !n.inputs[2].isEmpty, let s = c.constants[n.inputs[2]], !s.values.isEmpty {
        guard s.values.count == axes.count else { throw c.error("Resize has \(s.values.count) scales for \(axes.count) axes") }
        for (k, axis) in axes.enumerated() {
            guard s.values[k] > 0, s.values[k] <= Double(ONNXImportContext.maxWindowValue) else {
                throw c.error("Resize scale \(s.values[k]) is not supported (more than 0, at most \(ONNXImportContext.maxWindowValue))")
            }
            scales[axis] = s.values[k]
            sizes[axis] = Int((Double(input[axis]) * s.values[k]).rounded(.down))
        }
    } else if n.inputs.count > 3, !n.inputs[3].isEmpty {
        let given = try c.ints(n.inputs[3])
        guard given.count == axes.count else { throw c.error("Resize has \(given.count) sizes for \(axes.count) axes") }
        for (k, axis) in axes.enumerated() where axis != 0 {
            // A sizes input names the batch size it was made for; the batch axis itself is never resized.
            guard (1...(ONNXImportContext.maxWindowValue * input[axis])).contains(given[k]) else {
                throw c.error("Resize to size \(given[k]) from \(input[axis]) is not supported (empty, or more than \(ONNXImportContext.maxWindowValue) times larger)")
            }
            sizes[axis] = given[k]
            scales[axis] = Double(given[k]) / Double(input[axis])
        }
        switch policy {
        case "stretch": break
        case "not_larger", "not_smaller":
            // The policy's scale is the smallest / largest over the listed axes: H and W only here.
            guard axes.allSatisfy({ $0 >= 2 }) else {
                throw c.error("keep_aspect_ratio_policy '\(policy)' over the batch or channel axis (axes \(axes)) is not supported")
            }
            let spatial = axes
            guard let chosen = policy == "not_larger" ? spatial.map({ scales[$0] }).min() : spatial.map({ scales[$0] }).max() else { break }
            for axis in spatial {
                scales[axis] = chosen
                sizes[axis] = Int(chosen * Double(input[axis]) + 0.5)
            }
        default: throw c.error("keep_aspect_ratio_policy '\(policy)' is not supported (stretch, not_larger, not_smaller)")
        }
    } else { throw c.error("Resize needs constant scales or sizes") }
    // tf_crop_and_resize's region of interest (starts, then ends), per axis; the others (0, 1).
    var roi = [0.0, 0, 0, 0, 1, 1, 1, 1]
    if transform == "tf_crop_and_resize" {
        guard n.inputs.count > 1, !n.inputs[1].isEmpty else { throw c.error("Resize with tf_crop_and_resize needs its roi input") }
        let given = try c.constant(n.inputs[1]).values
        guard given.count == 2 * axes.count, given.allSatisfy({ $0.isFinite && abs($0) <= 1e6 }) else {
            throw c.error("Resize roi \(given) must hold a finite start and end for each of the \(axes.count) axes")
        }
        for (k, axis) in axes.enumerated() { (roi[axis], roi[axis + 4]) = (given[k], given[k + axes.count]) }
        guard roi[0] == 0, roi[1] == 0, roi[4] == 1, roi[5] == 1 else { throw c.error("Resize roi \(roi) crops the batch or channel axis, which is not supported") }
        guard extrapolation.isFinite else { throw c.error("extrapolation_value \(extrapolation) must be finite") }
    }
    guard scales[0] == 1, scales[1] == 1, sizes[1] == input[1] else {
        throw c.error("Resize of the batch or channel axis is not supported (scales \(scales), sizes \(sizes.dropFirst()))")
    }
    guard sizes[2] >= 1, sizes[3] >= 1, sizes[2] <= ONNXImportContext.maxWindowValue * input[2], sizes[3] <= ONNXImportContext.maxWindowValue * input[3] else {
        throw c.error("Resize to \(sizes[2])x\(sizes[3]) from \(input[2])x\(input[3]) is not supported (empty, or more than \(ONNXImportContext.maxWindowValue) times larger)")
    }
    // Keras's nearest (floor of out / factor) or bilinear (TensorFlow's half-pixel centres), for integer factors.
    let interpolation: UpSampling2D.Interpolation? = mode == "nearest" && transform == "asymmetric" && nearest == "floor" ? .nearest
        : mode == "linear" && (transform == "half_pixel" || transform == "pytorch_half_pixel") ? .bilinear : nil
    let integer = (2...3).allSatisfy { scales[$0] >= 1 && scales[$0].rounded() == scales[$0] && sizes[$0] == input[$0] * Int(scales[$0]) }
    if interpolation != nil, integer, antialias == 0 || (scales[2] >= 1 && scales[3] >= 1) {
        return try upsample(n, x, factors: scales, interpolation: interpolation, c, description: "mode \(mode), \(transform), \(nearest), scales \(scales)")
    }
    let resizeMode: Resize2D.Mode
    switch mode {
    case "nearest":
        let roundings: [String: Resize2D.NearestRounding] = ["round_prefer_floor": .roundPreferFloor, "round_prefer_ceil": .roundPreferCeil,
                                                              "floor": .floor, "ceil": .ceil]
        guard let r = roundings[nearest] else { throw c.error("nearest_mode '\(nearest)' is not supported (\(roundings.keys.sorted().joined(separator: ", ")))") }
        resizeMode = .nearest(r)
    case "linear": resizeMode = .linear
    case "cubic": resizeMode = .cubic(a: Double(cubicA), excludeOutside: excludeOutside != 0)
    default: throw c.error("Resize mode '\(mode)' is not supported (nearest, linear, cubic)")
    }
    let transforms: [String: Resize2D.CoordinateTransformation] = [
        "half_pixel": .halfPixel, "half_pixel_symmetric": .halfPixelSymmetric, "pytorch_half_pixel": .pytorchHalfPixel,
        "align_corners": .alignCorners, "asymmetric": .asymmetric, "tf_crop_and_resize": .tfCropAndResize,
    ]
    guard let transformation = transforms[transform] else {
        throw c.error("coordinate_transformation_mode '\(transform)' is not supported (\(transforms.keys.sorted().joined(separator: ", ")))")
    }
    let layer = Resize2D(name: c.layerName("Resize2D"), mode: resizeMode, transformation: transformation, outputSize: (sizes[2], sizes[3]),
                         scales: (scales[2], scales[3]), antialias: antialias != 0, roi: ((roi[2], roi[6]), (roi[3], roi[7])),
                         extrapolationValue: extrapolation)
    let node = try c.add(layer, [try c.channelsLast(x)])
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

/// Squeeze's / Unsqueeze's axes: an attribute before opset 13, an input from 13.
private func squeezeAxes(_ n: ONNXNodeProto, _ c: ONNXImportContext) throws -> [Int]? {
    var a = Attributes(n, c)
    let axes = c.opset < 13 ? try a.ints("axes", nil)
        : n.inputs.count > 1 && !n.inputs[1].isEmpty ? try c.ints(n.inputs[1]) : nil
    try a.finish()
    return axes
}

private func importUnsqueeze(_ n: ONNXNodeProto, _ i: Int, _ c: ONNXImportContext) throws {
    guard let given = try squeezeAxes(n, c) else {
        throw c.error("Unsqueeze needs its axes (an attribute before opset 13, an input from 13)")
    }
    if !c.isConstant(n.inputs[0]) {
        // Inserting size-1 axes: a Reshape in ONNX order.
        let x = try c.identityLayout(try c.value(n.inputs[0]))
        let rank = x.onnxShape.count + 1
        let axes = given.map { $0 < 0 ? $0 + rank + given.count : $0 }.sorted()
        guard !axes.contains(0), Set(axes).count == axes.count, axes.allSatisfy({ $0 >= 1 && $0 <= rank + axes.count - 1 }) else {
            throw c.error("Unsqueeze on axes \(given) (the batch axis, repeated or out of range) is not supported")
        }
        var shape = x.onnxShape
        for a in axes {
            guard a - 1 <= shape.count else { throw c.error("Unsqueeze axis \(a) is out of range") }
            shape.insert(1, at: a - 1)
        }
        let node = try c.add(Reshape(name: c.layerName("Reshape"), targetShape: shape), [x])
        c.output(n, ImportedValue(node: node, onnxShape: shape, perm: Array(0..<shape.count)))
        return
    }
    if let k = c.constants[n.inputs[0]] {
        // A constant: the same values with size-1 axes inserted.
        let rank = k.shape.count + given.count
        let axes = given.map { $0 < 0 ? $0 + rank : $0 }.sorted()
        guard Set(axes).count == axes.count, axes.allSatisfy({ $0 >= 0 && $0 < rank }) else {
            throw c.error("Unsqueeze axes \(given) are repeated or out of range for a constant of shape \(k.shape)")
        }
        var shape = k.shape
        for a in axes { shape.insert(1, at: a) }
        c.constants[n.outputs[0]] = ConstantTensor(shape: shape, values: k.values)
        return
    }
    let data = try c.symbolicInts(n.inputs[0])
    guard data.count == 1 else { throw c.error("Unsqueeze is only supported on scalars (shape arithmetic)") }
    c.symbolic[n.outputs[0]] = data
}

private func importSqueeze(_ n: ONNXNodeProto, _ i: Int, _ c: ONNXImportContext) throws {
    let given = try squeezeAxes(n, c)
    if !c.isConstant(n.inputs[0]) {
        // Removing size-1 axes: a Reshape in ONNX order.
        let x = try c.identityLayout(try c.value(n.inputs[0]))
        guard let given else {
            throw c.error("Squeeze of a computed tensor without axes is not supported (whether the batch axis is squeezed would depend on the batch size)")
        }
        let rank = x.onnxShape.count + 1
        let axes = Set(given.map { $0 < 0 ? $0 + rank : $0 })
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

/// `Split` of a computed tensor: one slice per output along `axis` (sizes:
/// the `split` attribute before opset 13, an input from 13, or
/// `num_outputs` (18) / equal parts).
private func importSplit(_ n: ONNXNodeProto, _ i: Int, _ c: ONNXImportContext) throws {
    var a = Attributes(n, c)
    let axis = try a.int("axis", 0)
    var sizes: [Int]? = c.opset < 13 ? try a.ints("split", nil)
        : n.inputs.count > 1 && !n.inputs[1].isEmpty ? try c.ints(n.inputs[1]) : nil
    let parts = c.opset >= 18 ? try a.int("num_outputs", 0) : 0
    try a.finish()
    let x = try c.value(n.inputs[0])
    let rank = x.onnxShape.count + 1
    let k = axis < 0 ? axis + rank : axis
    guard k >= 1, k < rank else { throw c.error("Split on axis \(axis) (the batch axis or outside the rank) is not supported") }
    let size = x.onnxShape[k - 1]
    if sizes == nil {
        let count = parts > 0 ? parts : n.outputs.count
        guard count >= 1 else { throw c.error("Split has no outputs") }
        // Equal parts; with num_outputs the last may be smaller (ceil(size / count) each).
        let chunk = (size + count - 1) / count
        guard parts > 0 || size % count == 0 else { throw c.error("Split of \(size) into \(count) equal parts is not possible") }
        sizes = (0..<count).map { min(chunk, max(size - $0 * chunk, 0)) }
    }
    guard let sizes, sizes.count == n.outputs.count, sizes.allSatisfy({ $0 >= 0 }), sizes.reduce(0, +) == size else {
        throw c.error("Split sizes \(sizes.map { "\($0)" } ?? "none") do not divide axis \(axis) of size \(size) into \(n.outputs.count) outputs")
    }
    let input = try c.identityLayout(x)
    var start = 0
    for (output, length) in zip(n.outputs, sizes) {
        defer { start += length }
        guard !output.isEmpty else { continue }
        guard length > 0 else { throw c.error("Split output '\(output)' would be empty") }
        var axes = [StridedSlice.Axis](repeating: .all, count: x.onnxShape.count)
        axes[k - 1] = .range(start: start, stop: start + length, step: 1)
        let node = try c.add(StridedSlice(name: c.layerName("StridedSlice"), axes: axes), [input])
        let shape = c.shape(ofNode: node)
        c.values[output] = ImportedValue(node: node, onnxShape: shape, perm: Array(0..<shape.count))
    }
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

private func exportPad2D(_ l: Pad2D, _ x: [ONNXValue], _ c: ONNXExportContext) throws -> ONNXValue {
    let input = try imageInput(l, x[0], c)
    let out = try l.outputShape(for: input.kerasShape)
    let mode: String, value: Float
    switch l.mode {
    case .constant(let v): (mode, value) = ("constant", v)
    case .reflect: (mode, value) = ("reflect", 0)
    case .edge: (mode, value) = ("edge", 0)
    case .wrap: (mode, value) = ("wrap", 0)
    }
    guard mode != "wrap" || c.opset >= 19 else { throw c.error(l, "Pad mode 'wrap' needs opset 19 or later (exporting opset \(c.opset))") }
    let pads = c.constant(l.name + "_pads", shape: [8], int64s: [0, 0, l.top, l.left, 0, 0, l.bottom, l.right].map { Int64($0) })
    var inputs = [input.name, pads]
    if mode == "constant" { inputs.append(c.scalar(l.name + "_value", value)) }
    let y = c.node("Pad", inputs, [ONNXAttribute("mode", .string(mode))], name: l.name)
    return ONNXValue(name: y, kerasShape: out, channelsFirst: true)
}

private func exportResize2D(_ l: Resize2D, _ x: [ONNXValue], _ c: ONNXExportContext) throws -> ONNXValue {
    let input = try imageInput(l, x[0], c)
    let s = input.kerasShape
    let out = try l.outputShape(for: s)
    var attributes: [ONNXAttribute] = []
    switch l.mode {
    case .nearest(let r):
        let names: [Resize2D.NearestRounding: String] = [.roundPreferFloor: "round_prefer_floor", .roundPreferCeil: "round_prefer_ceil",
                                                         .floor: "floor", .ceil: "ceil"]
        attributes = [ONNXAttribute("mode", .string("nearest")), ONNXAttribute("nearest_mode", .string(names[r]!))]
    case .linear: attributes = [ONNXAttribute("mode", .string("linear"))]
    case .cubic(let a, let exclude):
        attributes = [ONNXAttribute("mode", .string("cubic")), ONNXAttribute("cubic_coeff_a", .float(Float(a))),
                      ONNXAttribute("exclude_outside", .int(exclude ? 1 : 0))]
    }
    if l.antialias {
        guard c.opset >= 18 else { throw c.error(l, "antialias needs opset 18 or later (exporting opset \(c.opset))") }
        attributes.append(ONNXAttribute("antialias", .int(1)))
    }
    let transforms: [Resize2D.CoordinateTransformation: String] = [.halfPixel: "half_pixel", .halfPixelSymmetric: "half_pixel_symmetric",
                                                                   .pytorchHalfPixel: "pytorch_half_pixel", .alignCorners: "align_corners", .asymmetric: "asymmetric",
                                                                   .tfCropAndResize: "tf_crop_and_resize"]
    guard l.transformation != .halfPixelSymmetric || c.opset >= 19 else {
        throw c.error(l, "coordinate_transformation_mode 'half_pixel_symmetric' needs opset 19 or later (exporting opset \(c.opset))")
    }
    attributes.append(ONNXAttribute("coordinate_transformation_mode", .string(transforms[l.transformation]!)))
    let roi: String
    if l.transformation == .tfCropAndResize {
        attributes.append(ONNXAttribute("extrapolation_value", .float(l.extrapolationValue)))
        roi = c.constant(l.name + "_roi", shape: [8], [0, 0, Float(l.roi.y.start), Float(l.roi.x.start), 1, 1, Float(l.roi.y.end), Float(l.roi.x.end)])
    } else {
        roi = c.constant(l.name + "_roi", shape: [0], [])
    }
    let y: String
    if l.scales.y == Double(out[0]) / Double(s[0]), l.scales.x == Double(out[1]) / Double(s[1]) {
        let sizes = c.constant(l.name + "_sizes", shape: [4], int64s: [1, Int64(s[2]), Int64(out[0]), Int64(out[1])])
        y = c.node("Resize", [input.name, roi, "", sizes], attributes, name: l.name)
    } else {
        // Scales as float32: only when they are float32 values that give the layer's output size.
        let (sy, sx) = (Float(l.scales.y), Float(l.scales.x))
        guard Double(sy) == l.scales.y, Double(sx) == l.scales.x,
              Int((Double(s[0]) * Double(sy)).rounded(.down)) == out[0], Int((Double(s[1]) * Double(sx)).rounded(.down)) == out[1] else {
            throw c.error(l, "scales (\(l.scales.y), \(l.scales.x)) are neither the output size over the input's nor float32 scales giving it")
        }
        y = c.node("Resize", [input.name, roi, c.constant(l.name + "_scales", shape: [4], [1, 1, sy, sx])], attributes, name: l.name)
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

import ModelPortRuntime

/// Core layers: Keras `Dense` <-> ONNX `Gemm` (rank-1 input) or `MatMul`
/// (+ `Add`), the `Activation` layer <-> the activation operators
/// (`Relu`, `Sigmoid`, ..., `Clip`, and the element-wise unary operators,
/// imported as the runtime's `UnaryMath` where Keras has the operation —
/// `Sqrt`, `Reciprocal`, `Neg`, `Abs`, `Log` — else as `ONNXUnaryOp`), and the layers that are the identity at
/// inference (`InputLayer`, `Dropout`, `InferenceIdentity`) <-> `Identity`
/// and inference-mode `Dropout`.
extension ONNXFamily {
    static let core = ONNXFamily(
        "core",
        imports: [
            ONNXOpImport("Gemm", minimumInputs: 2, importGemm),
            ONNXOpImport("MatMul", minimumInputs: 2, importMatMul),
            ONNXOpImport("Identity", alias),
            ONNXOpImport("Dropout", alias),
            ONNXOpImport("Relu", importActivation),
            ONNXOpImport("Sigmoid", importActivation),
            ONNXOpImport("Tanh", importActivation),
            ONNXOpImport("Softplus", importActivation),
            ONNXOpImport("Softsign", importActivation),
            ONNXOpImport("Selu", importActivation),
            ONNXOpImport("Exp", importActivation),
            ONNXOpImport("HardSwish", since: 14, importActivation),
            ONNXOpImport("HardSigmoid", importActivation),
            ONNXOpImport("Gelu", since: 20, importActivation),
            ONNXOpImport("Clip", importClip),
            ONNXOpImport("Erf", since: 9, importUnary),
            ONNXOpImport("Sqrt", importUnary),
            ONNXOpImport("Reciprocal", importUnary),
            ONNXOpImport("Neg", importUnary),
            ONNXOpImport("Abs", importUnary),
            ONNXOpImport("Log", importUnary),
            ONNXOpImport("Floor", importUnary),
            ONNXOpImport("Ceil", importUnary),
        ],
        exports: [
            .layer(Dense.self, ["Dense"], exportDense),
            .layer(ActivationLayer.self, ["Activation"], exportActivationLayer),
            .layer(InputLayer.self, ["InputLayer"], identity),
            .layer(Dropout.self, ["Dropout"], identity),
            .layer(InferenceIdentity.self, InferenceIdentity.Kind.allCases.map(\.rawValue), identity),
        ])
}

// MARK: - Import

private func alias(_ n: ONNXNodeProto, _ i: Int, _ c: ONNXImportContext) throws {
    // Dropout before opset 12: `ratio` an attribute (only training uses it);
    // opset 6's `is_test` = 0 (its default) asks for training-mode dropout.
    var a = Attributes(n, c, ignoring: n.opType == "Dropout" ? ["seed", "ratio"] : [])
    if n.opType == "Dropout", c.opset < 7, try a.int("is_test", 0) == 0 {
        throw c.error("is_test=0 (opset \(c.opset)'s default): Dropout would drop values at random in training mode, which ModelPort does not run (export with is_test=1)")
    }
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
    if let f = c.runtimeOrderFlattens[input] { c.runtimeOrderFlattens[n.outputs[0]] = f }
    if let v = c.values[input] { c.values[n.outputs[0]] = v }
    else if let m = c.masks[input] { c.masks[n.outputs[0]] = m }
    else if let k = c.constants[input] { c.constants[n.outputs[0]] = k }
    else if let s = c.symbolic[input] { c.symbolic[n.outputs[0]] = s }
    else { _ = try c.value(input) }
}

private func dense(_ n: ONNXNodeProto, _ c: ONNXImportContext, x: ImportedValue, kernel: [Float], inputs k: Int, units: Int, bias: [Float]?) throws {
    let (bias, outputName) = foldBias(bias, after: n, channels: units, image: false, c)
    let input: ImportedValue
    var kernel = kernel
    if let flat = c.runtimeOrderFlattens[n.inputs[0]], flat.order.count == k {
        // The input flattened in the runtime's order: its row i is ONNX row order[i].
        input = ImportedValue(node: flat.node, onnxShape: [k], perm: [0])
        kernel = flat.order.flatMap { kernel[($0 * units)..<($0 * units + units)] }
    } else {
        input = try c.identityLayout(x)
    }
    try c.reserve([k, units], for: "the dense kernel")
    let layer = Dense(name: c.layerName("Dense"), inputUnits: k, units: units, useBias: bias != nil)
    layer.kernel.value = Tensor(shape: [k, units], scalars: kernel)
    if let bias { layer.bias!.value = Tensor(shape: [units], scalars: bias) }
    let node = try c.add(layer, [input])
    c.values[outputName] = ImportedValue(node: node, onnxShape: c.shape(ofNode: node), perm: Array(0..<x.onnxShape.count))
}

private func importMatMul(_ n: ONNXNodeProto, _ i: Int, _ c: ONNXImportContext) throws {
    try Attributes(n, c).finish()
    let x = try c.value(n.inputs[0])
    guard let w = c.constants[n.inputs[1]], w.shape.count == 2 else {
        throw c.error("MatMul is supported as a dense layer: a computed tensor times a constant 2-D matrix")
    }
    guard x.onnxShape.last == w.shape[0] else { throw c.error("input of shape \(x.onnxShape) does not fit a \(w.shape) matrix") }
    let kernel = kerasDenseKernel(fromONNXGemm: Tensor(shape: w.shape, scalars: w.values.map { Float($0) }), transposed: false).scalars
    try dense(n, c, x: x, kernel: kernel, inputs: w.shape[0], units: w.shape[1], bias: nil)
}

private func importGemm(_ n: ONNXNodeProto, _ i: Int, _ c: ONNXImportContext) throws {
    var a = Attributes(n, c)
    guard try a.int("transA", 0) == 0 else {
        throw c.error("Gemm with transA=1 is not supported: it would transpose the batch axis of the computed input")
    }
    let transB = try a.int("transB", 0)
    let alpha = try a.float("alpha", 1), beta = try a.float("beta", 1)
    // Opset 6's `broadcast`: 1 lets C broadcast (opset 7 on, always); 0 needs
    // C of the full output shape, which per-unit C of batch 1 also is.
    if c.opset < 7 { _ = try a.int("broadcast", 0) }
    try a.finish()
    let x = try c.value(n.inputs[0])
    let w = try c.constant(n.inputs[1])
    guard x.onnxShape.count == 1, w.shape.count == 2 else { throw c.error("Gemm is supported as a dense layer on (N, K) input with a constant 2-D matrix") }
    let (k, units) = transB == 0 ? (w.shape[0], w.shape[1]) : (w.shape[1], w.shape[0])
    guard x.onnxShape[0] == k else { throw c.error("input of shape \(x.onnxShape) does not fit a \(w.shape) matrix") }
    // alpha * A * B: the scale goes into the kernel.
    let kernel = kerasDenseKernel(fromONNXGemm: Tensor(shape: w.shape, scalars: w.values.map { Float($0 * Double(alpha)) }), transposed: transB != 0).scalars
    var bias: [Float]? = nil
    if n.inputs.count > 2, !n.inputs[2].isEmpty {
        let b = try c.constant(n.inputs[2])
        let perUnit = b.shape.count <= 2 && b.values.count == units && (b.shape.last ?? 1) == units
        if perUnit {
            bias = b.values.map { Float($0 * Double(beta)) }
        } else if b.values.count == 1 {
            bias = [Float](repeating: Float(b.values[0] * Double(beta)), count: units)
        } else {
            throw c.error("Gemm bias of shape \(b.shape) is neither per output unit (\(units)) nor a scalar (a bias per sample would fix the batch size)")
        }
    }
    try dense(n, c, x: x, kernel: kernel, inputs: k, units: units, bias: bias)
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
        guard alpha == 1.67326319217681884765625, gamma == 1.05070102214813232421875 else {
            // Other constants: gamma * ELU_alpha(x), an ELU then a Rescaling.
            try a.finish()
            guard alpha.isFinite, gamma.isFinite else { throw c.error("Selu alpha \(alpha) and gamma \(gamma) must be finite") }
            let elu = try c.add(ELU(name: c.layerName("ELU"), alpha: alpha), [x])
            let scaled = try c.add(Rescaling(name: c.layerName("Rescaling"), scale: gamma, offset: 0), [ImportedValue(node: elu, onnxShape: x.onnxShape, perm: x.perm)])
            c.output(n, ImportedValue(node: scaled, onnxShape: x.onnxShape, perm: x.perm))
            return
        }
        act = .selu
    case "HardSigmoid":
        let alpha = try a.float("alpha", 0.2), beta = try a.float("beta", 0.5)
        if abs(alpha - 1.0 / 6) < 1e-7 && beta == 0.5 { act = .hardSigmoid }
        else if alpha == 0.2 && beta == 0.5 { act = .hardSigmoidKeras2 }
        else {
            // Other constants: min(max(alpha * x + beta, 0), 1), a Rescaling then a ReLU capped at 1.
            try a.finish()
            guard alpha.isFinite, beta.isFinite else { throw c.error("HardSigmoid alpha \(alpha) and beta \(beta) must be finite") }
            let affine = try c.add(Rescaling(name: c.layerName("Rescaling"), scale: alpha, offset: beta), [x])
            let clipped = try c.add(ReLU(name: c.layerName("ReLU"), maxValue: 1), [ImportedValue(node: affine, onnxShape: x.onnxShape, perm: x.perm)])
            c.output(n, ImportedValue(node: clipped, onnxShape: x.onnxShape, perm: x.perm))
            return
        }
    case "Gelu":
        let approximate = try a.string("approximate", "none")
        guard approximate == "none" || approximate == "tanh" else { throw c.error("Gelu approximate='\(approximate)' is not supported") }
        act = approximate == "tanh" ? .geluTanh : .gelu
    default: throw c.error("no activation for \(n.opType)")
    }
    try a.finish()
    c.output(n, try addActivation(act, x, c))
}

private func importClip(_ n: ONNXNodeProto, _ i: Int, _ c: ONNXImportContext) throws {
    var a = Attributes(n, c)
    let x = try c.value(n.inputs[0])
    var low: Double?, high: Double?
    if c.opset < 11 {
        // Before opset 11 the bounds are attributes (defaults: float32's range).
        let lo = try a.float("min", -Float.greatestFiniteMagnitude), hi = try a.float("max", Float.greatestFiniteMagnitude)
        low = lo == -Float.greatestFiniteMagnitude ? nil : Double(lo)
        high = hi == Float.greatestFiniteMagnitude ? nil : Double(hi)
    } else {
        low = n.inputs.count > 1 && !n.inputs[1].isEmpty ? try c.constant(n.inputs[1]).values.first : nil
        high = n.inputs.count > 2 && !n.inputs[2].isEmpty ? try c.constant(n.inputs[2]).values.first : nil
    }
    try a.finish()
    if low == 0 {
        if high == 6 { c.output(n, try addActivation(.relu6, x, c)); return }
        let node = try c.add(ReLU(name: c.layerName("ReLU"), maxValue: high.map { Float($0) }), [x])
        c.output(n, ImportedValue(node: node, onnxShape: x.onnxShape, perm: x.perm))
        return
    }
    // Any other bounds: max(x, min), then min(., max), as ONNX computes them.
    var y = x
    for (bound, operation) in [(low, ConstantArithmetic.Operation.maximum), (high, .minimum)] {
        guard let bound else { continue }
        let layer = ConstantArithmetic(name: c.layerName(operation.rawValue), operation: operation, constant: Tensor(shape: [], scalars: [Float(bound)]))
        y = ImportedValue(node: try c.add(layer, [y]), onnxShape: y.onnxShape, perm: y.perm)
    }
    c.output(n, y)
}

private func importUnary(_ n: ONNXNodeProto, _ i: Int, _ c: ONNXImportContext) throws {
    try Attributes(n, c).finish()
    let x = try c.value(n.inputs[0])
    let functions: [String: UnaryMath.Function] = ["Sqrt": .sqrt, "Reciprocal": .reciprocal, "Neg": .negative, "Abs": .absolute, "Log": .log]
    let layer: any Layer
    if let function = functions[n.opType] {
        // Keras's ops.sqrt, ops.negative, ...: written back to Keras and ONNX alike.
        layer = UnaryMath(name: c.layerName(function.rawValue), function: function)
    } else {
        layer = ONNXUnaryOp(name: c.layerName("ONNX:" + n.opType), operation: ONNXUnaryOp.Operation(rawValue: n.opType)!)
    }
    c.output(n, ImportedValue(node: try c.add(layer, [x]), onnxShape: x.onnxShape, perm: x.perm))
}

// MARK: - Export

/// Layers that are the identity at inference export to nothing: their input is their output.
private func identity<L: Layer>(_ layer: L, _ x: [ONNXValue], _ c: ONNXExportContext) throws -> ONNXValue { x[0] }

private func exportDense(_ l: Dense, _ x: [ONNXValue], _ c: ONNXExportContext) throws -> ONNXValue {
    let input = c.channelsLast(x[0])
    let k = onnxGemmKernel(fromKeras: l.kernel.value, transposed: false)
    let w = c.constant(l.name + "_kernel", shape: k.shape, k.scalars)
    let outShape = Array(input.kerasShape.dropLast()) + [l.units]
    var y: String
    if input.kerasShape.count == 1 {
        var inputs = [input.name, w]
        if let b = l.bias { inputs.append(c.constant(l.name + "_bias", shape: [l.units], b.value.scalars)) }
        y = c.node("Gemm", inputs, [], name: l.name)
    } else {
        y = c.node("MatMul", [input.name, w], name: l.name + "_matmul")
        if let b = l.bias { y = c.node("Add", [y, c.constant(l.name + "_bias", shape: [l.units], b.value.scalars)], name: l.name) }
    }
    return try exportActivation(l.activation, ONNXValue(name: y, kerasShape: outShape, channelsFirst: false), c, name: l.name)
}

private func exportActivationLayer(_ l: ActivationLayer, _ x: [ONNXValue], _ c: ONNXExportContext) throws -> ONNXValue {
    if l.activation == .linear {
        return ONNXValue(name: c.node("Identity", [x[0].name], name: l.name), kerasShape: x[0].kerasShape, channelsFirst: x[0].channelsFirst)
    }
    return try exportActivation(l.activation, x[0], c, name: l.name, fused: false)
}

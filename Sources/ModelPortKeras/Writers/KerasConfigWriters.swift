import ModelPortRuntime

/// Writes one runtime layer's Keras config arguments (everything but `name`,
/// `trainable` and `dtype`, which the model config writer adds in the target
/// generation's spelling). Keys are spelled exactly as Keras spells them.
public typealias KerasConfigWriter = @Sendable (_ layer: any Layer, _ generation: KerasGeneration) throws -> [String: JSONValue]

/// The table from runtime layer type (`Layer.typeName`, the Keras class name)
/// to config writer: the mirror of `KerasLayerRegistry`, and the one place
/// that says which layers ModelPort can describe to Keras. Adding a layer is
/// one entry here.
public enum KerasConfigWriters {
    public static let table: [String: KerasConfigWriter] = [
        "Conv2D": conv2D, "DepthwiseConv2D": depthwiseConv2D, "SeparableConv2D": separableConv2D,
        "Conv2DTranspose": conv2DTranspose, "Dense": dense,
        "MaxPooling2D": pooling, "AveragePooling2D": pooling,
        "GlobalAveragePooling2D": globalPooling, "GlobalMaxPooling2D": globalPooling,
        "Flatten": { _, _ in ["data_format": .string("channels_last")] },
        "Dropout": { l, _ in ["rate": num((l as! Dropout).rate), "noise_shape": .null, "seed": .null] },
        "SpatialDropout1D": spatialDropout, "SpatialDropout2D": spatialDropout, "SpatialDropout3D": spatialDropout,
        "GaussianDropout": rate, "AlphaDropout": rate,
        "GaussianNoise": { l, _ in ["stddev": num((l as! InferenceIdentity).rate), "seed": .null] },
        "Activation": { l, g in ["activation": try activationName((l as! ActivationLayer).activation, g, l)] },
        "BatchNormalization": batchNormalization, "LayerNormalization": layerNormalization,
        "Normalization": { _, _ in ["axis": .array([.number(-1)]), "mean": .null, "variance": .null, "invert": .bool(false)] },
        "Rescaling": { l, _ in let r = l as! Rescaling; return ["scale": num(r.scale), "offset": num(r.offset)] },
        "ReLU": relu, "LeakyReLU": relu,
        "ELU": { l, _ in ["alpha": num((l as! ELU).alpha)] },
        "PReLU": { l, _ in let p = l as! PReLU; return ["shared_axes": p.sharedAxes.isEmpty ? .null : ints(p.sharedAxes)] },
        "Softmax": { l, _ in ["axis": .number(Double((l as! Softmax).axis + 1))] },
        "ZeroPadding2D": padding2D, "Cropping2D": padding2D,
        "UpSampling2D": { l, _ in ["size": ints([(l as! UpSampling2D).size.y, (l as! UpSampling2D).size.x]), "data_format": .string("channels_last"), "interpolation": .string("nearest")] },
        "Reshape": { l, _ in ["target_shape": ints((l as! Reshape).targetShape)] },
        "Permute": { l, _ in ["dims": ints((l as! Permute).dims)] },
        "RepeatVector": { l, _ in ["n": .number(Double((l as! RepeatVector).count))] },
        "Add": { _, _ in [:] }, "Subtract": { _, _ in [:] }, "Multiply": { _, _ in [:] },
        "Average": { _, _ in [:] }, "Maximum": { _, _ in [:] }, "Minimum": { _, _ in [:] },
        "Concatenate": { l, _ in let m = l as! Merge; return ["axis": .number(Double(m.axis < 0 ? m.axis : m.axis + 1))] },
    ]

    /// Layer types ModelPort can write to Keras, sorted (nested models too).
    public static var supportedTypeNames: [String] { (table.keys + ["InputLayer", "Sequential", "Functional"]).sorted() }
}

func ints(_ values: [Int]) -> JSONValue { .array(values.map { .number(Double($0)) }) }

/// A float32 argument as the shortest decimal that reads back as the same
/// float (0.1, not 0.10000000149011612), as Keras wrote it.
func num(_ value: Float) -> JSONValue { .number(Double("\(value)") ?? Double(value)) }
private func pair(_ a: Int, _ b: Int) -> JSONValue { ints([a, b]) }

private func unsupported(_ layer: any Layer, _ message: String) -> KerasExportError {
    KerasExportError(file: "", layer: layer.name, className: layer.typeName, message: message)
}

/// The Keras name of an activation in the target generation. Keras 2's and
/// Keras 3's `hard_sigmoid` differ, so each is written only for its own generation.
func activationName(_ a: Activation, _ g: KerasGeneration, _ layer: any Layer) throws -> JSONValue {
    switch (a, g) {
    case (.geluTanh, _): throw unsupported(layer, "the tanh approximation of gelu has no Keras activation name (Keras uses it only through keras.activations.gelu(approximate=True))")
    case (.hardSigmoidKeras2, .keras2): return .string("hard_sigmoid")
    case (.hardSigmoidKeras2, .keras3): throw unsupported(layer, "Keras 2's hard_sigmoid (0.2x + 0.5) does not exist in Keras 3; write this model with --keras-version 2")
    case (.hardSigmoid, .keras2): throw unsupported(layer, "Keras 3's hard_sigmoid (relu6(x + 3) / 6) does not exist in Keras 2; write this model with --keras-version 3")
    case (.silu, .keras2): return .string("swish")
    case (.hardSilu, .keras2), (.logSoftmax, .keras2), (.relu6, .keras2):
        throw unsupported(layer, "activation '\(a.rawValue)' does not exist in Keras 2; write this model with --keras-version 3")
    default: return .string(a.rawValue)
    }
}

/// Keras 3's SpatialDropout layers take no `trainable` argument (Keras 3 writes none).
private func spatialDropout(_ l: any Layer, _ g: KerasGeneration) throws -> [String: JSONValue] {
    var config: [String: JSONValue] = ["rate": num((l as! InferenceIdentity).rate), "seed": .null]
    if g == .keras3 {
        config["trainable"] = .null
        if l.typeName != "SpatialDropout1D" { config["data_format"] = .string("channels_last") }
    }
    return config
}

private func rate(_ l: any Layer, _ g: KerasGeneration) throws -> [String: JSONValue] {
    ["rate": num((l as! InferenceIdentity).rate), "seed": .null]
}

private func conv2D(_ l: any Layer, _ g: KerasGeneration) throws -> [String: JSONValue] {
    let c = l as! Conv2D
    return ["filters": .number(Double(c.filters)), "kernel_size": pair(c.kernelSize.height, c.kernelSize.width),
            "strides": pair(c.strides.y, c.strides.x), "padding": .string(c.padding.rawValue), "data_format": .string("channels_last"),
            "dilation_rate": pair(c.dilation.y, c.dilation.x), "groups": .number(1),
            "activation": try activationName(c.activation, g, l), "use_bias": .bool(c.bias != nil)]
}

private func depthwiseConv2D(_ l: any Layer, _ g: KerasGeneration) throws -> [String: JSONValue] {
    let c = l as! DepthwiseConv2D
    return ["kernel_size": pair(c.kernelSize.height, c.kernelSize.width), "strides": pair(c.strides.y, c.strides.x),
            "padding": .string(c.padding.rawValue), "depth_multiplier": .number(Double(c.depthMultiplier)), "data_format": .string("channels_last"),
            "dilation_rate": pair(c.dilation.y, c.dilation.x), "activation": try activationName(c.activation, g, l), "use_bias": .bool(c.bias != nil)]
}

private func separableConv2D(_ l: any Layer, _ g: KerasGeneration) throws -> [String: JSONValue] {
    let c = l as! SeparableConv2D
    return ["filters": .number(Double(c.filters)), "kernel_size": pair(c.kernelSize.height, c.kernelSize.width),
            "strides": pair(c.strides.y, c.strides.x), "padding": .string(c.padding.rawValue), "data_format": .string("channels_last"),
            "dilation_rate": pair(c.dilation.y, c.dilation.x), "depth_multiplier": .number(Double(c.depthwiseKernel.shape[3])),
            "activation": try activationName(c.activation, g, l), "use_bias": .bool(c.bias != nil)]
}

private func conv2DTranspose(_ l: any Layer, _ g: KerasGeneration) throws -> [String: JSONValue] {
    let c = l as! Conv2DTranspose
    return ["filters": .number(Double(c.filters)), "kernel_size": pair(c.kernelSize.height, c.kernelSize.width),
            "strides": pair(c.strides.y, c.strides.x), "padding": .string(c.padding.rawValue), "data_format": .string("channels_last"),
            "output_padding": .null, "dilation_rate": pair(1, 1),
            "activation": try activationName(c.activation, g, l), "use_bias": .bool(c.bias != nil)]
}

private func dense(_ l: any Layer, _ g: KerasGeneration) throws -> [String: JSONValue] {
    let d = l as! Dense
    return ["units": .number(Double(d.units)), "activation": try activationName(d.activation, g, l), "use_bias": .bool(d.bias != nil)]
}

private func pooling(_ l: any Layer, _ g: KerasGeneration) throws -> [String: JSONValue] {
    let (pool, strides, padding): ((Int, Int), (Int, Int), WindowGeometry.Padding)
    if let m = l as? MaxPooling2D { (pool, strides, padding) = ((m.poolSize.height, m.poolSize.width), (m.strides.y, m.strides.x), m.padding) }
    else {
        let a = l as! AveragePooling2D
        (pool, strides, padding) = ((a.poolSize.height, a.poolSize.width), (a.strides.y, a.strides.x), a.padding)
    }
    return ["pool_size": pair(pool.0, pool.1), "strides": pair(strides.0, strides.1), "padding": .string(padding.rawValue),
            "data_format": .string("channels_last")]
}

private func globalPooling(_ l: any Layer, _ g: KerasGeneration) throws -> [String: JSONValue] {
    ["data_format": .string("channels_last"), "keepdims": .bool((l as! GlobalPooling2D).keepDims)]
}

private func batchNormalization(_ l: any Layer, _ g: KerasGeneration) throws -> [String: JSONValue] {
    let b = l as! BatchNormalization
    return ["axis": .number(-1), "momentum": num(b.momentum), "epsilon": num(b.epsilon),
            "center": .bool(b.beta != nil), "scale": .bool(b.gamma != nil)]
}

private func layerNormalization(_ l: any Layer, _ g: KerasGeneration) throws -> [String: JSONValue] {
    let n = l as! LayerNormalization
    return ["axis": .number(-1), "epsilon": num(n.epsilon), "center": .bool(n.beta != nil), "scale": .bool(n.gamma != nil)]
}

private func relu(_ l: any Layer, _ g: KerasGeneration) throws -> [String: JSONValue] {
    let r = l as! ReLU
    if r.typeName == "LeakyReLU" {
        guard r.maxValue == nil, r.threshold == 0 else { throw unsupported(l, "a LeakyReLU with a maximum or threshold has no Keras config") }
        return [g == .keras3 ? "negative_slope" : "alpha": num(r.negativeSlope)]
    }
    return ["max_value": r.maxValue.map { num($0) } ?? .null, "negative_slope": num(r.negativeSlope),
            "threshold": num(r.threshold)]
}

private func padding2D(_ l: any Layer, _ g: KerasGeneration) throws -> [String: JSONValue] {
    let p = l as! Padding2D
    return [p.kind == .zeroPad ? "padding" : "cropping": .array([pair(p.top, p.bottom), pair(p.left, p.right)]), "data_format": .string("channels_last")]
}

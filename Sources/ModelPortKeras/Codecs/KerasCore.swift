import ModelPortRuntime

/// Keras core layers: `Dense`, `Activation`, `Dropout`, and the training-only
/// regularisers that are the identity at inference (`SpatialDropout2D`,
/// `GaussianNoise`, `GaussianDropout`, `AlphaDropout`, `ActivityRegularization`).
extension KerasCodecs {
    static let core = KerasFamily("core", [
        AnyKerasCodec(dense), AnyKerasCodec(activation), AnyKerasCodec(dropout), AnyKerasCodec(inferenceIdentity),
    ])

    /// Kernel `(inputs, units)`, then `bias` when `use_bias`.
    static let dense = KerasCodec<Dense>(classNames: ["Dense"], decode: { a, inputShape in
        guard let inputUnits = inputShape.last, inputUnits > 0 else {
            throw a.error("expects an input with a last axis, got \(inputShape)")
        }
        let units = try a.int("units", range: 1...16_777_216)
        let activation = try a.activation()
        let useBias = try a.bool("use_bias", default: true)
        // Keras 3 LoRA adapters and quantization change the weights stored.
        try a.require("lora_rank", oneOf: [.number(0)])
        try a.require("lora_alpha", oneOf: [])
        try a.require("quantization_config", oneOf: [])
        try a.checkParameterShape([inputUnits, units], argument: "units")
        if useBias { try a.checkParameterShape([units], argument: "units") }
        return Dense(name: a.name, inputUnits: inputUnits, units: units, activation: activation, useBias: useBias)
    }, encode: { d, g in
        ["units": .number(Double(d.units)), "activation": try activationName(d.activation, g, d), "use_bias": .bool(d.bias != nil)]
    })

    static let activation = KerasCodec<ActivationLayer>(classNames: ["Activation"], decode: { a, _ in
        ActivationLayer(name: a.name, activation: try a.activation())
    }, encode: { l, g in ["activation": try activationName(l.activation, g, l)] })

    /// The identity at inference; `seed` and `noise_shape` only matter while training.
    static let dropout = KerasCodec<Dropout>(classNames: ["Dropout"], decode: { a, _ in
        let rate = try a.float("rate", default: 0)
        a.ignore("seed", "noise_shape")
        return Dropout(name: a.name, rate: rate)
    }, encode: { d, _ in ["rate": num(d.rate), "noise_shape": .null, "seed": .null] })

    static let inferenceIdentity = KerasCodec<InferenceIdentity>(
        classNames: InferenceIdentity.Kind.allCases.map(\.rawValue), decode: { a, _ in
        guard let kind = InferenceIdentity.Kind(rawValue: a.className) else { throw a.error("not an inference-identity layer") }
        var rate: Float = 0
        switch kind {
        case .gaussianNoise: rate = try a.float("stddev", default: 0)
        case .activityRegularization: a.ignore("l1", "l2")
        case .spatialDropout2D:
            rate = try a.float("rate", default: 0)
            try a.requireChannelsLast()
        case .gaussianDropout, .alphaDropout: rate = try a.float("rate", default: 0)
        case .stochasticDepth: rate = try a.float("drop_path_rate", default: 0)
        }
        a.ignore("seed", "noise_shape")
        return InferenceIdentity(name: a.name, kind: kind, rate: rate)
    }, encode: { l, g in
        switch l.kind {
        case .gaussianNoise: return ["stddev": num(l.rate), "seed": .null]
        case .gaussianDropout, .alphaDropout: return ["rate": num(l.rate), "seed": .null]
        case .spatialDropout2D:
            var config: [String: JSONValue] = ["rate": num(l.rate), "seed": .null]
            // Keras 3's SpatialDropout layers take no `trainable` argument.
            if g == .keras3 {
                config["trainable"] = .null
                config["data_format"] = channelsLast
            }
            return config
        case .stochasticDepth: return ["drop_path_rate": num(l.rate)]
        case .activityRegularization:
            throw unsupported(l, "its l1/l2 factors are not kept at import (they only act while training), so its Keras config cannot be written")
        }
    }, spelling: { l, _ in
        l.kind == .stochasticDepth ? applicationLayer("StochasticDepth", in: "convnext") : nil
    })
}

import ModelPortRuntime

/// Layers that `keras.applications` defines for its own networks (not in
/// `keras.layers`): InceptionResNetV2's `CustomScaleLayer`, ConvNeXt's
/// `LayerScale` (and `StochasticDepth`, an inference identity in the core
/// family). Keras 3 archives name their module; tf-keras registers
/// `CustomScaleLayer` under the `Custom>` package.
extension KerasCodecs {
    static let applicationLayers = KerasFamily("application layers", [AnyKerasCodec(customScale), AnyKerasCodec(layerScale)])

    /// `inputs[0] + inputs[1] * scale`.
    static let customScale = KerasCodec<ScaledSum>(classNames: ["CustomScaleLayer", "Custom>CustomScaleLayer"], decode: { a, _ in
        ScaledSum(name: a.name, scale: try a.float("scale"))
    }, encode: { l, _ in ["scale": num(l.scale)] }, spelling: { _, g in
        g == .keras2 ? KerasClassSpelling(className: "Custom>CustomScaleLayer", module: "keras.applications")
            : applicationLayer("CustomScaleLayer", in: "inception_resnet_v2")
    })

    /// `x * gamma`, gamma one weight per channel (Keras 3 names it `variable`).
    static let layerScale = KerasCodec<LayerScale>(classNames: ["LayerScale"], decode: { a, inputShape in
        guard let channels = inputShape.last else { throw a.error("expects an input with a channel axis") }
        let projection = try a.int("projection_dim", range: 1...16_777_216)
        guard projection == channels else {
            throw a.error("projection_dim \(projection) does not match the input's \(channels) channels", argument: "projection_dim")
        }
        try a.checkParameterShape([channels], argument: "projection_dim")
        return LayerScale(name: a.name, channels: channels, initialValue: try a.float("init_values", default: 1e-6))
    }, encode: { l, _ in
        ["init_values": num(l.initialValue), "projection_dim": .number(Double(l.channels))]
    }, spelling: { _, _ in applicationLayer("LayerScale", in: "convnext") })
}

/// A class of `keras.applications.<module>` as Keras 3 archives spell it.
func applicationLayer(_ className: String, in module: String) -> KerasClassSpelling {
    KerasClassSpelling(className: className, module: "keras.src.applications." + module, registeredName: className)
}

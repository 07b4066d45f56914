import ModelPortRuntime

/// Layers `keras.applications` defines: InceptionResNetV2's `CustomScaleLayer`
/// (`Mul` by the scale, `Add`) and ConvNeXt's `LayerScale` (`Mul` by gamma on
/// the channel axis). Export only: ONNX's `Mul`/`Add` import as the
/// merges family's constant operations and merges.
extension ONNXFamily {
    static let applicationLayers = ONNXFamily(
        "application layers",
        imports: [],
        exports: [
            .layer(ScaledSum.self, ["CustomScaleLayer"], exportScaledSum),
            .layer(LayerScale.self, ["LayerScale"], exportLayerScale),
        ])
}

private func exportScaledSum(_ l: ScaledSum, _ x: [ONNXValue], _ c: ONNXExportContext) throws -> ONNXValue {
    // Both inputs in one layout: channels-first only if both already are.
    let inputs = x.allSatisfy(\.channelsFirst) ? x : x.map { c.channelsLast($0) }
    let scaled = c.node("Mul", [inputs[1].name, c.scalar(l.name + "_scale", l.scale)], name: l.name + "_scaled")
    let y = c.node("Add", [inputs[0].name, scaled], name: l.name)
    return ONNXValue(name: y, kerasShape: inputs[0].kerasShape, channelsFirst: inputs[0].channelsFirst)
}

private func exportLayerScale(_ l: LayerScale, _ x: [ONNXValue], _ c: ONNXExportContext) throws -> ONNXValue {
    let input = c.channelsLast(x[0])
    let y = c.node("Mul", [input.name, c.constant(l.name + "_gamma", shape: [l.channels], l.gamma.value.scalars)], name: l.name)
    return ONNXValue(name: y, kerasShape: input.kerasShape, channelsFirst: false)
}

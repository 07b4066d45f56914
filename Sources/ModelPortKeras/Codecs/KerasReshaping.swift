import ModelPortRuntime

/// Keras layers that move or copy values without arithmetic: `ZeroPadding2D`,
/// `Cropping2D`, `UpSampling2D` (nearest, bilinear), `Flatten`, `Reshape`, `Permute`,
/// `RepeatVector`.
extension KerasCodecs {
    static let reshaping = KerasFamily("reshaping", [
        AnyKerasCodec(padding2D), AnyKerasCodec(upSampling2D), AnyKerasCodec(flatten), AnyKerasCodec(reshape),
        AnyKerasCodec(permute), AnyKerasCodec(repeatVector),
    ])

    static let padding2D = KerasCodec<Padding2D>(classNames: ["ZeroPadding2D", "Cropping2D"], decode: { a, _ in
        try a.requireChannelsLast()
        let crop = a.className == "Cropping2D"
        let amounts = try a.amounts2D(crop ? "cropping" : "padding")
        return Padding2D(name: a.name, kind: crop ? .crop : .zeroPad,
                         top: amounts.top, bottom: amounts.bottom, left: amounts.left, right: amounts.right)
    }, encode: { p, _ in
        [p.kind == .zeroPad ? "padding" : "cropping": .array([pair(p.top, p.bottom), pair(p.left, p.right)]), "data_format": channelsLast]
    })

    /// Nearest-neighbour interpolation only.
    static let upSampling2D = KerasCodec<UpSampling2D>(classNames: ["UpSampling2D"], decode: { a, _ in
        try a.requireChannelsLast()
        let interpolation = try a.choice("interpolation", default: UpSampling2D.Interpolation.nearest)
        return UpSampling2D(name: a.name, size: try a.intPair("size", default: (2, 2), range: 1...4096), interpolation: interpolation)
    }, encode: { u, _ in
        ["size": pair(u.size.y, u.size.x), "data_format": channelsLast, "interpolation": .string(u.interpolation.rawValue)]
    })

    /// channels_last only: the flattening order is NHWC.
    static let flatten = KerasCodec<Flatten>(classNames: ["Flatten"], decode: { a, _ in
        try a.requireChannelsLast()
        return Flatten(name: a.name)
    }, encode: { _, _ in ["data_format": channelsLast] })

    static let reshape = KerasCodec<Reshape>(classNames: ["Reshape"], decode: { a, _ in
        let target = try a.intList("target_shape")
        // The runtime multiplies the sizes out; refuse what would overflow there.
        var total = 1
        for d in target where d != -1 {
            let (product, overflow) = total.multipliedReportingOverflow(by: d)
            guard !overflow, product <= KerasModelConfig.maxSampleElements else {
                throw a.error("target shape \(target) has more elements than ModelPort accepts (\(KerasModelConfig.maxSampleElements))",
                              argument: "target_shape")
            }
            total = product
        }
        return Reshape(name: a.name, targetShape: target)
    }, encode: { r, _ in ["target_shape": ints(r.targetShape)] })

    /// `dims`: 1-based sample axes.
    static let permute = KerasCodec<Permute>(classNames: ["Permute"], decode: { a, _ in
        Permute(name: a.name, dims: try a.intList("dims", range: 1...32))
    }, encode: { p, _ in ["dims": ints(p.dims)] })

    static let repeatVector = KerasCodec<RepeatVector>(classNames: ["RepeatVector"], decode: { a, _ in
        RepeatVector(name: a.name, count: try a.int("n", range: 1...1_048_576))
    }, encode: { r, _ in ["n": .number(Double(r.count))] })
}

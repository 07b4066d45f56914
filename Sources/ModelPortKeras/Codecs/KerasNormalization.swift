import ModelPortRuntime

/// Keras normalization on the last axis: `BatchNormalization`,
/// `LayerNormalization`, `Normalization` (adapted or given statistics),
/// `UnitNormalization`, `Rescaling`.
extension KerasCodecs {
    static let normalization = KerasFamily("normalization", [
        AnyKerasCodec(batchNormalization), AnyKerasCodec(layerNormalization), AnyKerasCodec(normalizationLayer),
        AnyKerasCodec(unitNormalization), AnyKerasCodec(rescaling),
    ])

    /// gamma (if `scale`), beta (if `center`), moving_mean, moving_variance.
    static let batchNormalization = KerasCodec<BatchNormalization>(classNames: ["BatchNormalization"], decode: { a, inputShape in
        guard let channels = inputShape.last else { throw a.error("expects an input with a channel axis") }
        try a.requireLastAxis(sampleRank: inputShape.count)
        let epsilon = try a.float("epsilon", default: 1e-3)
        let momentum = try a.float("momentum", default: 0.99)
        let center = try a.bool("center", default: true)
        let scale = try a.bool("scale", default: true)
        // Keras 2 options that change what inference computes must be off.
        try a.require("renorm", oneOf: [.bool(false)])
        try a.require("virtual_batch_size", oneOf: [])
        try a.require("adjustment", oneOf: [])
        try a.require("synchronized", oneOf: [.bool(false)])
        a.ignore("fused", "renorm_clipping", "renorm_momentum")
        // gamma, beta, moving mean and variance.
        try a.checkParameterShape([4, channels], argument: "axis")
        return BatchNormalization(name: a.name, channels: channels, epsilon: epsilon, momentum: momentum, scale: scale, center: center)
    }, encode: { b, _ in
        ["axis": .number(-1), "momentum": num(b.momentum), "epsilon": num(b.epsilon),
         "center": .bool(b.beta != nil), "scale": .bool(b.gamma != nil)]
    })

    /// gamma, beta.
    static let layerNormalization = KerasCodec<LayerNormalization>(classNames: ["LayerNormalization"], decode: { a, inputShape in
        guard let features = inputShape.last else { throw a.error("expects an input with a feature axis") }
        try a.requireLastAxis(sampleRank: inputShape.count)
        try a.require("rms_scaling", oneOf: [.bool(false)])
        try a.checkParameterShape([2, features], argument: "axis")
        return LayerNormalization(name: a.name, features: features, epsilon: try a.float("epsilon", default: 1e-3),
                                  scale: try a.bool("scale", default: true), center: try a.bool("center", default: true))
    }, encode: { n, _ in
        ["axis": .number(-1), "epsilon": num(n.epsilon), "center": .bool(n.beta != nil), "scale": .bool(n.gamma != nil)]
    })

    /// After `adapt`: statistics stored as weights mean, variance, count.
    /// Given in the config instead (`mean=[...]`, `variance=[...]`, a number
    /// or one per feature): constants, no weights.
    static let normalizationLayer = KerasCodec<Normalization>(classNames: ["Normalization"], decode: { a, inputShape in
        guard let features = inputShape.last else { throw a.error("expects an input with a feature axis") }
        try a.requireLastAxis(sampleRank: inputShape.count)
        try a.require("invert", oneOf: [.bool(false)])
        if let mean = try a.statistics("mean", features: features), let variance = try a.statistics("variance", features: features) {
            guard mean.count == variance.count else {
                throw a.error("mean has \(mean.count) values but variance \(variance.count)", argument: "variance")
            }
            return Normalization(name: a.name, mean: mean, variance: variance)
        }
        try a.require("mean", oneOf: [])
        try a.require("variance", oneOf: [])
        // mean, variance and count.
        try a.checkParameterShape([2 * features + 1], argument: "axis")
        return Normalization(name: a.name, features: features)
    }, encode: { n, _ in
        guard n.fixedStatistics else {
            return ["axis": .array([.number(-1)]), "mean": .null, "variance": .null, "invert": .bool(false)]
        }
        return ["axis": .array([.number(-1)]), "invert": .bool(false),
                "mean": .array(n.mean.value.scalars.map(num)), "variance": .array(n.variance.value.scalars.map(num))]
    })

    /// L2 over the last axis. The two generations cap the inverse norm
    /// differently (Keras 3 at 1e12, tf-keras at 1e6): the file's generation
    /// decides; the difference only shows for vectors of norm below 1e-6.
    static let unitNormalization = KerasCodec<UnitNormalization>(classNames: ["UnitNormalization"], decode: { a, inputShape in
        let axis = try a.value("axis")
        let rank = inputShape.count + 1
        let last: [JSONValue] = [.number(-1), .number(Double(rank - 1)), .array([.number(-1)]), .array([.number(Double(rank - 1))])]
        if let axis, !last.contains(axis) {
            throw a.error("normalizing over axis \(axis.compactText) is not supported (only the last axis)", argument: "axis")
        }
        return UnitNormalization(name: a.name, maxInverseNorm: a.kerasMajorVersion < 3 ? 1e6 : 1e12)
    }, encode: { _, _ in ["axis": .number(-1)] })

    /// Scalar `scale` and `offset`.
    static let rescaling = KerasCodec<Rescaling>(classNames: ["Rescaling"], decode: { a, _ in
        Rescaling(name: a.name, scale: try a.float("scale"), offset: try a.float("offset", default: 0))
    }, encode: { r, _ in ["scale": num(r.scale), "offset": num(r.offset)] })
}

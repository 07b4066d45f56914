import ModelPortRuntime

/// Keras pooling: `MaxPooling2D`, `AveragePooling2D` (`strides` defaults to
/// the pool size) and the global poolings (and their `...Pool2D` aliases).
extension KerasCodecs {
    static let pooling = KerasFamily("pooling", [
        AnyKerasCodec(maxPooling2D), AnyKerasCodec(averagePooling2D), AnyKerasCodec(globalPooling2D),
    ])

    static let maxPooling2D = KerasCodec<MaxPooling2D>(classNames: ["MaxPooling2D", "MaxPool2D"], decode: { a, _ in
        let w = try window(&a)
        return MaxPooling2D(name: a.name, poolSize: w.pool, strides: w.strides, padding: w.padding)
    }, encode: { p, _ in
        windowConfig(pool: (p.poolSize.height, p.poolSize.width), strides: (p.strides.y, p.strides.x), padding: p.padding)
    })

    static let averagePooling2D = KerasCodec<AveragePooling2D>(classNames: ["AveragePooling2D", "AvgPool2D"], decode: { a, _ in
        let w = try window(&a)
        return AveragePooling2D(name: a.name, poolSize: w.pool, strides: w.strides, padding: w.padding)
    }, encode: { p, _ in
        windowConfig(pool: (p.poolSize.height, p.poolSize.width), strides: (p.strides.y, p.strides.x), padding: p.padding)
    })

    /// One runtime layer for both kinds; the class name says which.
    static let globalPooling2D = KerasCodec<GlobalPooling2D>(
        classNames: ["GlobalAveragePooling2D", "GlobalAvgPool2D", "GlobalMaxPooling2D", "GlobalMaxPool2D"], decode: { a, _ in
        try a.requireChannelsLast()
        let keepDims = try a.bool("keepdims", default: false)
        return GlobalPooling2D(name: a.name, kind: a.className.contains("Max") ? .max : .average, keepDims: keepDims)
    }, encode: { p, _ in
        ["data_format": channelsLast, "keepdims": .bool(p.keepDims)]
    })

    private static func window(_ a: inout LayerArguments) throws -> (pool: (Int, Int), strides: (Int, Int), padding: WindowGeometry.Padding) {
        try a.requireChannelsLast()
        let pool = try a.intPair("pool_size", default: (2, 2))
        return (pool, try a.intPair("strides", default: pool), try a.padding())
    }

    private static func windowConfig(pool: (Int, Int), strides: (Int, Int), padding: WindowGeometry.Padding) -> [String: JSONValue] {
        ["pool_size": pair(pool.0, pool.1), "strides": pair(strides.0, strides.1), "padding": .string(padding.rawValue),
         "data_format": channelsLast]
    }
}

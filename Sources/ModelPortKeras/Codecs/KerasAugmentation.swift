import ModelPortRuntime

/// Keras's random augmentation layers (`RandomFlip`, `RandomRotation`,
/// `RandomZoom`, `RandomTranslation`, `RandomContrast`, `RandomBrightness`):
/// the identity at inference, their arguments kept for writing back.
extension KerasCodecs {
    static let augmentation = KerasFamily("augmentation", [AnyKerasCodec(randomAugmentation)])

    static let randomAugmentation = KerasCodec<RandomAugmentation>(
        classNames: RandomAugmentation.Kind.allCases.map(\.rawValue), decode: { a, _ in
        guard let kind = RandomAugmentation.Kind(rawValue: a.className) else { throw a.error("not an augmentation layer") }
        try a.requireChannelsLast()
        a.ignore("rng_type")  // tf-keras: which random generator training uses
        var s = RandomAugmentation.Settings()
        if let seed = a.value("seed") {
            guard let i = seed.int else { throw a.error("expected an integer or null, found \(seed.compactText)", argument: "seed") }
            s.seed = i
        }
        switch kind {
        case .flip:
            s.mode = try a.choice("mode", default: RandomAugmentation.FlipMode.horizontalAndVertical)
        case .rotation, .zoom, .translation:
            if kind == .rotation { s.factor = try factor(&a, "factor") } else {
                s.heightFactor = try factor(&a, "height_factor")
                s.widthFactor = try factor(&a, "width_factor", required: kind == .translation)
            }
            s.fillMode = try a.choice("fill_mode", default: RandomAugmentation.FillMode.reflect)
            s.interpolation = try a.choice("interpolation", default: RandomAugmentation.Interpolation.bilinear)
            s.fillValue = try a.float("fill_value", default: 0)
        case .contrast, .brightness:
            s.factor = try factor(&a, "factor")
            s.valueRange = try factor(&a, "value_range", required: false)
        }
        return RandomAugmentation(name: a.name, kind: kind, settings: s)
    }, encode: { l, g in
        let s = l.settings
        var config: [String: JSONValue] = ["seed": s.seed.map { .number(Double($0)) } ?? .null]
        if g == .keras3 { config["data_format"] = channelsLast }
        func list(_ v: [Float]?) -> JSONValue { v.map { $0.count == 1 ? num($0[0]) : .array($0.map(num)) } ?? .null }
        switch l.kind {
        case .flip: config["mode"] = .string((s.mode ?? .horizontalAndVertical).rawValue)
        case .rotation, .zoom, .translation:
            if l.kind == .rotation { config["factor"] = list(s.factor) } else {
                config["height_factor"] = list(s.heightFactor)
                config["width_factor"] = list(s.widthFactor)
            }
            config["fill_mode"] = .string((s.fillMode ?? .reflect).rawValue)
            config["interpolation"] = .string((s.interpolation ?? .bilinear).rawValue)
            config["fill_value"] = num(s.fillValue ?? 0)
        case .contrast:
            config["factor"] = list(s.factor)
            // tf-keras's RandomContrast takes no value range (it only clips in Keras 3).
            if g == .keras3, let range = s.valueRange { config["value_range"] = list(range) }
        case .brightness:
            config["factor"] = list(s.factor)
            if let range = s.valueRange { config["value_range"] = list(range) }
        }
        return config
    })

    /// A factor given as one number or a `[lower, upper]` pair, finite.
    private static func factor(_ a: inout LayerArguments, _ key: String, required: Bool = true) throws -> [Float]? {
        guard let v = a.value(key) else {
            if required { throw a.error("missing required argument", argument: key) }
            return nil
        }
        let values = v.number.map { [$0] } ?? v.array?.compactMap(\.number) ?? []
        guard (values.count == 1 && v.number != nil) || (values.count == 2 && v.array?.count == 2),
              values.allSatisfy({ $0.isFinite && abs($0) <= 1e6 }) else {
            throw a.error("expected a number or a pair of numbers, found \(v.compactText)", argument: key)
        }
        return values.map { Float($0) }
    }
}

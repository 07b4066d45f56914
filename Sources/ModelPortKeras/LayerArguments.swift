import ModelPortRuntime

/// One layer's Keras config, read key by key.
///
/// Every getter records the key as understood. After a factory has built its
/// layer, `checkAllUnderstood()` rejects any key left over with a non-null
/// value: an argument ModelPort does not know is an error naming it, never a
/// silent approximation.
public struct LayerArguments: Sendable {
    public let file: String
    public let className: String
    public let name: String
    public let config: [String: JSONValue]
    /// The Keras generation that wrote the file (2 or 3): a few definitions
    /// differ between them (e.g. `hard_sigmoid`).
    public let kerasMajorVersion: Int
    /// The weights the model declared before this layer; `checkParameterShape`
    /// adds this layer's, so the running total is checked before allocation.
    public private(set) var weights: WeightBudget
    /// For an operation layer, its call's arguments (constants included).
    public internal(set) var operation: KerasOperationCall?
    private var understood: Set<String> = []

    /// Keys that never change what a trained layer computes at inference.
    static let inertKeys: Set<String> = [
        "name", "trainable", "dtype",
        "kernel_initializer", "bias_initializer", "depthwise_initializer", "pointwise_initializer",
        "gamma_initializer", "beta_initializer", "moving_mean_initializer", "moving_variance_initializer",
        "kernel_regularizer", "bias_regularizer", "activity_regularizer", "depthwise_regularizer",
        "pointwise_regularizer", "gamma_regularizer", "beta_regularizer",
        "kernel_constraint", "bias_constraint", "depthwise_constraint", "pointwise_constraint",
        "gamma_constraint", "beta_constraint",
    ]

    /// Largest parameter tensor a config may ask for (elements); a hostile
    /// config must not make the importer allocate gigabytes before any weight
    /// is read.
    public static let maxParameterElements = 1 << 28

    public init(file: String, className: String, name: String, config: [String: JSONValue], kerasMajorVersion: Int = 3,
                weights: WeightBudget = WeightBudget()) throws {
        self.file = file
        self.className = className
        self.name = name
        self.config = config
        self.kerasMajorVersion = kerasMajorVersion
        self.weights = weights
        understood = LayerArguments.inertKeys
        try checkDType()
    }

    /// An error about this layer, optionally naming one argument.
    public func error(_ message: String, argument: String? = nil) -> KerasImportError {
        KerasImportError(file: file, layer: name, className: className, argument: argument, message: message)
    }

    /// Marks keys as understood without reading them (arguments that only
    /// matter during training, such as a dropout seed).
    public mutating func ignore(_ keys: String...) { understood.formUnion(keys) }

    /// The raw value of `key`, marking it understood; nil when absent or null.
    public mutating func value(_ key: String) -> JSONValue? {
        understood.insert(key)
        guard let v = config[key], !v.isNull else { return nil }
        return v
    }

    public mutating func int(_ key: String, default fallback: Int? = nil, range: ClosedRange<Int>? = nil) throws -> Int {
        guard let v = value(key) else {
            if let fallback { return fallback }
            throw error("missing required argument", argument: key)
        }
        guard let i = v.int else { throw error("expected an integer, found \(v.compactText)", argument: key) }
        if let range, !range.contains(i) {
            throw error("\(i) is outside the supported range \(range.lowerBound)...\(range.upperBound)", argument: key)
        }
        return i
    }

    /// A pair given as `[a, b]` or as one integer used for both (Keras accepts either).
    public mutating func intPair(_ key: String, default fallback: (Int, Int)? = nil,
                                 range: ClosedRange<Int> = 1...65_536) throws -> (Int, Int) {
        guard let v = value(key) else {
            if let fallback { return fallback }
            throw error("missing required argument", argument: key)
        }
        let pair: (Int, Int)
        if let i = v.int { pair = (i, i) }
        else if let a = v.array, a.count == 2, let x = a[0].int, let y = a[1].int { pair = (x, y) }
        else { throw error("expected an integer or a pair of integers, found \(v.compactText)", argument: key) }
        guard range.contains(pair.0), range.contains(pair.1) else {
            throw error("\(pair) is outside the supported range \(range.lowerBound)...\(range.upperBound)", argument: key)
        }
        return pair
    }

    public mutating func string(_ key: String, default fallback: String? = nil) throws -> String {
        guard let v = value(key) else {
            if let fallback { return fallback }
            throw error("missing required argument", argument: key)
        }
        guard let s = v.string else { throw error("expected a string, found \(v.compactText)", argument: key) }
        return s
    }

    public mutating func bool(_ key: String, default fallback: Bool? = nil) throws -> Bool {
        guard let v = value(key) else {
            if let fallback { return fallback }
            throw error("missing required argument", argument: key)
        }
        guard let b = v.bool else { throw error("expected true or false, found \(v.compactText)", argument: key) }
        return b
    }

    public mutating func float(_ key: String, default fallback: Float? = nil) throws -> Float {
        guard let v = value(key) else {
            if let fallback { return fallback }
            throw error("missing required argument", argument: key)
        }
        guard let d = v.number else { throw error("expected a number, found \(v.compactText)", argument: key) }
        return Float(d)
    }

    /// `key` as per-feature constants: a number, or a (possibly nested) list
    /// of 1 or `features` numbers; nil when absent or null.
    public mutating func statistics(_ key: String, features: Int) throws -> [Float]? {
        guard let v = value(key) else { return nil }
        func flatten(_ v: JSONValue) -> [Double]? {
            if let d = v.number { return [d] }
            guard let list = v.array else { return nil }
            var out: [Double] = []
            for item in list {
                guard let part = flatten(item), out.count + part.count <= features else { return nil }
                out += part
            }
            return out
        }
        guard let values = flatten(v), values.count == 1 || values.count == features else {
            throw error("expected a number or \(features) numbers (one per feature), found \(v.compactText.prefix(120))", argument: key)
        }
        return values.map(Float.init)
    }

    /// Requires `key` to be absent, null, or one of `allowed` (compared as JSON).
    public mutating func require(_ key: String, oneOf allowed: [JSONValue]) throws {
        guard let v = value(key) else { return }
        guard allowed.contains(v) else {
            throw error("value \(v.compactText) is not supported (supported: \(allowed.map(\.compactText).joined(separator: ", ")))",
                        argument: key)
        }
    }

    /// `padding`: "valid" or "same" ("causal" and others are rejected).
    public mutating func padding(_ key: String = "padding") throws -> WindowGeometry.Padding {
        let s = try string(key, default: "valid")
        guard let p = WindowGeometry.Padding(rawValue: s.lowercased()) else {
            throw error("padding '\(s)' is not supported (supported: valid, same)", argument: key)
        }
        return p
    }

    /// A string argument naming one case of `E` (its raw value), e.g. `fill_mode`.
    public mutating func choice<E: RawRepresentable & CaseIterable>(_ key: String, default fallback: E) throws -> E
        where E.RawValue == String {
        let s = try string(key, default: fallback.rawValue)
        guard let value = E(rawValue: s) else {
            throw error("\(key) '\(s)' is not one of \(E.allCases.map(\.rawValue))", argument: key)
        }
        return value
    }

    /// A list of integers (`[49, 16]`).
    public mutating func intList(_ key: String, range: ClosedRange<Int> = -1...16_777_216) throws -> [Int] {
        guard let v = value(key) else { throw error("missing required argument", argument: key) }
        guard let a = v.array, let list = Optional(a.compactMap(\.int)), list.count == a.count,
              list.allSatisfy({ range.contains($0) }) else {
            throw error("expected a list of integers in \(range.lowerBound)...\(range.upperBound), found \(v.compactText)", argument: key)
        }
        return list
    }

    /// Padding or cropping amounts as Keras accepts them: `n`, `[a, b]`
    /// (symmetric per axis) or `[[top, bottom], [left, right]]`.
    public mutating func amounts2D(_ key: String) throws -> (top: Int, bottom: Int, left: Int, right: Int) {
        guard let v = value(key) else { throw error("missing required argument", argument: key) }
        let bad = error("expected n, [h, w] or [[top, bottom], [left, right]], found \(v.compactText)", argument: key)
        func check(_ x: Int?) throws -> Int { guard let x, (0...65_536).contains(x) else { throw bad }; return x }
        if let n = v.int { let n = try check(n); return (n, n, n, n) }
        guard let a = v.array, a.count == 2 else { throw bad }
        if let h = a[0].int, let w = a[1].int {
            let (h, w) = (try check(h), try check(w))
            return (h, h, w, w)
        }
        guard let hs = a[0].array, let ws = a[1].array, hs.count == 2, ws.count == 2 else { throw bad }
        return (try check(hs[0].int), try check(hs[1].int), try check(ws[0].int), try check(ws[1].int))
    }

    /// An axis argument that must name the last axis of a rank-`rank` sample
    /// (given as -1, as the last batch axis, or as a one-element list).
    public mutating func requireLastAxis(_ key: String = "axis", sampleRank: Int) throws {
        guard let v = value(key) else { return }
        let axes = v.array?.compactMap(\.int) ?? (v.int.map { [$0] } ?? [])
        guard axes.count == 1, axes[0] == -1 || axes[0] == sampleRank else {
            throw error("only the last axis is supported, found \(v.compactText)", argument: key)
        }
    }

    /// `data_format`: only "channels_last", ModelPort's NHWC layout.
    public mutating func requireChannelsLast(_ key: String = "data_format") throws {
        try require(key, oneOf: [.string("channels_last")])
    }

    /// An activation given by name (`"relu"`) or as Keras 3 serialises a
    /// built-in function (`{"class_name": "function", "config": "relu", ...}`).
    public mutating func activation(_ key: String = "activation") throws -> Activation {
        guard let v = value(key) else { return .linear }
        let name: String?
        if let s = v.string { name = s }
        else if let s = v["config"]?.string { name = s }
        else if let s = v["config"]?["name"]?.string { name = s }
        else { name = nil }
        guard let name else { throw error("cannot read activation \(v.compactText)", argument: key) }
        guard let a = Activation.named(name, kerasMajorVersion: kerasMajorVersion) else {
            throw error("activation '\(name)' is not supported (supported: \(Activation.kerasNames.joined(separator: ", ")))",
                        argument: key)
        }
        return a
    }

    /// Refuses a parameter tensor larger than `maxParameterElements`, or one
    /// that would take the model's weights past their memory limit; call it
    /// for every weight before constructing the layer.
    /// - Parameter argument: the config argument that sized it, for the message.
    public mutating func checkParameterShape(_ shape: [Int], argument: String) throws {
        var total = 1
        for d in shape {
            let (product, overflow) = total.multipliedReportingOverflow(by: d)
            guard d >= 0, !overflow, product <= LayerArguments.maxParameterElements else {
                throw error("asks for a weight of shape \(shape), larger than ModelPort accepts (\(LayerArguments.maxParameterElements) elements)",
                            argument: argument)
            }
            total = product
        }
        do {
            try weights.reserve(shape, for: "a weight")
        } catch let e as RuntimeError {
            throw error(e.message, argument: argument)
        }
    }

    /// Rejects any config key no getter or `ignore` has marked as understood,
    /// unless its value is null.
    public func checkAllUnderstood() throws {
        for key in config.keys.sorted() where !understood.contains(key) {
            if let v = config[key], !v.isNull {
                throw error("argument is not supported by ModelPort (value \(v.compactText))", argument: key)
            }
        }
    }

    /// Layers compute in float32: refuse other dtype policies (mixed_float16
    /// would change results), written as a string (Keras 2) or a DTypePolicy
    /// object (Keras 3).
    private func checkDType() throws {
        guard let v = config["dtype"], !v.isNull else { return }
        let policy = v.string ?? v["config"]?["name"]?.string
        guard policy == "float32" else {
            throw error("dtype policy \(v.compactText) is not supported (ModelPort computes in float32)", argument: "dtype")
        }
    }
}

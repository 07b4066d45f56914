import ModelPortRuntime

/// Keras operations in a functional graph: the tensor arithmetic users write
/// for preprocessing (`x / 127.5 - 1`, `preprocess_input`, `x[..., ::-1]`).
/// Keras 3 saves each call as an op layer (`TrueDivide`, `Subtract`, `GetItem`,
/// `Stack`, ..., module `keras.src.ops.*`); tf-keras as `TFOpLambda` /
/// `SlicingOpLambda` naming the TensorFlow function (`math.truediv`). The
/// constant operands are in the call (`KerasOperationCall`), not the config.
///
/// A constant operand makes a `ConstantArithmetic`; two tensors a `Merge`
/// (Keras 3's `Add`/`Subtract`/`Multiply`/`Maximum`/`Minimum` op layers are
/// told from the merge layers of the same names by their call); `Relu`,
/// `Sigmoid`, `Tanh`, `Exp` an `Activation`, `Relu6` and `Clip` from 0 a `ReLU(max_value)`; `GetItem` a
/// `StridedSlice`; `Stack` a `Stack`. Written back in each generation's own
/// spelling; a legacy Keras 3 `.h5` (which Keras 3 cannot load op layers
/// from) gets a `Rescaling` where that is exact, and a refusal otherwise.
extension KerasCodecs {
    static let operations = KerasFamily("operations", [
        AnyKerasCodec(constantArithmetic), AnyKerasCodec(unaryMath), AnyKerasCodec(stridedSlice), AnyKerasCodec(stack),
    ])

    /// What a call computes, from its Keras 3 class name or tf-keras function.
    enum OperationKind: Equatable {
        case arithmetic(ConstantArithmetic.Operation)
        case biasAdd
        case unary(UnaryMath.Function)
        case activation(Activation)
        case getItem
        case stack
        case clip
    }

    /// Each generation's spellings of the operations, for reading and writing:
    /// every name is read; the first name of a kind is the one written.
    struct Spellings {
        let names: [(name: String, kind: OperationKind)]
        let byName: [String: OperationKind]
        init(_ names: [(String, OperationKind)]) {
            self.names = names.map { (name: $0.0, kind: $0.1) }
            byName = Dictionary(names, uniquingKeysWith: { first, _ in first })
        }
        subscript(name: String) -> OperationKind? { byName[name] }
        /// The written spelling of `kind`.
        func name(of kind: OperationKind) -> String? { names.first { $0.kind == kind }?.name }
        var keys: Dictionary<String, OperationKind>.Keys { byName.keys }
    }

    /// Keras 3 op layer class names.
    static let keras3Operations = Spellings([
        ("Add", .arithmetic(.add)), ("Subtract", .arithmetic(.subtract)), ("Multiply", .arithmetic(.multiply)),
        ("TrueDivide", .arithmetic(.divide)), ("Divide", .arithmetic(.divide)), ("Maximum", .arithmetic(.maximum)),
        ("Minimum", .arithmetic(.minimum)), ("Power", .arithmetic(.power)),
        ("Sqrt", .unary(.sqrt)), ("Square", .unary(.square)), ("Absolute", .unary(.absolute)), ("Negative", .unary(.negative)),
        ("Log", .unary(.log)), ("Reciprocal", .unary(.reciprocal)),
        ("Relu", .activation(.relu)), ("Relu6", .activation(.relu6)), ("Sigmoid", .activation(.sigmoid)), ("Tanh", .activation(.tanh)),
        ("Exp", .activation(.exponential)),
        ("GetItem", .getItem), ("Stack", .stack), ("Clip", .clip),
    ])

    /// tf-keras `TFOpLambda` functions (`tf.` left out).
    static let tfOperations = Spellings([
        ("math.add", .arithmetic(.add)), ("__operators__.add", .arithmetic(.add)), ("math.subtract", .arithmetic(.subtract)),
        ("math.multiply", .arithmetic(.multiply)), ("math.truediv", .arithmetic(.divide)), ("math.divide", .arithmetic(.divide)),
        ("math.maximum", .arithmetic(.maximum)), ("math.minimum", .arithmetic(.minimum)), ("math.pow", .arithmetic(.power)),
        ("nn.bias_add", .biasAdd),
        ("math.sqrt", .unary(.sqrt)), ("math.square", .unary(.square)), ("math.abs", .unary(.absolute)),
        ("math.negative", .unary(.negative)), ("math.log", .unary(.log)), ("math.reciprocal", .unary(.reciprocal)),
        ("nn.relu", .activation(.relu)), ("nn.relu6", .activation(.relu6)), ("math.sigmoid", .activation(.sigmoid)),
        ("nn.sigmoid", .activation(.sigmoid)), ("math.tanh", .activation(.tanh)), ("nn.tanh", .activation(.tanh)),
        ("math.exp", .activation(.exponential)),
        ("__operators__.getitem", .getItem), ("stack", .stack), ("clip_by_value", .clip),
    ])

    /// Keras 3 op class names, recognised as operations in legacy `.h5`
    /// files (which do not save the module) unless a merge layer shares the name.
    static let operationClassNames = Set(keras3Operations.keys).subtracting(KerasOperationCall.sharedWithMerges)

    // MARK: Codecs (export lookup and the supported-layer table)

    private static func onlyAsCall(_ a: inout LayerArguments) throws -> any Layer {
        throw a.error("an operation layer is read from its call in a functional model's inbound nodes, and this one has none")
    }

    private static func writtenAsCall(_ layer: any Layer) -> KerasExportError {
        unsupported(layer, "an operation can only be written inside a functional model (Keras has no Sequential layer for it)")
    }

    static let constantArithmetic = KerasCodec<ConstantArithmetic>(
        classNames: ["TrueDivide", "Divide", "Power", "TFOpLambda"],
        decode: { a, _ in try onlyAsCall(&a) }, encode: { l, _ in throw writtenAsCall(l) })

    static let unaryMath = KerasCodec<UnaryMath>(
        classNames: ["Sqrt", "Square", "Absolute", "Negative", "Log", "Reciprocal"],
        decode: { a, _ in try onlyAsCall(&a) }, encode: { l, _ in throw writtenAsCall(l) })

    static let stridedSlice = KerasCodec<StridedSlice>(
        classNames: ["GetItem", "SlicingOpLambda"],
        decode: { a, _ in try onlyAsCall(&a) }, encode: { l, _ in throw writtenAsCall(l) })

    static let stack = KerasCodec<Stack>(
        classNames: ["Stack"],
        decode: { a, _ in try onlyAsCall(&a) }, encode: { l, _ in throw writtenAsCall(l) })

    // MARK: Import

    /// The layer one operation call computes.
    /// - Throws: `KerasImportError` naming the layer, and the argument at fault.
    static func decodeOperation(_ a: inout LayerArguments, _ call: KerasOperationCall) throws -> any Layer {
        let kind: OperationKind
        let tf = a.className == "TFOpLambda" || a.className == "SlicingOpLambda"
        if tf {
            let function = try a.string("function")
            guard let k = tfOperations[function] else {
                throw a.error("TensorFlow function '\(function)' is not supported (supported: \(tfOperations.keys.sorted().joined(separator: ", ")))",
                              argument: "function")
            }
            kind = k
        } else {
            guard let k = keras3Operations[a.className] else {
                throw a.error("operation '\(a.className)' is not supported (supported: \(keras3Operations.keys.sorted().joined(separator: ", ")))")
            }
            kind = k
        }
        var operands = OperandReader(call: call, tf: tf, args: a)
        let layer: any Layer
        switch kind {
        case .arithmetic(let operation):
            let (x, y) = try operands.binary()
            layer = try arithmetic(operation, x, y, &a, call)
        case .biasAdd:
            let x = try operands.positional(0)
            let bias = try operands.keyword("bias")
            if let format = try operands.optionalKeyword("data_format")?.constant, !format.isNull,
               !["NHWC", "N...C"].contains(format.string ?? "") {
                throw a.error("bias_add with data_format \(format.compactText) is not supported (only NHWC)", argument: "data_format")
            }
            layer = try arithmetic(.add, x, bias, &a, call)
        case .unary(let function):
            _ = try operands.tensor(try operands.positional(0))
            layer = UnaryMath(name: a.name, function: function)
        case .activation(let activation):
            _ = try operands.tensor(try operands.positional(0))
            // relu6 as ReLU(max_value=6): Keras 2 has no "relu6" activation name, so it writes back to both generations.
            layer = activation == .relu6 ? ReLU(name: a.name, maxValue: 6) : ActivationLayer(name: a.name, activation: activation)
        case .getItem:
            _ = try operands.tensor(try operands.positional(0))
            let spec = tf ? try operands.keyword("slice_spec") : try operands.positional(1)
            guard let json = spec.constant else { throw a.error("the index is a tensor, which is not supported") }
            layer = StridedSlice(name: a.name, axes: try sliceAxes(json, sampleRank: call.inputShapes[0].count, &a))
        case .clip:
            _ = try operands.tensor(try operands.positional(0))
            let low: Double?, high: Double?
            if tf {
                low = try operands.keyword("clip_value_min").constant?.number
                high = try operands.keyword("clip_value_max").constant?.number
            } else {
                low = Double(try a.float("x_min"))
                high = Double(try a.float("x_max"))
            }
            // clip(x, 0, hi) is ReLU(max_value=hi) exactly; other lower bounds have no runtime layer yet.
            guard low == 0, let high, high > 0 else {
                throw a.error("clip to [\(low.map { "\($0)" } ?? "?"), \(high.map { "\($0)" } ?? "?")] is supported only from 0 to a positive maximum (a ReLU)")
            }
            layer = ReLU(name: a.name, maxValue: Float(high))
        case .stack:
            guard case .tensors(let list) = try operands.positional(0), !list.isEmpty else {
                throw a.error("expects a list of tensors to stack")
            }
            let axis = tf ? (try operands.optionalKeyword("axis")?.constant?.int ?? 0) : try a.int("axis", default: 0, range: -32...32)
            guard axis != 0 else { throw a.error("stacking along the batch axis is not supported", argument: "axis") }
            layer = Stack(name: a.name, axis: axis > 0 ? axis - 1 : axis)
        }
        try operands.finish()
        return layer
    }

    /// `x op y`: a constant operand makes a `ConstantArithmetic`, two tensors a `Merge`.
    private static func arithmetic(_ operation: ConstantArithmetic.Operation, _ x: KerasOperationCall.Value,
                                   _ y: KerasOperationCall.Value, _ a: inout LayerArguments,
                                   _ call: KerasOperationCall) throws -> any Layer {
        switch (x, y) {
        case (.tensor, .tensor):
            let merges: [ConstantArithmetic.Operation: Merge.Operation] = [
                .add: .add, .subtract: .subtract, .multiply: .multiply, .maximum: .maximum, .minimum: .minimum,
            ]
            guard let m = merges[operation] else {
                throw a.error("\(operation.rawValue) of two computed tensors is not supported (only with a constant operand)")
            }
            return Merge(name: a.name, operation: m)
        case (.tensor, .constant(let c)), (.constant(let c), .tensor):
            let constantFirst = x.constant != nil
            let tensor = try constantTensor(c, sampleRank: call.inputShapes[0].count, &a)
            return ConstantArithmetic(name: a.name, operation: operation, constant: tensor, constantFirst: constantFirst)
        default:
            throw a.error("expects a tensor and a constant or two tensors, got \(x) and \(y)")
        }
    }

    /// A constant operand: a number, a nested list, or Keras 3's
    /// `{"class_name": "__tensor__" / "__numpy__", "config": {"value": ...}}`;
    /// a leading size-1 batch axis is dropped.
    static func constantTensor(_ json: JSONValue, sampleRank: Int, _ a: inout LayerArguments) throws -> Tensor {
        var value = json
        if let cls = json["class_name"]?.string {
            guard cls == "__tensor__" || cls == "__numpy__", let v = json["config"]?["value"] else {
                throw a.error("cannot read the constant operand \(json.compactText.prefix(120))")
            }
            if let dtype = json["config"]?["dtype"]?.string, !(dtype.hasPrefix("float") || dtype.hasPrefix("int")) {
                throw a.error("a constant of dtype \(dtype) is not supported")
            }
            value = v
        }
        var shape: [Int] = []
        var probe = value
        while let list = probe.array {
            guard !list.isEmpty else { throw a.error("the constant operand is empty") }
            shape.append(list.count)
            probe = list[0]
            guard shape.count <= 8 else { throw a.error("the constant operand nests deeper than 8 axes") }
        }
        try a.checkParameterShape(shape, argument: "constant")
        var scalars: [Float] = []
        func flatten(_ v: JSONValue, _ depth: Int) throws {
            if depth == shape.count {
                guard let d = v.number else { throw a.error("the constant operand holds \(v.compactText.prefix(40)), not a number") }
                scalars.append(Float(d))
                return
            }
            guard let list = v.array, list.count == shape[depth] else { throw a.error("the constant operand is not a rectangular array") }
            for item in list { try flatten(item, depth + 1) }
        }
        try flatten(value, 0)
        if shape.count == sampleRank + 1 {
            guard shape[0] == 1 else { throw a.error("a constant of shape \(shape) broadcasts over the batch axis, which is not supported") }
            shape.removeFirst()
        }
        guard shape.count <= sampleRank else { throw a.error("a constant of shape \(shape) has more axes than the input") }
        return Tensor(shape: shape, scalars: scalars)
    }

    /// A numpy index (`[..., 2]`, `[:, 2:, :, ::-1]`), batch axis included,
    /// as one entry per sample axis.
    static func sliceAxes(_ json: JSONValue, sampleRank: Int, _ a: inout LayerArguments) throws -> [StridedSlice.Axis] {
        enum Item { case ellipsis, axis(StridedSlice.Axis) }
        func bound(_ v: JSONValue?) throws -> Int? {
            guard let v, !v.isNull else { return nil }
            guard let i = v.int else { throw a.error("slice bound \(v.compactText) is not an integer") }
            return i
        }
        let items = try (json.array ?? [json]).map { v -> Item in
            if let i = v.int { return .axis(.index(i)) }
            if v["class_name"]?.string == "__ellipsis__" { return .ellipsis }
            let range = v["class_name"]?.string == "__slice__" ? v["config"] : (v["start"] != nil || v["stop"] != nil || v["step"] != nil ? v : nil)
            guard let r = range else {
                throw a.error("index item \(v.compactText.prefix(80)) is not supported (integers, slices and ... are)")
            }
            let step = try bound(r["step"]) ?? 1
            guard step != 0 else { throw a.error("a slice step cannot be zero") }
            return .axis(.range(start: try bound(r["start"]), stop: try bound(r["stop"]), step: step))
        }
        let ellipses = items.filter { if case .ellipsis = $0 { return true } else { return false } }.count
        let explicit = items.count - ellipses
        guard ellipses <= 1, explicit <= sampleRank + 1 else {
            throw a.error("index \(json.compactText.prefix(120)) does not fit an input of \(sampleRank + 1) axes")
        }
        var axes: [StridedSlice.Axis] = []
        for item in items {
            switch item {
            case .axis(let axis): axes.append(axis)
            case .ellipsis: axes += Array(repeating: .all, count: sampleRank + 1 - explicit)
            }
        }
        axes += Array(repeating: .all, count: sampleRank + 1 - axes.count)
        guard axes[0] == .all else { throw a.error("indexing the batch axis (\(axes[0])) is not supported") }
        return Array(axes.dropFirst())
    }

    /// The operands of one call, each read once; `finish()` refuses any left over.
    struct OperandReader {
        let call: KerasOperationCall
        let tf: Bool
        /// For messages only (naming the file, layer and class).
        let args: LayerArguments
        private var usedPositional: Set<Int> = []
        private var usedKeywords: Set<String> = ["name"]

        init(call: KerasOperationCall, tf: Bool, args: LayerArguments) {
            self.call = call
            self.tf = tf
            self.args = args
        }

        mutating func positional(_ k: Int) throws -> KerasOperationCall.Value {
            guard k < call.args.count else { throw args.error("the call has no argument #\(k + 1)") }
            usedPositional.insert(k)
            return call.args[k]
        }

        mutating func optionalKeyword(_ key: String) throws -> KerasOperationCall.Value? {
            usedKeywords.insert(key)
            return call.kwargs[key]
        }

        mutating func keyword(_ key: String) throws -> KerasOperationCall.Value {
            guard let v = try optionalKeyword(key) else { throw args.error("the call has no argument '\(key)'", argument: key) }
            return v
        }

        /// `x op y`: Keras 3 passes both positionally, tf-keras `y` by keyword.
        mutating func binary() throws -> (KerasOperationCall.Value, KerasOperationCall.Value) {
            let x = try positional(0)
            let y = tf ? try keyword("y") : try positional(1)
            return (x, y)
        }

        func tensor(_ v: KerasOperationCall.Value) throws -> Int {
            guard let k = v.tensor else { throw args.error("expects a tensor, got \(v)") }
            return k
        }

        func finish() throws {
            for k in call.args.indices where !usedPositional.contains(k) {
                throw args.error("call argument #\(k + 1) (\(call.args[k])) is not supported")
            }
            for (key, v) in call.kwargs where !usedKeywords.contains(key) && v != .constant(.null) {
                throw args.error("call argument \(key)=\(v) is not supported", argument: key)
            }
        }
    }
}

/// The arguments of one call of an operation layer: Keras 3's op layers
/// (`TrueDivide`, `GetItem`, ..., module `keras.src.ops.*`) and tf-keras's
/// `TFOpLambda` / `SlicingOpLambda`, whose constant operands are saved in the
/// call (the inbound node), not in the layer config.
///
/// Keras 3 writes `{"args": [<tensor>, 127.5], "kwargs": {}}`; tf-keras
/// `["input_1", 0, 0, {"y": 127.5, "name": null}]` (one call, not wrapped in
/// a list as other layers' calls are), with a constant first operand as
/// `["_CONSTANT_VALUE", -1, 1.0, {"y": ["input_1", 0, 0]}]`, and `tf.stack`'s
/// inputs as a list of such items. Input tensors become `.tensor(k)`,
/// the k-th input of the graph node.
public struct KerasOperationCall: Sendable {
    public enum Value: Sendable, Equatable {
        case tensor(Int)
        /// A list of input tensors (`Stack`'s operand).
        case tensors([Int])
        case constant(JSONValue)

        public var constant: JSONValue? { if case .constant(let v) = self { return v }; return nil }
        public var tensor: Int? { if case .tensor(let k) = self { return k }; return nil }
    }

    public let args: [Value]
    public let kwargs: [String: Value]
    /// The sample shapes of the call's input tensors, in order.
    public internal(set) var inputShapes: [[Int]] = []

    /// Class names Keras 3 gives both an op layer and a merge layer; the call
    /// tells them apart (a merge gets one list of tensors).
    static let sharedWithMerges: Set<String> = ["Add", "Subtract", "Multiply", "Maximum", "Minimum"]

    /// Whether a layer entry is an operation layer, from its class, module
    /// (absent in legacy `.h5` files) and first call.
    static func isOperation(className: String, module: String?, firstNode: JSONValue?, operationClassNames: Set<String>) -> Bool {
        if className == "TFOpLambda" || className == "SlicingOpLambda" { return true }
        if let module { return module.hasPrefix("keras.src.ops.") }
        if sharedWithMerges.contains(className) {
            guard let args = firstNode?["args"]?.array else { return false }
            return !(args.count == 1 && args[0].array != nil)
        }
        return operationClassNames.contains(className)
    }

    /// Whether a model config (nested models included) has operation layers.
    static func configHasOperations(_ model: JSONValue) -> Bool {
        for entry in model["config"]?["layers"]?.array ?? [] {
            let className = entry["class_name"]?.string ?? ""
            if KerasModelConfig.isModelClass(className) {
                if configHasOperations(entry) { return true }
                continue
            }
            if isOperation(className: className, module: entry["module"]?.string, firstNode: entry["inbound_nodes"]?.array?.first,
                           operationClassNames: KerasCodecs.operationClassNames) {
                return true
            }
        }
        return false
    }

    /// A Keras 3 tensor reference `{"class_name": "__keras_tensor__", ...}`.
    private static func keras3Tensor(_ v: JSONValue) -> (name: String, node: Int, index: Int)? {
        guard v["class_name"]?.string == "__keras_tensor__", let h = v["config"]?["keras_history"]?.array, h.count >= 3,
              let name = h[0].string, let n = h[1].int, let k = h[2].int else { return nil }
        return (name, n, k)
    }

    /// A tf-keras tensor reference `["layer", node, index]` inside call arguments.
    private static func keras2Tensor(_ v: JSONValue) -> (name: String, node: Int, index: Int)? {
        guard let a = v.array, a.count == 3, let name = a[0].string, let n = a[1].int, let k = a[2].int else { return nil }
        return (name, n, k)
    }

    /// Whether `v` holds a tensor reference anywhere inside (which a constant must not).
    private static func containsTensor(_ v: JSONValue) -> Bool {
        if keras3Tensor(v) != nil { return true }
        if let a = v.array { return a.contains(where: containsTensor) }
        if let o = v.object { return o.values.contains(where: containsTensor) }
        return false
    }

    /// Parses one call in either generation's spelling.
    /// - Returns: the call and the tensors it consumes, in input order.
    /// - Throws: `KerasImportError` naming the layer when the call cannot be read.
    static func parse(_ node: JSONValue, file: String, layer: String, className: String)
        throws -> (call: KerasOperationCall, inputs: [KerasFunctionalConfig.TensorRef]) {
        func fail(_ message: String) -> KerasImportError {
            KerasImportError(file: file, layer: layer, className: className, message: message)
        }
        var refs: [KerasFunctionalConfig.TensorRef] = []
        func input(_ t: (name: String, node: Int, index: Int)) throws -> Int {
            guard t.index == 0 else {
                throw fail("uses output \(t.index) of '\(t.name)'; only single-output layers are supported")
            }
            refs.append(KerasFunctionalConfig.TensorRef(layer: t.name, node: t.node))
            return refs.count - 1
        }
        let unreadable = fail("cannot read the call \(node.compactText.prefix(200))")
        if let args = node["args"]?.array {  // Keras 3
            func value(_ v: JSONValue) throws -> Value {
                if let t = keras3Tensor(v) { return .tensor(try input(t)) }
                if let list = v.array, !list.isEmpty {
                    let tensors = list.compactMap(keras3Tensor)
                    if tensors.count == list.count { return .tensors(try tensors.map(input)) }
                }
                guard !containsTensor(v) else { throw unreadable }
                return .constant(v)
            }
            let positional = try args.map(value)
            var keywords: [String: Value] = [:]
            for (key, v) in node["kwargs"]?.object ?? [:] { keywords[key] = try value(v) }
            guard !refs.isEmpty else { throw fail("the call has no input tensor") }
            return (KerasOperationCall(args: positional, kwargs: keywords), refs)
        }
        // tf-keras: one ["name", node, index, {kwargs}], or a list of them (tf.stack's inputs).
        guard let list = node.array, !list.isEmpty else { throw unreadable }
        let items = list[0].string != nil ? [node] : list
        func keywords(_ item: [JSONValue]) throws -> [String: Value] {
            guard item.count > 3 else { return [:] }
            guard let object = item[3].object else { throw unreadable }
            var result: [String: Value] = [:]
            for (key, v) in object {
                if let t = keras2Tensor(v) { result[key] = .tensor(try input(t)) } else { result[key] = .constant(v) }
            }
            return result
        }
        // Each item: (layer, node, the tensor index or _CONSTANT_VALUE's value, the whole item).
        let parts = try items.map { item -> (name: String, node: Int, third: JSONValue, item: [JSONValue]) in
            guard let p = item.array, p.count >= 3, let name = p[0].string, let n = p[1].int else { throw unreadable }
            return (name, n, p[2], p)
        }
        if parts.count == 1 {
            let p = parts[0]
            let first: Value
            if p.name == "_CONSTANT_VALUE" && p.node == -1 {
                first = .constant(p.third)
            } else {
                guard let k = p.third.int else { throw unreadable }
                first = .tensor(try input((p.name, p.node, k)))
            }
            let kw = try keywords(p.item)
            guard !refs.isEmpty else { throw fail("the call has no input tensor") }
            return (KerasOperationCall(args: [first], kwargs: kw), refs)
        }
        // Several items: one list operand (tf.stack), each item repeating the keyword arguments.
        let tensors = try parts.map { p -> Int in
            guard let k = p.third.int else { throw unreadable }
            return try input((p.name, p.node, k))
        }
        let kwargs = parts[0].item.count > 3 ? parts[0].item[3] : .object([:])
        guard parts.allSatisfy({ ($0.item.count > 3 ? $0.item[3] : .object([:])) == kwargs }) else {
            throw fail("the call's inputs carry different keyword arguments")
        }
        var kw: [String: Value] = [:]
        for (key, v) in kwargs.object ?? [:] {
            guard keras2Tensor(v) == nil else { throw unreadable }
            kw[key] = .constant(v)
        }
        return (KerasOperationCall(args: [.tensors(tensors)], kwargs: kw), refs)
    }
}

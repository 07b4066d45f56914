import ModelPortRuntime

/// How a model config is spelled: as Keras 2 or Keras 3 write it into a
/// legacy `.h5` (`{"class_name", "config"}` entries), or as Keras 3 writes
/// `config.json` in a `.keras` archive (with `module`, `registered_name`,
/// `build_config`).
enum KerasConfigDialect: Sendable {
    case legacyKeras2, legacyKeras3, archive

    var generation: KerasGeneration { self == .legacyKeras2 ? .keras2 : .keras3 }
}

/// Generates a Keras model config from a runtime model, layer by layer
/// through `KerasCodecs`.
enum KerasModelConfigWriter {
    static let dtypePolicy: JSONValue = .object([
        "module": .string("keras"), "class_name": .string("DTypePolicy"), "config": .object(["name": .string("float32")]), "registered_name": .null,
    ])

    /// The model config (`model_config` / `config.json`) of `model`.
    /// - Throws: `KerasExportError` naming the first layer Keras cannot describe.
    static func config(for model: any Model, dialect: KerasConfigDialect, file: String) throws -> JSONValue {
        do {
            return try modelConfig(model, dialect: dialect)
        } catch let e as KerasExportError {
            throw KerasExportError(file: file, layer: e.layer, className: e.className, message: e.message)
        }
    }

    /// Keras `trainable = False`: every weight of the layer (or model) frozen.
    private static func isFrozen(_ parameters: [Parameter]) -> Bool { !parameters.isEmpty && parameters.allSatisfy(\.frozen) }

    private static func batchShape(_ sample: [Int]) -> JSONValue { .array([.null] + sample.map { .number(Double($0)) }) }

    private static func dtype(_ d: KerasConfigDialect) -> JSONValue { d == .legacyKeras2 ? .string("float32") : dtypePolicy }

    /// `{"class_name", "config"}`, plus module / registered_name / build_config in archives.
    private static func entry(_ className: String, _ config: [String: JSONValue], module: String = "keras.layers",
                              registeredName: JSONValue = .null, inputShapes: [[Int]]?, _ d: KerasConfigDialect) -> [String: JSONValue] {
        var e: [String: JSONValue] = ["class_name": .string(className), "config": .object(config)]
        if d == .archive {
            e["module"] = .string(module)
            e["registered_name"] = registeredName
            if let shapes = inputShapes {
                e["build_config"] = .object(["input_shape": shapes.count == 1 ? batchShape(shapes[0]) : .array(shapes.map(batchShape))])
            }
        }
        return e
    }

    /// The name Keras gives a Sequential model's input.
    static func sequentialInputName(_ generation: KerasGeneration) -> String { generation == .keras2 ? "input_1" : "input_layer" }

    private static func inputLayer(name: String, shape: [Int], _ d: KerasConfigDialect) -> [String: JSONValue] {
        var config: [String: JSONValue] = ["dtype": .string("float32"), "sparse": .bool(false), "ragged": .bool(false), "name": .string(name)]
        if d == .legacyKeras2 { config["batch_input_shape"] = batchShape(shape) } else {
            config["batch_shape"] = batchShape(shape)
            config["optional"] = .bool(false)
        }
        return entry("InputLayer", config, inputShapes: nil, d)
    }

    /// One layer's entry (without functional `name`/`inbound_nodes`).
    private static func layerEntry(_ layer: any Layer, inputShapes: [[Int]], _ d: KerasConfigDialect) throws -> [String: JSONValue] {
        if let nested = layer as? ModelLayer { return try modelEntry(nested.model, d, top: false) }
        if let input = layer as? InputLayer { return inputLayer(name: input.name, shape: input.sampleShape, d) }
        // An operation outside a functional graph (a Sequential model) only as a standard layer.
        switch try KerasCodecs.operationWriting(layer, dialect: d) {
        case .standardLayer(let standard)?: return try layerEntry(standard, inputShapes: inputShapes, d)
        case .operation?: throw unsupported(layer, "an operation can only be written inside a functional model (Keras has no Sequential layer for it)")
        case nil: break
        }
        var config: [String: JSONValue]
        do {
            config = try KerasCodecs.encode(layer, generation: d.generation)
        } catch let e as KerasExportError {
            throw KerasExportError(file: "", layer: layer.name, className: layer.typeName, message: e.message)
        }
        config["name"] = .string(layer.name)
        // A writer returns `"trainable": null` for layers whose Keras class takes no such argument.
        config["trainable"] = config["trainable"] == .null ? nil : .bool(!isFrozen(layer.parameters))
        config["dtype"] = dtype(d)
        if let spelling = KerasCodecs.codec(for: layer)?.spelling(layer, d.generation) {
            return entry(spelling.className, config, module: spelling.module,
                         registeredName: spelling.registeredName.map(JSONValue.string) ?? .null, inputShapes: inputShapes, d)
        }
        return entry(layer.typeName, config, inputShapes: inputShapes, d)
    }

    private static func modelConfig(_ model: any Model, dialect d: KerasConfigDialect) throws -> JSONValue {
        .object(try modelEntry(model, d, top: true))
    }

    private static func modelEntry(_ model: any Model, _ d: KerasConfigDialect, top: Bool) throws -> [String: JSONValue] {
        if let s = model as? Sequential { return try sequential(s, d) }
        guard let f = model as? Functional else {
            throw KerasExportError(file: "", layer: model.name, className: "\(type(of: model))", message: "only Sequential and Functional models can be written")
        }
        return try functional(f, d)
    }

    private static func sequential(_ s: Sequential, _ d: KerasConfigDialect) throws -> [String: JSONValue] {
        var layers: [JSONValue] = [.object(inputLayer(name: sequentialInputName(d.generation), shape: s.inputShape, d))]
        var shape = s.inputShape
        for (layer, out) in zip(s.layers, s.layerOutputShapes) {
            if layer is InputLayer { continue }
            layers.append(.object(try layerEntry(layer, inputShapes: [shape], d)))
            shape = out
        }
        var config: [String: JSONValue] = ["name": .string(s.name), "layers": .array(layers)]
        if d != .legacyKeras2 {
            config["trainable"] = .bool(!isFrozen(s.layers.flatMap(\.parameters)))
            config["dtype"] = dtypePolicy
        }
        config["build_input_shape"] = batchShape(s.inputShape)
        var e = entry("Sequential", config, module: "keras", inputShapes: [s.inputShape], d)
        if d == .archive { e["build_config"] = .object(["input_shape": batchShape(s.inputShape)]) }
        return e
    }

    private static func functional(_ f: Functional, _ d: KerasConfigDialect) throws -> [String: JSONValue] {
        // Each distinct layer once, with one inbound node per call (shared layers are called more than once).
        var order: [ObjectIdentifier] = []
        var entries: [ObjectIdentifier: [String: JSONValue]] = [:]
        var calls: [ObjectIdentifier: [JSONValue]] = [:]
        var callIndex = [Int](repeating: 0, count: f.nodes.count)
        var callCount: [ObjectIdentifier: Int] = [:]
        // The node index a config names for a call. tf-keras counts a nested model's own construction as its
        // node 0, so its first call is node 1 (node 0 would lead back into the inner graph, where tf-keras's
        // loader never returns); Keras 3 counts calls only.
        func nodeIndex(_ node: Int) -> JSONValue {
            .number(Double(callIndex[node] + (d == .legacyKeras2 && f.nodes[node].layer is ModelLayer ? 1 : 0)))
        }
        func tensor(_ node: Int) -> JSONValue {
            let name = JSONValue.string(f.nodes[node].layer.name)
            if d == .legacyKeras2 { return .array([name, nodeIndex(node), .number(0), .object([:])]) }
            return .object(["class_name": .string("__keras_tensor__"), "config": .object([
                "shape": batchShape(f.nodeOutputShapes[node]), "dtype": .string("float32"),
                "keras_history": .array([name, nodeIndex(node), .number(0)]),
            ])])
        }
        // Operation layers: their call (one inbound node) from the input tensors.
        var operationCalls: [ObjectIdentifier: ([KerasWrittenTensor]) -> JSONValue] = [:]
        for (i, node) in f.nodes.enumerated() {
            let id = ObjectIdentifier(node.layer)
            callIndex[i] = callCount[id, default: 0]
            callCount[id] = callIndex[i] + 1
            if entries[id] == nil {
                order.append(id)
                let shapes = node.inputs.map { f.nodeOutputShapes[$0] }
                switch try KerasCodecs.operationWriting(node.layer, dialect: d) {
                case .operation(let className, let module, var config, let call)?:
                    config["name"] = .string(node.layer.name)
                    entries[id] = entry(className, config, module: module, registeredName: .string(className), inputShapes: nil, d)
                    operationCalls[id] = call
                case .standardLayer(let standard)?:
                    entries[id] = try layerEntry(standard, inputShapes: shapes, d)
                case nil:
                    entries[id] = try layerEntry(node.layer, inputShapes: shapes, d)
                }
            }
            guard !node.inputs.isEmpty else { continue }
            if let call = operationCalls[id] {
                let tensors = node.inputs.map { n in
                    KerasWrittenTensor(keras3: tensor(n), keras2: [.string(f.nodes[n].layer.name), nodeIndex(n), .number(0)])
                }
                calls[id, default: []].append(call(tensors))
                continue
            }
            var args = node.inputs.map(tensor)
            // A base model called with training=False (the fine-tuning guide) is written so.
            let inferenceMode = (node.layer as? ModelLayer)?.callsInInferenceMode == true
            if d == .legacyKeras2 {
                if inferenceMode, var first = args[0].array, first.count > 3 {
                    first[3] = .object(["training": .bool(false)])
                    args[0] = .array(first)
                }
                calls[id, default: []].append(.array(args))
            } else {
                let first: JSONValue = node.layer is any MergeLayer ? .array(args) : args[0]
                let kwargs: [String: JSONValue] = inferenceMode ? ["training": .bool(false)] : [:]
                calls[id, default: []].append(.object(["args": .array([first]), "kwargs": .object(kwargs)]))
            }
        }
        let layers: [JSONValue] = order.map { id in
            var e = entries[id]!
            let name = e["config"]?["name"] ?? .string("")
            e["name"] = name
            e["inbound_nodes"] = .array(calls[id] ?? [])
            return .object(e)
        }
        func refs(_ nodes: [Int]) -> JSONValue {
            let list = nodes.map { JSONValue.array([.string(f.nodes[$0].layer.name), nodeIndex($0), .number(0)]) }
            return d != .legacyKeras2 && list.count == 1 ? list[0] : .array(list)
        }
        let config: [String: JSONValue] = ["name": .string(f.name), "trainable": .bool(!isFrozen(f.layers.flatMap(\.parameters))), "layers": .array(layers),
                                           "input_layers": refs(f.inputNodes), "output_layers": refs(f.outputNodes)]
        var e = entry("Functional", config, module: "keras.src.models.functional", registeredName: .string("Functional"), inputShapes: nil, d)
        if d == .archive { e["build_config"] = .object(["input_shape": .null]) }
        return e
    }
}

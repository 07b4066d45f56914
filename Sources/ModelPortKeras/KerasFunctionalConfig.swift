import ModelPortRuntime

/// Turns a Keras functional model config into a `Functional` graph.
///
/// Each layer entry lists its calls in `inbound_nodes`; each call names the
/// tensors it consumes as (layer name, node index, tensor index). Keras 2
/// writes a call as `[["conv2d", 0, 0, {}], ...]`; Keras 3 as
/// `{"args": [<tensor> or [<tensor>, ...]], "kwargs": {...}}` where a tensor
/// is `{"class_name": "__keras_tensor__", "config": {"keras_history": [name, node, index]}}`.
/// Layers are created on their first call, so a shared layer is one object.
enum KerasFunctionalConfig {
    /// A reference to the output of a layer's `node`-th call.
    struct TensorRef: Hashable {
        let layer: String
        let node: Int
    }

    struct Call {
        let layer: String
        let entry: JSONValue
        let inputs: [TensorRef]
        /// The call's arguments, for operation layers (`KerasOperationCall`).
        var operation: KerasOperationCall? = nil
        /// Called with `training=False` (a base model in the fine-tuning guide).
        var inferenceMode = false
    }

    /// Whether a call passes `training=False`: Keras 3's `"kwargs": {"training": false}`,
    /// or Keras 2's `{"training": false}` after an input tensor.
    static func passesTrainingFalse(_ node: JSONValue) -> Bool {
        if let kwargs = node["kwargs"]?.object { return kwargs["training"] == .bool(false) }
        return (node.array ?? []).contains { item in
            guard let parts = item.array, parts.count > 3, let kwargs = parts[3].object else { return false }
            return kwargs["training"] == .bool(false)
        }
    }

    static func build(_ config: JSONValue, file: String, kerasMajorVersion: Int, weights: inout WeightBudget,
                      depth: Int) throws -> Functional {
        let modelName = config["name"]?.string ?? "functional"
        guard let entries = config["layers"]?.array, !entries.isEmpty else {
            throw KerasImportError(file: file, className: "Functional", message: "functional config has no 'layers' list")
        }
        // Every call of every layer, keyed by (layer name, call index).
        var calls: [TensorRef: Call] = [:]
        var order: [TensorRef] = []
        var entriesByName: [String: JSONValue] = [:]
        for (index, entry) in entries.enumerated() {
            guard let className = entry["class_name"]?.string else {
                throw KerasImportError(file: file, message: "layer #\(index) of the functional config has no class_name")
            }
            let name = entry["name"]?.string ?? entry["config"]?["name"]?.string ?? "\(className.lowercased())_\(index)"
            guard entriesByName[name] == nil else {
                throw KerasImportError(file: file, layer: name, className: className, message: "two layers are named '\(name)'")
            }
            entriesByName[name] = entry
            let nodes = entry["inbound_nodes"]?.array ?? []
            if nodes.isEmpty {
                guard className == "InputLayer" else {
                    throw KerasImportError(file: file, layer: name, className: className,
                                           message: "layer is never called in the model (no inbound_nodes)")
                }
                let ref = TensorRef(layer: name, node: 0)
                calls[ref] = Call(layer: name, entry: entry, inputs: [])
                order.append(ref)
                continue
            }
            let operation = KerasOperationCall.isOperation(className: className, module: entry["module"]?.string, firstNode: nodes.first,
                                                           operationClassNames: KerasCodecs.operationClassNames)
            if operation && nodes.count > 1 {
                throw KerasImportError(file: file, layer: name, className: className,
                                       message: "an operation layer called \(nodes.count) times is not supported (Keras makes one per call)")
            }
            for (k, node) in nodes.enumerated() {
                let ref = TensorRef(layer: name, node: k)
                if operation {
                    let parsed = try KerasOperationCall.parse(node, file: file, layer: name, className: className)
                    calls[ref] = Call(layer: name, entry: entry, inputs: parsed.inputs, operation: parsed.call)
                } else {
                    let inputs = try parseNode(node, file: file, layer: name, className: className)
                    calls[ref] = Call(layer: name, entry: entry, inputs: inputs, inferenceMode: passesTrainingFalse(node))
                }
                order.append(ref)
            }
        }
        let inputRefs = try parseEndpoints(config["input_layers"], key: "input_layers", file: file)
        let outputRefs = try parseEndpoints(config["output_layers"], key: "output_layers", file: file)
        // tf-keras (Keras 2) counts a nested model's own Input call as its node 0
        // but does not save it, so references to its calls in this model are
        // one higher than their position in its inbound_nodes.
        if kerasMajorVersion < 3 {
            let nested = Set(entriesByName.filter { KerasModelConfig.isModelClass($0.value["class_name"]?.string ?? "") }.keys)
            if !nested.isEmpty {
                func shift(_ ref: TensorRef) -> TensorRef {
                    nested.contains(ref.layer) && ref.node > 0 ? TensorRef(layer: ref.layer, node: ref.node - 1) : ref
                }
                for (key, call) in calls {
                    calls[key] = Call(layer: call.layer, entry: call.entry, inputs: call.inputs.map(shift), operation: call.operation,
                                      inferenceMode: call.inferenceMode)
                }
                return try assemble(modelName: modelName, calls: calls, order: order, entriesByName: entriesByName,
                                    inputRefs: inputRefs.map(shift), outputRefs: outputRefs.map(shift),
                                    file: file, kerasMajorVersion: kerasMajorVersion, weights: &weights, depth: depth)
            }
        }
        return try assemble(modelName: modelName, calls: calls, order: order, entriesByName: entriesByName,
                            inputRefs: inputRefs, outputRefs: outputRefs, file: file, kerasMajorVersion: kerasMajorVersion,
                            weights: &weights, depth: depth)
    }

    /// Creates layers and graph nodes in a topological order of the calls.
    static func assemble(modelName: String, calls: [TensorRef: Call], order: [TensorRef], entriesByName: [String: JSONValue],
                         inputRefs: [TensorRef], outputRefs: [TensorRef], file: String,
                         kerasMajorVersion: Int, weights: inout WeightBudget, depth: Int) throws -> Functional {

        // Topological order: repeatedly take calls whose inputs are all built.
        var nodeIndex: [TensorRef: Int] = [:]
        var nodes: [Functional.Node] = []
        var shapes: [[Int]] = []
        var layers: [String: any Layer] = [:]
        var pending = order
        // Inputs first, in input_layers order (graph input k is input node k).
        for ref in inputRefs {
            guard let call = calls[ref], call.inputs.isEmpty, let entry = entriesByName[ref.layer],
                  entry["class_name"]?.string == "InputLayer" else {
                throw KerasImportError(file: file, layer: ref.layer, message: "input_layers names '\(ref.layer)', which is not an InputLayer of this model")
            }
            let input = try makeInputLayer(entry, name: ref.layer, file: file)
            layers[ref.layer] = input
            nodeIndex[ref] = nodes.count
            nodes.append(Functional.Node(layer: input, inputs: []))
            shapes.append(input.sampleShape)
            pending.removeAll { $0 == ref }
        }
        while !pending.isEmpty {
            guard let next = pending.firstIndex(where: { ref in calls[ref]!.inputs.allSatisfy { nodeIndex[$0] != nil } }) else {
                let stuck = pending.map { "\($0.layer)" }.joined(separator: ", ")
                let missing = pending.flatMap { calls[$0]!.inputs }.filter { calls[$0] == nil }
                throw KerasImportError(file: file, className: "Functional", message: missing.isEmpty
                    ? "the layer graph has a cycle or unreachable inputs (stuck at: \(stuck))"
                    : "layers refer to calls that do not exist: \(missing.map { "\($0.layer)[\($0.node)]" }.joined(separator: ", "))")
            }
            let ref = pending.remove(at: next)
            let call = calls[ref]!
            let className = call.entry["class_name"]?.string ?? "?"
            if className == "InputLayer" { continue }  // an input the model does not use
            let inputIndices = call.inputs.map { nodeIndex[$0]! }
            let inputShapes = inputIndices.map { shapes[$0] }
            let layer: any Layer
            if let existing = layers[ref.layer] {
                layer = existing
            } else {
                var operation = call.operation
                operation?.inputShapes = inputShapes
                layer = try KerasModelConfig.buildLayer(call.entry, className: className, name: ref.layer,
                                                        config: call.entry["config"]?.object ?? [:],
                                                        inputShape: inputShapes[0], file: file,
                                                        kerasMajorVersion: kerasMajorVersion, weights: &weights, depth: depth,
                                                        operation: operation)
                layers[ref.layer] = layer
                // A base model called with training=False keeps that in ModelPort's trainer and in files written back.
                if call.inferenceMode, let nested = layer as? ModelLayer { nested.callsInInferenceMode = true }
            }
            let shape: [Int]
            do {
                if let merge = layer as? any MergeLayer {
                    shape = try merge.outputShape(forInputs: inputShapes)
                } else {
                    guard inputShapes.count == 1 else {
                        throw RuntimeError("takes one input, but is called with \(inputShapes.count)")
                    }
                    shape = try layer.outputShape(for: inputShapes[0])
                }
            } catch let e as RuntimeError {
                throw KerasImportError(file: file, layer: ref.layer, className: className, message: e.message)
            }
            try KerasModelConfig.checkOutput(shape, file: file, layer: ref.layer, className: className)
            nodeIndex[ref] = nodes.count
            nodes.append(Functional.Node(layer: layer, inputs: inputIndices))
            shapes.append(shape)
        }
        let outputIndices = try outputRefs.map { ref -> Int in
            guard let i = nodeIndex[ref] else {
                throw KerasImportError(file: file, layer: ref.layer, message: "output_layers names a call that is not in the model")
            }
            return i
        }
        do {
            return try Functional(name: modelName, nodes: nodes, inputNodes: inputRefs.map { nodeIndex[$0]! },
                                  outputNodes: outputIndices)
        } catch let e as RuntimeError {
            throw KerasImportError(file: file, className: "Functional", message: e.message)
        }
    }

    static func makeInputLayer(_ entry: JSONValue, name: String, file: String) throws -> InputLayer {
        let config = entry["config"]?.object ?? [:]
        guard let batchShape = config["batch_shape"] ?? config["batch_input_shape"], !batchShape.isNull else {
            throw KerasImportError(file: file, layer: name, className: "InputLayer", argument: "batch_shape",
                                   message: "InputLayer has no batch_shape/batch_input_shape")
        }
        let shape = try KerasModelConfig.sampleShape(batchShape, file: file, layer: name)
        try KerasModelConfig.checkInputLayer(config, file: file, name: name)
        return InputLayer(name: name, sampleShape: shape)
    }

    /// One call's input tensors, from either generation's spelling.
    static func parseNode(_ node: JSONValue, file: String, layer: String, className: String) throws -> [TensorRef] {
        let bad = KerasImportError(file: file, layer: layer, className: className,
                                   message: "cannot read inbound node \(node.compactText.prefix(200))")
        if let args = node["args"]?.array {  // Keras 3
            if let kwargs = node["kwargs"]?.object {
                for (key, value) in kwargs where !value.isNull && !(key == "training" && value == .bool(false)) {
                    throw KerasImportError(file: file, layer: layer, className: className, argument: key,
                                           message: "call argument \(key)=\(value.compactText) is not supported")
                }
            }
            var refs: [TensorRef] = []
            for arg in args {
                let tensors = arg.array ?? [arg]
                for t in tensors {
                    guard let history = t["config"]?["keras_history"]?.array, history.count >= 3,
                          let name = history[0].string, let n = history[1].int, let k = history[2].int else { throw bad }
                    guard k == 0 else {
                        throw KerasImportError(file: file, layer: layer, className: className,
                                               message: "uses output \(k) of '\(name)'; only single-output layers are supported")
                    }
                    refs.append(TensorRef(layer: name, node: n))
                }
            }
            guard !refs.isEmpty else { throw bad }
            return refs
        }
        // Keras 2: [["name", node, tensor, {kwargs}], ...]
        guard let list = node.array, !list.isEmpty else { throw bad }
        return try list.map { item in
            guard let parts = item.array, parts.count >= 3, let name = parts[0].string,
                  let n = parts[1].int, let k = parts[2].int else { throw bad }
            guard k == 0 else {
                throw KerasImportError(file: file, layer: layer, className: className,
                                       message: "uses output \(k) of '\(name)'; only single-output layers are supported")
            }
            if parts.count > 3, let kwargs = parts[3].object {
                for (key, value) in kwargs where !value.isNull && !(key == "training" && value == .bool(false)) {
                    throw KerasImportError(file: file, layer: layer, className: className, argument: key,
                                           message: "call argument \(key)=\(value.compactText) is not supported")
                }
            }
            return TensorRef(layer: name, node: n)
        }
    }

    /// `input_layers`/`output_layers`: `[["name", 0, 0], ...]`, or Keras 3's
    /// flat `["name", 0, 0]` for a single tensor.
    static func parseEndpoints(_ value: JSONValue?, key: String, file: String) throws -> [TensorRef] {
        guard let list = value?.array, !list.isEmpty else {
            throw KerasImportError(file: file, className: "Functional", argument: key, message: "missing or empty")
        }
        let items = list[0].string != nil ? [value!] : list
        return try items.map { item in
            guard let parts = item.array, parts.count >= 2, let name = parts[0].string, let n = parts[1].int else {
                throw KerasImportError(file: file, className: "Functional", argument: key,
                                       message: "cannot read \(item.compactText)")
            }
            return TensorRef(layer: name, node: n)
        }
    }
}

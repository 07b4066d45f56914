import ModelPortRuntime

/// An ONNX model loaded into the runtime, with what the file says about itself.
public struct ONNXModelFile: Sendable {
    public let path: String
    public let irVersion: Int64
    /// The default-domain opset.
    public let opset: Int64
    public let producerName: String
    public let producerVersion: String
    public let docString: String
    public let metadata: [String: String]
    public let model: any Model
}

/// Reads ONNX files into runtime models: ModelPort's own exports and what
/// converters such as tf2onnx produce.
///
/// ONNX is NCHW; the runtime is NHWC. The importer records for every value
/// which ONNX axis each runtime axis holds, so transposes cost nothing and a
/// Permute layer is added only where a layer needs another layout. Graph
/// inputs and outputs keep the ONNX file's layout.
public enum ONNXImporter {
    /// Default-domain opsets whose operator semantics the importer follows,
    /// each read directly (no version conversion): codecs read an operator's
    /// older versions as onnxruntime does (attributes that later became
    /// inputs, Softmax's 2-D coercion before 13, opset 6's `broadcast`/`axis`
    /// and `is_test`). 6 is PyTorch's oldest exports (the ONNX backend test
    /// data); 28 the newest the pinned onnx (1.23) defines, whose changes since
    /// 21 to the operators imported here are new element types only.
    public static let supportedOpsets: ClosedRange<Int64> = 6...28
    /// Largest input sample (elements) accepted from a graph input's shape.
    static let maxInputElements = 1 << 26

    /// ONNX operators ModelPort imports, sorted.
    public static var supportedOps: [String] { ONNXCodecs.supportedOps }

    /// Reads and imports an ONNX file.
    /// - Throws: `ONNXError` naming the file and, for unsupported content,
    ///   the node, operator, attribute or opset.
    public static func load(_ path: String) throws -> ONNXModelFile {
        let bytes = try ONNXFileIO.read(path)
        let proto = try ONNXProtoAdapter.decode(bytes, file: path)
        let model = try buildModel(proto, file: path)
        return ONNXModelFile(path: path, irVersion: proto.irVersion, opset: proto.defaultOpset ?? 0, producerName: proto.producerName,
                             producerVersion: proto.producerVersion, docString: proto.docString,
                             metadata: Dictionary(proto.metadata.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a }),
                             model: model)
    }

    /// Parses serialized ONNX bytes (for callers that hold them in memory).
    public static func decode(_ bytes: [UInt8], file: String = "<memory>") throws -> ONNXModelProto {
        try ONNXProtoAdapter.decode(bytes, file: file)
    }

    /// Builds the runtime model of a parsed ONNX model.
    /// - Parameter weightLimit: the most bytes its constants and layer
    ///   weights may take together, checked before each is allocated.
    public static func buildModel(_ proto: ONNXModelProto, file: String, weightLimit: Int = MemoryBudget.limit) throws -> any Model {
        guard let opset = proto.defaultOpset else {
            throw ONNXError(file: file, message: "the model imports no default-domain (ai.onnx) opset")
        }
        guard supportedOpsets.contains(opset) else {
            throw ONNXError(file: file, message: "opset \(opset) is not supported (ModelPort imports opsets \(supportedOpsets.lowerBound) to \(supportedOpsets.upperBound)); convert it with onnx.version_converter first")
        }
        let graph = proto.graph
        let c = ONNXImportContext(file: file, opset: Int(opset), graph: graph, weights: WeightBudget(limit: weightLimit))
        for tensor in graph.initializers { c.constants[tensor.name] = try c.decode(tensor) }
        let graphInputs = graph.inputs.filter { c.constants[$0.name] == nil }
        guard !graphInputs.isEmpty else { throw ONNXError(file: file, message: "the graph has no inputs") }
        for input in graphInputs {
            let shape = try sampleShape(input, file: file)
            let node = try c.add(InputLayer(name: input.name.isEmpty ? c.layerName("InputLayer") : input.name, sampleShape: shape), [])
            c.values[input.name] = ImportedValue(node: node, onnxShape: shape, perm: Array(0..<shape.count))
        }
        for (index, node) in graph.nodes.enumerated() where !c.skipped.contains(index) {
            c.current = node
            guard node.domain.isEmpty || node.domain == "ai.onnx" else {
                throw c.error("operator domain '\(node.domain)' is not supported (only the default ai.onnx domain)")
            }
            guard let entry = ONNXCodecs.importers[node.opType] else {
                throw c.error("operator '\(node.opType)' is not supported (ModelPort imports: \(supportedOps.joined(separator: ", ")))")
            }
            guard opset >= entry.since else {
                throw c.error("operator '\(node.opType)' does not exist in opset \(opset) (it was introduced in opset \(entry.since))")
            }
            guard !node.outputs.isEmpty else { throw c.error("node has no outputs") }
            let needed = entry.minimumInputs
            guard node.inputs.count >= needed else {
                throw c.error("\(node.opType) needs at least \(needed) input\(needed == 1 ? "" : "s"), the node has \(node.inputs.count)")
            }
            try entry.importer(node, index, c)
        }
        c.current = nil
        var outputs: [Int] = []
        for output in graph.outputs {
            guard let v = c.values[output.name] else {
                throw ONNXError(file: file, message: "graph output '\(output.name)' is a constant or is not computed by the graph")
            }
            // Outputs keep the ONNX file's layout.
            outputs.append(try c.identityLayout(v).node)
        }
        guard !outputs.isEmpty else { throw ONNXError(file: file, message: "the graph has no outputs") }
        return try assemble(c, name: graph.name.isEmpty ? "onnx_model" : graph.name, inputs: graphInputs.map { c.values[$0.name]!.node },
                            outputs: outputs, file: file)
    }

    /// A Sequential model when the graph is a chain, otherwise Functional;
    /// nodes no output needs (left behind by fused patterns) are dropped.
    private static func assemble(_ c: ONNXImportContext, name: String, inputs: [Int], outputs: [Int], file: String) throws -> any Model {
        let (nodes, shapes, index) = c.pruned(keeping: outputs + inputs)
        let inputs = inputs.map { index[$0]! }, outputs = outputs.map { index[$0]! }
        let isChain = inputs == [0] && outputs == [nodes.count - 1] && nodes.count > 1 &&
            nodes.indices.dropFirst().allSatisfy { nodes[$0].inputs == [$0 - 1] && !(nodes[$0].layer is any MergeLayer) }
        do {
            if isChain {
                return try Sequential(name: name, inputShape: shapes[0], layers: nodes.dropFirst().map(\.layer))
            }
            return try Functional(name: name, nodes: nodes, inputNodes: inputs, outputNodes: outputs)
        } catch let e as RuntimeError {
            throw ONNXError(file: file, message: e.message)
        }
    }

    /// `[batch, d1, ...]` -> `[d1, ...]`: a float32 tensor with a free first
    /// axis and fixed, sane other axes; `[batch]` -> `[]`, one value per sample.
    private static func sampleShape(_ input: ONNXValueInfo, file: String) throws -> [Int] {
        guard let type = input.elementType else {
            throw ONNXError(file: file, message: "graph input '\(input.name)' is not a tensor")
        }
        guard type == 1 else {
            throw ONNXError(file: file, message: "graph input '\(input.name)' has element type \(type); ModelPort takes float32 (1) inputs")
        }
        // A vector (N) is N samples of one value each: element-wise graphs read it as they would (N, 1).
        guard let dims = input.shape, dims.count >= 1 else {
            throw ONNXError(file: file, message: "graph input '\(input.name)' needs a shape with a batch axis (a scalar input is not supported)")
        }
        var shape: [Int] = []
        var total = 1
        for d in dims.dropFirst() {
            guard case .value(let v) = d else {
                throw ONNXError(file: file, message: "graph input '\(input.name)' has a dimension \(d) after the batch axis; ModelPort needs a fixed sample shape")
            }
            guard v >= 1 else {
                throw ONNXError(file: file, message: "graph input '\(input.name)' has an invalid dimension \(v) in its shape (sizes must be positive)")
            }
            guard v <= Int64(maxInputElements) else {
                throw ONNXError(file: file, message: "graph input '\(input.name)' has a dimension \(v), larger than ModelPort accepts (\(maxInputElements) elements per sample)")
            }
            total *= Int(v)
            guard total <= maxInputElements else {
                throw ONNXError(file: file, message: "graph input '\(input.name)' is larger than ModelPort accepts (\(maxInputElements) elements per sample)")
            }
            shape.append(Int(v))
        }
        return shape
    }
}

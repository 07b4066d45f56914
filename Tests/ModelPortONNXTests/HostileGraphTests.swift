import Foundation
import ModelPortONNX
import ModelPortRuntime
import Testing
import TestSupport

/// Crafted ONNX graphs whose sizes, shapes and attributes are built to
/// overflow, nest or mislead: each is an error naming the file and the node,
/// never a trap (SIGILL), a stack overflow (SIGSEGV) or a huge allocation.
struct HostileGraphTests {
    static let directory = TestPaths.temporaryDirectory("onnx-hostile-graphs")

    /// A model reading `x` of shape `[N] + sample` into `nodes`, whose result is `y`.
    static func model(_ sample: [Int64], _ nodes: [ONNXNodeProto], _ initializers: [ONNXTensorProto] = []) -> ONNXModelProto {
        var proto = ONNXModelProto()
        proto.opsetImports = [ONNXOperatorSet(domain: "", version: 17)]
        proto.graph.name = "hostile"
        proto.graph.nodes = nodes
        proto.graph.initializers = initializers
        proto.graph.inputs = [ONNXValueInfo(name: "x", elementType: 1, shape: [.symbol("N")] + sample.map { .value($0) })]
        proto.graph.outputs = [ONNXValueInfo(name: "y", elementType: 1, shape: nil)]
        return proto
    }

    /// The import error of `bytes` saved as `name`, with the path it was saved at.
    static func loadError(_ bytes: [UInt8], _ name: String) -> (path: String, message: String) {
        let path = directory.appendingPathComponent(name).path
        FileManager.default.createFile(atPath: path, contents: Data(bytes))
        do {
            _ = try ONNXImporter.load(path)
            return (path, "no error")
        } catch {
            return (path, "\(error)")
        }
    }

    static func loadError(_ proto: ONNXModelProto, _ name: String) -> (path: String, message: String) {
        loadError(ONNXExporter.serialize(proto), name)
    }

    /// Loads `proto` and expects an error that names the file and contains `expected`.
    @discardableResult
    static func expectError(_ proto: ONNXModelProto, _ name: String, _ expected: String,
                            sourceLocation: SourceLocation = #_sourceLocation) -> String {
        let (path, message) = loadError(proto, name)
        #expect(message.hasPrefix(path + ": "), "\(message)", sourceLocation: sourceLocation)
        #expect(message.contains(expected), "\(message)", sourceLocation: sourceLocation)
        return message
    }

    static func reshape(_ target: [Int64]) -> ONNXModelProto {
        model([4, 4], [ONNXNodeProto(name: "reshape", opType: "Reshape", inputs: ["x", "shape"], outputs: ["y"])],
              [ONNXTensorProto(name: "shape", shape: [target.count], int64s: target)])
    }

    static func conv(_ attributes: [ONNXAttribute], opType: String = "Conv") -> ONNXModelProto {
        let kernel = ONNXTensorProto(name: "w", shape: [2, 1, 3, 3], floats: [Float](repeating: 0.5, count: 18))
        return model([1, 8, 8], [ONNXNodeProto(name: "conv", opType: opType, inputs: ["x", "w"], outputs: ["y"], attributes: attributes)],
                     [kernel])
    }

    // MARK: - Integer overflow (these trapped with SIGILL)

    @Test func reshapeTargetsBeyondAddressableSizesAreErrors() {
        Self.expectError(Self.reshape([-1, 1 << 40, 1 << 40, 1]), "reshape_2p40.onnx", "is too large")
        Self.expectError(Self.reshape([-1, Int64.max]), "reshape_int64max.onnx", "too large for an integer")
        Self.expectError(Self.reshape([-1, Int64.min]), "reshape_int64min.onnx", "too large for an integer")
        Self.expectError(Self.reshape([1 << 62, 4, -1]), "reshape_2p62.onnx", "too large for an integer")
        // A float shape constant far outside Int64.
        var proto = Self.reshape([-1, 16])
        proto.graph.initializers = [ONNXTensorProto(name: "shape", shape: [2], floats: [-1, 1e30])]
        Self.expectError(proto, "reshape_float.onnx", "too large for an integer")
        Self.expectError(Self.reshape([-7, -1]), "reshape_negative.onnx", "Reshape target [-7, -1] is invalid")
        // Every message names the node.
        #expect(Self.expectError(Self.reshape([-1, 1 << 40, 1 << 40, 1]), "reshape_node.onnx", "Reshape target").contains("node 'reshape' (Reshape)"))
    }

    @Test func hugeWindowAttributesAreErrors() {
        for (k, pads) in [[Int64](repeating: 1 << 62, count: 4), [Int64](repeating: 1 << 40, count: 4), [0, 0, .max, .max]].enumerated() {
            Self.expectError(Self.conv([ONNXAttribute("pads", .ints(pads))]), "conv_pads_\(k).onnx", "pads")
        }
        Self.expectError(Self.conv([ONNXAttribute("dilations", .ints([1 << 62, 1 << 62]))]), "conv_dilations.onnx", "dilations")
        Self.expectError(Self.conv([ONNXAttribute("strides", .ints([1 << 62, 1 << 62])), ONNXAttribute("auto_pad", .string("SAME_UPPER"))]),
                         "conv_strides_same.onnx", "strides")
        // Attribute lists shorter than the importer indexes.
        Self.expectError(Self.conv([ONNXAttribute("strides", .ints([2]))], opType: "ConvTranspose").withTransposedKernel,
                         "convtranspose_strides.onnx", "strides")
        Self.expectError(Self.conv([ONNXAttribute("pads", .ints([0]))], opType: "ConvTranspose").withTransposedKernel,
                         "convtranspose_pads.onnx", "pads")
        let pool = Self.model([1, 8, 8], [ONNXNodeProto(name: "pool", opType: "MaxPool", inputs: ["x"], outputs: ["y"], attributes: [
            ONNXAttribute("kernel_shape", .ints([2, 2])), ONNXAttribute("strides", .ints([2])),
        ])])
        Self.expectError(pool, "pool_strides.onnx", "strides")
        let hugePool = Self.model([1, 8, 8], [ONNXNodeProto(name: "pool", opType: "AveragePool", inputs: ["x"], outputs: ["y"], attributes: [
            ONNXAttribute("kernel_shape", .ints([2, 2])), ONNXAttribute("strides", .ints([.max, .max])), ONNXAttribute("auto_pad", .string("SAME_UPPER")),
        ])])
        Self.expectError(hugePool, "pool_strides_huge.onnx", "strides")
    }

    @Test func repeatedUnsqueezeAxesAreErrors() {
        let proto = Self.model([5], [ONNXNodeProto(name: "unsqueeze", opType: "Unsqueeze", inputs: ["x", "axes"], outputs: ["y"])],
                               [ONNXTensorProto(name: "axes", shape: [2], int64s: [3, 3])])
        Self.expectError(proto, "unsqueeze_repeated.onnx", "Unsqueeze on axes")
    }

    @Test func missingInputsAndMismatchedListsAreErrors() {
        // Nodes with fewer inputs than their operator has (importers indexed past the end).
        for (op, inputs) in [("BatchNormalization", ["x"]), ("Gemm", ["x"]), ("Where", ["x"]), ("Conv", ["x"]), ("Reshape", ["x"])] {
            let proto = Self.model([1, 4, 4], [ONNXNodeProto(name: "short", opType: op, inputs: inputs, outputs: ["y"])])
            Self.expectError(proto, "short_\(op).onnx", "node 'short' (\(op)): \(op) needs at least")
        }
        // Slice with starts shorter than its axes.
        let slice = Self.model([1, 8, 8], [ONNXNodeProto(name: "crop", opType: "Slice", inputs: ["x", "starts", "ends", "axes"], outputs: ["y"])], [
            ONNXTensorProto(name: "starts", shape: [1], int64s: [1]), ONNXTensorProto(name: "ends", shape: [2], int64s: [7, 7]),
            ONNXTensorProto(name: "axes", shape: [2], int64s: [2, 3]),
        ])
        Self.expectError(slice, "slice_lengths.onnx", "differ in length")
        // Concat and Sum of tensors of different ranks.
        for op in ["Concat", "Sum"] {
            let proto = Self.model([4, 4], [
                ONNXNodeProto(name: "flat", opType: "Flatten", inputs: ["x"], outputs: ["f"]),
                ONNXNodeProto(name: "join", opType: op, inputs: ["x", "f"], outputs: ["y"], attributes: op == "Concat" ? [ONNXAttribute("axis", .int(1))] : []),
            ])
            Self.expectError(proto, "ranks_\(op).onnx", "node 'join' (\(op))")
        }
    }

    @Test func gatherIndicesBeyondIntegersAreErrors() {
        let nodes = [
            ONNXNodeProto(name: "shape", opType: "Shape", inputs: ["x"], outputs: ["s"]),
            ONNXNodeProto(name: "gather", opType: "Gather", inputs: ["s", "i"], outputs: ["g"]),
            ONNXNodeProto(name: "reshape", opType: "Reshape", inputs: ["x", "g"], outputs: ["y"]),
        ]
        let proto = Self.model([4, 4], nodes, [ONNXTensorProto(name: "i", shape: [2], floats: [0, .infinity])])
        Self.expectError(proto, "gather_infinity.onnx", "too large for an integer")
    }

    // MARK: - Sizes checked before allocation

    @Test func layerOutputsBeyondTheSampleCapAreRefusedAtImport() {
        // Two 65536x upsamplings of a 64x64 image: 2^44 elements per sample.
        func resize(_ name: String, _ input: String, _ output: String) -> ONNXNodeProto {
            ONNXNodeProto(name: name, opType: "Resize", inputs: [input, "", "scales"], outputs: [output], attributes: [
                ONNXAttribute("mode", .string("nearest")), ONNXAttribute("coordinate_transformation_mode", .string("asymmetric")),
                ONNXAttribute("nearest_mode", .string("floor")),
            ])
        }
        let scales = ONNXTensorProto(name: "scales", shape: [4], floats: [1, 1, 65536, 65536])
        let proto = Self.model([1, 64, 64], [resize("up1", "x", "h"), resize("up2", "h", "y")], [scales])
        Self.expectError(proto, "resize_huge.onnx", "larger than ModelPort accepts")
        // A factor beyond any window is refused by itself.
        let beyond = Self.model([1, 8, 8], [resize("up", "x", "y")], [ONNXTensorProto(name: "scales", shape: [4], floats: [1, 1, 1_048_576, 1])])
        Self.expectError(beyond, "resize_factor.onnx", "Resize scale 1048576.0 is not supported")
    }

    @Test func weightsAreCheckedAgainstTheLimitBeforeAllocating() throws {
        // Three 64x64 dense layers (16 KB each) under a 40 KB weight limit: the
        // third is refused, naming its node, before it is allocated.
        let kernel = ONNXTensorProto(name: "w", shape: [64, 64], floats: [Float](repeating: 0.01, count: 4096))
        let nodes = (1...3).map { k in
            ONNXNodeProto(name: "dense\(k)", opType: "MatMul", inputs: [k == 1 ? "x" : "h\(k - 1)", "w"], outputs: [k == 3 ? "y" : "h\(k)"])
        }
        let proto = Self.model([64], nodes, [kernel])
        // The shared initializer is held as Doubles (32 KB), each layer's copy as Floats (16 KB).
        _ = try ONNXImporter.buildModel(proto, file: "dense.onnx", weightLimit: 32 * 1024 + 3 * 16 * 1024)
        #expect(throws: ONNXError.self) { try ONNXImporter.buildModel(proto, file: "dense.onnx", weightLimit: 32 * 1024 + 2 * 16 * 1024) }
        do {
            _ = try ONNXImporter.buildModel(proto, file: "dense.onnx", weightLimit: 32 * 1024 + 2 * 16 * 1024)
        } catch {
            #expect("\(error)".hasPrefix("dense.onnx: node 'dense3' (MatMul): the dense kernel of shape [64, 64] brings the model's weights to"), "\(error)")
        }
    }

    // MARK: - Nesting (this overflowed protobuf-c's stack: SIGSEGV)

    /// A model whose one node holds a graph attribute nesting `depth` graphs,
    /// written as raw protobuf (ModelPort's own writer has no graph attributes).
    static func nestedGraphs(depth: Int) -> [UInt8] {
        var graph: [UInt8] = []
        for _ in 0..<depth {
            let attribute = Wire.bytes(1, Array("g".utf8)) + Wire.varint(20, 5) + Wire.bytes(6, graph)  // name, type GRAPH, g
            let node = Wire.bytes(4, Array("If".utf8)) + Wire.bytes(5, attribute)
            graph = Wire.bytes(1, node)
        }
        let proto = model([4], [])
        let attribute = Wire.bytes(1, Array("then_branch".utf8)) + Wire.varint(20, 5) + Wire.bytes(6, graph)
        let node = Wire.bytes(1, Array("x".utf8)) + Wire.bytes(2, Array("y".utf8)) + Wire.bytes(4, Array("If".utf8)) + Wire.bytes(5, attribute)
        return Wire.appendingToGraph(ONNXExporter.serialize(proto), Wire.bytes(1, node))
    }

    @Test func deeplyNestedGraphAttributesAreRefusedBeforeUnpacking() {
        let (path, message) = Self.loadError(Self.nestedGraphs(depth: 3000), "nested_3000.onnx")
        #expect(message == "\(path): graphs are nested more than 32 deep inside node attributes (a hostile or damaged file?)")
        // Shallow nesting still decodes (and then stops at the unsupported operator).
        let shallow = Self.loadError(Self.nestedGraphs(depth: 10), "nested_10.onnx").message
        #expect(shallow.contains("operator 'If' is not supported"), "\(shallow)")
    }

    // MARK: - Routes out of the file

    @Test func externalTensorDataIsRefusedByName() {
        // An initializer whose data lives in /etc/passwd (data_location = EXTERNAL).
        let external = Wire.varint(1, 4) + Wire.varint(1, 2) + Wire.varint(2, 1) + Wire.bytes(8, Array("w".utf8))
            + Wire.bytes(13, Wire.bytes(1, Array("location".utf8)) + Wire.bytes(2, Array("/etc/passwd".utf8)))
            + Wire.varint(14, 1)
        let dense = ONNXNodeProto(name: "dense", opType: "MatMul", inputs: ["x", "w"], outputs: ["y"])
        let bytes = Wire.appendingToGraph(ONNXExporter.serialize(Self.model([4], [dense])), Wire.bytes(5, external))
        let (path, message) = Self.loadError(bytes, "external.onnx")
        #expect(message == "\(path): tensor 'w' keeps its data in an external file (data_location EXTERNAL), which ModelPort does not read: only self-contained .onnx files are imported")
        // The same inside a Constant node's value.
        let attribute = Wire.bytes(1, Array("value".utf8)) + Wire.varint(20, 4) + Wire.bytes(5, external)
        let constant = Wire.bytes(2, Array("w".utf8)) + Wire.bytes(3, Array("const".utf8)) + Wire.bytes(4, Array("Constant".utf8))
            + Wire.bytes(5, attribute)
        let nodes = Wire.bytes(1, constant) + Wire.bytes(1, Wire.node(dense))
        let inConstant = Self.loadError(Wire.appendingToGraph(ONNXExporter.serialize(Self.model([4], [])), nodes), "external_constant.onnx")
        #expect(inConstant.message.contains("node 'const' (Constant): tensor 'w' keeps its data in an external file"), "\(inConstant.message)")
    }

    // MARK: - Dropout in training mode (was silently the identity)

    static func dropout(trainingMode: ONNXTensorProto?) -> ONNXModelProto {
        var inputs = ["x", ""]
        var initializers: [ONNXTensorProto] = []
        if let trainingMode {
            inputs.append(trainingMode.name)
            initializers.append(trainingMode)
        }
        return model([4], [
            ONNXNodeProto(name: "drop", opType: "Dropout", inputs: inputs, outputs: ["d"]),
            ONNXNodeProto(name: "relu", opType: "Relu", inputs: ["d"], outputs: ["y"]),
        ], initializers)
    }

    static func bool(_ name: String, _ value: Bool) -> ONNXTensorProto {
        var t = ONNXTensorProto(name: name, dims: [], dataType: ONNXTensorProto.DataType.bool.rawValue)
        t.rawData = [value ? 1 : 0]
        return t
    }

    @Test func dropoutInTrainingModeIsRefused() throws {
        let message = Self.expectError(Self.dropout(trainingMode: Self.bool("training", true)), "dropout_training.onnx", "training_mode is true")
        #expect(message.contains("node 'drop' (Dropout)"))
        // A training_mode the importer cannot see is refused too.
        var computed = Self.dropout(trainingMode: nil)
        computed.graph.nodes[0].inputs.append("x")
        Self.expectError(computed, "dropout_computed.onnx", "training_mode input 'x' is not a constant")
        // False or absent: the identity (then a ReLU).
        let x = Tensor(shape: [2, 4], scalars: [1, -2, 3, -4, 5, -6, 7, -8])
        for proto in [Self.dropout(trainingMode: Self.bool("training", false)), Self.dropout(trainingMode: nil)] {
            let model = try ONNXImporter.buildModel(proto, file: "dropout.onnx")
            #expect(try model.predict(x).scalars == x.scalars.map { max($0, 0) })
        }
    }

    // MARK: - Messages read like a person wrote them

    @Test func messagesNameNoSwiftTypes() throws {
        var messages: [String] = []
        // Symbolic shape vectors, graph input dimensions and optional axes
        // used to print as Swift values.
        let reshape = ONNXNodeProto(name: "reshape", opType: "Reshape", inputs: ["x", "t"], outputs: ["y"])
        messages.append(Self.expectError(Self.model([4, 4], [reshape], [ONNXTensorProto(name: "t", shape: [2], int64s: [8, 2])]),
                                         "reshape_batch.onnx", "node 'reshape' (Reshape): Reshape to [8, 2] changes the batch axis"))
        var symbolic = Self.model([4], [ONNXNodeProto(name: "relu", opType: "Relu", inputs: ["x"], outputs: ["y"])])
        symbolic.graph.inputs[0].shape = [.symbol("N"), .symbol("features")]
        messages.append(Self.expectError(symbolic, "symbolic_input.onnx", "has a dimension 'features' after the batch axis"))
        let reduce = Self.model([4], [ONNXNodeProto(name: "mean", opType: "ReduceMean", inputs: ["x"], outputs: ["y"], attributes: [
            ONNXAttribute("axes", .ints([1])), ONNXAttribute("keepdims", .int(0)),
        ])])
        messages.append(Self.expectError(reduce, "reduce.onnx", "ReduceMean over every sample axis with keepdims=0 leaves (N,)"))
        // The hostile cases above.
        messages.append(Self.loadError(Self.reshape([-1, 1 << 40, 1 << 40, 1]), "words_reshape.onnx").message)
        messages.append(Self.loadError(Self.reshape([-1, Int64.max]), "words_int64max.onnx").message)
        messages.append(Self.loadError(Self.conv([ONNXAttribute("pads", .ints([1 << 40, 1 << 40, 1 << 40, 1 << 40]))]), "words_pads.onnx").message)
        messages.append(Self.loadError(Self.nestedGraphs(depth: 100), "words_nested.onnx").message)
        messages.append(Self.loadError(Self.dropout(trainingMode: Self.bool("training", true)), "words_dropout.onnx").message)
        for message in messages {
            #expect(message != "no error")
            // Module-qualified names (`ModelPortONNX.SymbolicInt`), enum cases, optionals.
            #expect(message.firstMatch(of: /ModelPort[A-Za-z]+\./) == nil, "\(message)")
            for leak in ["SymbolicInt", ".known(", ".value(", "symbol(\"", "Optional(", "Swift."] {
                #expect(!message.contains(leak), "\(message)")
            }
        }
    }
}

extension ONNXModelProto {
    /// The Conv test model with its kernel laid out (in, out, kh, kw) for ConvTranspose.
    var withTransposedKernel: ONNXModelProto {
        var copy = self
        copy.graph.initializers = [ONNXTensorProto(name: "w", shape: [1, 2, 3, 3], floats: [Float](repeating: 0.5, count: 18))]
        return copy
    }
}

/// Protobuf wire format, for bytes ModelPort's writer cannot produce.
enum Wire {
    static func varint(_ value: UInt64) -> [UInt8] {
        var v = value, out: [UInt8] = []
        while v >= 0x80 { out.append(UInt8(v & 0x7F) | 0x80); v >>= 7 }
        return out + [UInt8(v)]
    }

    /// A varint field.
    static func varint(_ field: UInt64, _ value: UInt64) -> [UInt8] { varint(field << 3) + varint(value) }

    /// A length-delimited field.
    static func bytes(_ field: UInt64, _ payload: [UInt8]) -> [UInt8] { varint(field << 3 | 2) + varint(UInt64(payload.count)) + payload }

    /// A NodeProto with `n`'s inputs, outputs, name and operator (no attributes).
    static func node(_ n: ONNXNodeProto) -> [UInt8] {
        n.inputs.flatMap { bytes(1, Array($0.utf8)) } + n.outputs.flatMap { bytes(2, Array($0.utf8)) }
            + bytes(3, Array(n.name.utf8)) + bytes(4, Array(n.opType.utf8))
    }

    /// A serialized ModelProto with `fields` appended to its graph (field 7),
    /// so graph fields ModelPort's writer cannot produce can be added.
    static func appendingToGraph(_ model: [UInt8], _ fields: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [], offset = 0
        func read() -> UInt64 {
            var value: UInt64 = 0, shift: UInt64 = 0
            while true {
                let byte = model[offset]
                offset += 1
                value |= UInt64(byte & 0x7F) << shift
                if byte & 0x80 == 0 { return value }
                shift += 7
            }
        }
        while offset < model.count {
            let start = offset
            let key = read()
            switch key & 7 {
            case 0: _ = read(); out += model[start..<offset]
            case 2:
                let length = Int(read())
                let payload = Array(model[offset..<offset + length])
                offset += length
                out += key >> 3 == 7 ? bytes(7, payload + fields) : Array(model[start..<offset])
            default: fatalError("the writer only uses varint and length-delimited fields")
            }
        }
        return out
    }
}


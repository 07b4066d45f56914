import Foundation
import ModelPortONNX
import ModelPortRuntime
import Testing
import TestSupport

/// Opsets 6 to 28 are read directly: each operator's older spelling (an
/// attribute that later became an input, opset 6's `broadcast`/`axis`) must
/// import to the same computation as its current spelling, and what an old
/// version means differently (training-mode `is_test`, `spatial` = 0, an
/// operator used before it existed) is refused by name. The values themselves
/// are checked against the ONNX project's test data and onnxruntime by
/// tools/onnx_backend_cases.py.
struct OldOpsetImportTests {
    /// `x` of shape `[N] + sample` through `nodes` to `y`, at `opset`.
    static func model(opset: Int64, _ sample: [Int64], _ nodes: [ONNXNodeProto], _ initializers: [ONNXTensorProto] = []) -> ONNXModelProto {
        var proto = ONNXModelProto()
        proto.opsetImports = [ONNXOperatorSet(domain: "", version: opset)]
        proto.graph.name = "old_opset"
        proto.graph.nodes = nodes
        proto.graph.initializers = initializers
        proto.graph.inputs = [ONNXValueInfo(name: "x", elementType: 1, shape: [.symbol("N")] + sample.map { .value($0) })]
        proto.graph.outputs = [ONNXValueInfo(name: "y", elementType: 1, shape: nil)]
        return proto
    }

    static func node(_ op: String, _ inputs: [String], _ attributes: [ONNXAttribute] = [], outputs: [String] = ["y"]) -> ONNXNodeProto {
        ONNXNodeProto(name: op.lowercased(), opType: op, inputs: inputs, outputs: outputs, attributes: attributes)
    }

    static func ints64(_ name: String, _ values: [Int64]) -> ONNXTensorProto { ONNXTensorProto(name: name, shape: [values.count], int64s: values) }

    /// Seeded inputs in [-2, 2) of `[2] + sample`.
    static func inputs(_ sample: [Int]) -> Tensor {
        var g = SplitMix(seed: 7)
        let count = 2 * sample.reduce(1, *)
        return Tensor(shape: [2] + sample, scalars: (0..<count).map { _ in Float(g.next() % 4000) / 1000 - 2 })
    }

    /// Both spellings import, to the same output shape and the same values (bit for bit).
    static func expectSame(_ old: ONNXModelProto, _ current: ONNXModelProto, sample: [Int],
                           sourceLocation: SourceLocation = #_sourceLocation) throws {
        let a = try ONNXImporter.buildModel(roundTrip(old), file: "old.onnx")
        let b = try ONNXImporter.buildModel(roundTrip(current), file: "current.onnx")
        let x = inputs(sample)
        let (ya, yb) = (try a.predict(x), try b.predict(x))
        #expect(ya.shape == yb.shape, sourceLocation: sourceLocation)
        #expect(ya.scalars == yb.scalars, sourceLocation: sourceLocation)
    }

    static func error(_ proto: ONNXModelProto) -> String {
        do {
            _ = try ONNXImporter.buildModel(roundTrip(proto), file: "old.onnx")
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    @Test(arguments: Array(6...28))
    func everyOpsetFrom6To28Imports(_ opset: Int) throws {
        let proto = Self.model(opset: Int64(opset), [3, 4], [Self.node("Relu", ["x"], outputs: ["r"]), Self.node("Sigmoid", ["r"])])
        let model = try ONNXImporter.buildModel(roundTrip(proto), file: "opset\(opset).onnx")
        #expect(try model.predict(Self.inputs([3, 4])).shape == [2, 3, 4])
    }

    @Test func attributesThatBecameInputsImportAsTheInputsDo() throws {
        // Clip: min/max attributes before 11, inputs from 11.
        try Self.expectSame(Self.model(opset: 10, [6], [Self.node("Clip", ["x"], [ONNXAttribute("min", .float(-0.5)), ONNXAttribute("max", .float(1.25))])]),
                            Self.model(opset: 13, [6], [Self.node("Clip", ["x", "lo", "hi"])],
                                       [ONNXTensorProto(name: "lo", shape: [], floats: [-0.5]), ONNXTensorProto(name: "hi", shape: [], floats: [1.25])]),
                            sample: [6])
        // Pad: pads attribute before 11.
        let pads: [Int64] = [0, 0, 1, 2, 0, 0, 2, 1]
        try Self.expectSame(Self.model(opset: 6, [2, 3, 3], [Self.node("Pad", ["x"], [ONNXAttribute("pads", .ints(pads)), ONNXAttribute("mode", .string("constant"))])]),
                            Self.model(opset: 13, [2, 3, 3], [Self.node("Pad", ["x", "pads"])], [Self.ints64("pads", pads)]),
                            sample: [2, 3, 3])
        // Slice: starts/ends/axes attributes before 10.
        try Self.expectSame(Self.model(opset: 9, [5, 4], [Self.node("Slice", ["x"], [ONNXAttribute("starts", .ints([1, 0])), ONNXAttribute("ends", .ints([4, 3])),
                                                                                        ONNXAttribute("axes", .ints([1, 2]))])]),
                            Self.model(opset: 13, [5, 4], [Self.node("Slice", ["x", "s", "e", "a"])], [Self.ints64("s", [1, 0]), Self.ints64("e", [4, 3]), Self.ints64("a", [1, 2])]),
                            sample: [5, 4])
        // Unsqueeze / Squeeze: axes attribute before 13.
        try Self.expectSame(Self.model(opset: 11, [4], [Self.node("Unsqueeze", ["x"], [ONNXAttribute("axes", .ints([2]))], outputs: ["u"]),
                                                        Self.node("Squeeze", ["u"], [ONNXAttribute("axes", .ints([-1]))])]),
                            Self.model(opset: 13, [4], [Self.node("Unsqueeze", ["x", "a"], outputs: ["u"]), Self.node("Squeeze", ["u", "b"])],
                                       [Self.ints64("a", [2]), Self.ints64("b", [-1])]),
                            sample: [4])
        // Split: the split attribute before 13, then one output used.
        try Self.expectSame(Self.model(opset: 11, [6, 2], [Self.node("Split", ["x"], [ONNXAttribute("axis", .int(1)), ONNXAttribute("split", .ints([2, 4]))], outputs: ["p", "q"]),
                                                           Self.node("Mul", ["p", "p"], outputs: ["m"]), Self.node("Relu", ["q"], outputs: ["r"]),
                                                           Self.node("Concat", ["m", "r"], [ONNXAttribute("axis", .int(1))])]),
                            Self.model(opset: 13, [6, 2], [Self.node("Split", ["x", "sizes"], [ONNXAttribute("axis", .int(1))], outputs: ["p", "q"]),
                                                           Self.node("Mul", ["p", "p"], outputs: ["m"]), Self.node("Relu", ["q"], outputs: ["r"]),
                                                           Self.node("Concat", ["m", "r"], [ONNXAttribute("axis", .int(1))])],
                                       [Self.ints64("sizes", [2, 4])]),
                            sample: [6, 2])
    }

    @Test func reduceAxesAreAnAttributeUntil13ForSumAnd18ForMeanAndMax() throws {
        // (values: tools/onnx_backend_cases.py, test_reduce_* and test_operator_reduced_*)
        let keep0 = ONNXAttribute("keepdims", .int(0))
        try Self.expectSame(Self.model(opset: 12, [3, 4, 2], [Self.node("ReduceSum", ["x"], [ONNXAttribute("axes", .ints([1, -1])), keep0])]),
                            Self.model(opset: 13, [3, 4, 2], [Self.node("ReduceSum", ["x", "axes"], [keep0])], [Self.ints64("axes", [1, -1])]),
                            sample: [3, 4, 2])
        for op in ["ReduceMean", "ReduceMax"] {
            try Self.expectSame(Self.model(opset: 17, [3, 4, 2], [Self.node(op, ["x"], [ONNXAttribute("axes", .ints([2]))])]),
                                Self.model(opset: 18, [3, 4, 2], [Self.node(op, ["x", "axes"])], [Self.ints64("axes", [2])]),
                                sample: [3, 4, 2])
        }
        #expect(Self.error(Self.model(opset: 13, [3, 4], [Self.node("ReduceSum", ["x"], [ONNXAttribute("axes", .ints([1]))])]))
            .contains("attribute 'axes' is not supported"))
        #expect(Self.error(Self.model(opset: 11, [3, 4], [Self.node("ReduceMax", ["x"])])).contains("reduces every axis, the batch axis too"))
    }

    @Test func opset6BroadcastAlignsTheConstantAtAxis() throws {
        // Add(x (N, 3, 2, 2), b (3,), broadcast=1, axis=1) is b reshaped to (3, 1, 1) in opset 7's numpy rule.
        let b: [Float] = [0.5, -1, 2]
        try Self.expectSame(Self.model(opset: 6, [3, 2, 2], [Self.node("Add", ["x", "b"], [ONNXAttribute("broadcast", .int(1)), ONNXAttribute("axis", .int(1))])],
                                       [ONNXTensorProto(name: "b", shape: [3], floats: b)]),
                            Self.model(opset: 13, [3, 2, 2], [Self.node("Add", ["x", "b"])], [ONNXTensorProto(name: "b", shape: [3, 1, 1], floats: b)]),
                            sample: [3, 2, 2])
    }

    @Test func softmaxBefore13NormalizesTheAxesFromAxisTogether() throws {
        // Opset 11's Softmax(axis=1) on (N, 2, 3) is one softmax over all 6 values: opset 13's over the flattened axis.
        try Self.expectSame(Self.model(opset: 11, [2, 3], [Self.node("Softmax", ["x"], [ONNXAttribute("axis", .int(1))])]),
                            Self.model(opset: 13, [2, 3], [Self.node("Reshape", ["x", "flat"], outputs: ["f"]), Self.node("Softmax", ["f"], outputs: ["s"]),
                                                           Self.node("Reshape", ["s", "back"])],
                                       [Self.ints64("flat", [0, 6]), Self.ints64("back", [0, 2, 3])]),
                            sample: [2, 3])
        // Default axis 1 before 13, -1 from 13: on (N, 5) they agree.
        try Self.expectSame(Self.model(opset: 9, [5], [Self.node("LogSoftmax", ["x"])]), Self.model(opset: 13, [5], [Self.node("LogSoftmax", ["x"])]),
                            sample: [5])
    }

    @Test func oldMeaningsModelPortDoesNotRunAreRefusedByName() throws {
        let bn = { (opset: Int64, attributes: [ONNXAttribute]) in
            Self.model(opset: opset, [2, 2, 2], [Self.node("BatchNormalization", ["x", "s", "b", "m", "v"], attributes)],
                       ["s", "b", "m", "v"].map { ONNXTensorProto(name: $0, shape: [2], floats: [1, 1]) })
        }
        #expect(Self.error(bn(6, [])).contains("is_test=0"))
        #expect(Self.error(bn(6, [ONNXAttribute("is_test", .int(1))])) == "no error")
        #expect(Self.error(bn(8, [ONNXAttribute("spatial", .int(0))])).contains("'spatial' = 0 is not supported"))
        #expect(Self.error(bn(9, [ONNXAttribute("spatial", .int(1))])).contains("attribute 'spatial' is not supported"))
        #expect(Self.error(Self.model(opset: 6, [4], [Self.node("Dropout", ["x"])])).contains("is_test=0"))
        #expect(Self.error(Self.model(opset: 7, [4], [Self.node("Dropout", ["x"], [ONNXAttribute("ratio", .float(0.3))])])) == "no error")
        #expect(Self.error(Self.model(opset: 13, [4], [Self.node("HardSwish", ["x"])])).contains("'HardSwish' does not exist in opset 13 (it was introduced in opset 14)"))
        let upsample = Self.model(opset: 10, [1, 2, 2], [Self.node("Upsample", ["x", "scales"])], [ONNXTensorProto(name: "scales", shape: [4], floats: [1, 1, 2, 2])])
        #expect(Self.error(upsample).contains("Upsample is deprecated from opset 10"))
        var linear = upsample
        linear.opsetImports = [ONNXOperatorSet(domain: "", version: 9)]
        linear.graph.nodes[0].attributes = [ONNXAttribute("mode", .string("linear"))]
        #expect(Self.error(linear).contains("mode 'linear'"))
        linear.graph.nodes[0].attributes = []
        #expect(Self.error(linear) == "no error")
    }
}

/// A small seeded generator (SplitMix64) for test inputs.
private struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

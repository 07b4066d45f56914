import Foundation
import ModelPortONNX
import ModelPortRuntime
import Testing

/// Operators imported as compositions of runtime layers, or folded away:
/// checked against their formulas or against the equivalent spelled-out graph.
struct ComposedOperatorTests {
    typealias T = OldOpsetImportTests

    static func run(_ proto: ONNXModelProto, _ x: Tensor) throws -> Tensor {
        try ONNXImporter.buildModel(roundTrip(proto), file: "composed.onnx").predict(x)
    }

    @Test func hardSigmoidAndSeluWithAnyConstants() throws {
        let x = T.inputs([3, 4])
        let hard = try Self.run(T.model(opset: 13, [3, 4], [T.node("HardSigmoid", ["x"], [ONNXAttribute("alpha", .float(0.5)),
                                                                                           ONNXAttribute("beta", .float(0.6))])]), x)
        let selu = try Self.run(T.model(opset: 13, [3, 4], [T.node("Selu", ["x"], [ONNXAttribute("alpha", .float(2)),
                                                                                   ONNXAttribute("gamma", .float(3))])]), x)
        for (i, v) in x.scalars.enumerated() {
            #expect(abs(hard.scalars[i] - min(max(0.5 * v + 0.6, 0), 1)) <= 1e-6)
            #expect(abs(selu.scalars[i] - 3 * (v > 0 ? v : 2 * (exp(v) - 1))) <= 1e-5)
        }
    }

    /// SAME_LOWER puts the odd extra row and column of padding before: explicit pads [1, 1, 0, 0] for a 2x2 kernel.
    @Test func convSameLowerIsExplicitPadsBefore() throws {
        let w = ONNXTensorProto(name: "w", shape: [2, 3, 2, 2], floats: (0..<24).map { Float($0 % 5) / 5 - 0.3 })
        try T.expectSame(T.model(opset: 13, [3, 5, 4], [T.node("Conv", ["x", "w"], [ONNXAttribute("auto_pad", .string("SAME_LOWER"))])], [w]),
                         T.model(opset: 13, [3, 5, 4], [T.node("Conv", ["x", "w"], [ONNXAttribute("pads", .ints([1, 1, 0, 0]))])], [w]),
                         sample: [3, 5, 4])
    }

    /// A Reshape of a constant weight (the Caffe2 zoo models' Gemm weights) is folded into the constant.
    @Test func aReshapedConstantIsFolded() throws {
        let values: [Float] = (0..<12).map { Float($0) / 7 - 0.5 }
        try T.expectSame(T.model(opset: 13, [4], [T.node("Reshape", ["w", "shape"], outputs: ["w2"]), T.node("Gemm", ["x", "w2"])],
                                 [ONNXTensorProto(name: "w", shape: [12], floats: values), T.ints64("shape", [4, -1])]),
                         T.model(opset: 13, [4], [T.node("Gemm", ["x", "w"])], [ONNXTensorProto(name: "w", shape: [4, 3], floats: values)]),
                         sample: [4])
        let bad = T.model(opset: 13, [4], [T.node("Reshape", ["w", "shape"], outputs: ["w2"]), T.node("Gemm", ["x", "w2"])],
                          [ONNXTensorProto(name: "w", shape: [12], floats: values), T.ints64("shape", [5, -1])])
        #expect(T.error(bad).contains("does not fit its 12 values"), "\(T.error(bad))")
    }
}

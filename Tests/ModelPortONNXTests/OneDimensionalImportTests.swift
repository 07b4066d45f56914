import ModelPortONNX
import ModelPortRuntime
import Testing

/// 1-D `Conv`, `MaxPool` and `AveragePool` on (N, C, L) import as their 2-D
/// forms on (N, C, L, 1): the same values as that 2-D graph (checked against
/// PyTorch's stored outputs by tools/onnx_backend_cases.py: test_Conv1d*,
/// test_MaxPool1d*, test_AvgPool1d*).
struct OneDimensionalImportTests {
    typealias T = OldOpsetImportTests

    static func attributes(kernel: [Int64]?, strides: [Int64]? = nil, pads: [Int64]? = nil, dilations: [Int64]? = nil) -> [ONNXAttribute] {
        var out: [ONNXAttribute] = []
        if let kernel { out.append(ONNXAttribute("kernel_shape", .ints(kernel))) }
        if let strides { out.append(ONNXAttribute("strides", .ints(strides))) }
        if let pads { out.append(ONNXAttribute("pads", .ints(pads))) }
        if let dilations { out.append(ONNXAttribute("dilations", .ints(dilations))) }
        return out
    }

    @Test func conv1DIsTheConvOfAnImageOneColumnWide() throws {
        let w: [Float] = (0..<36).map { Float($0 % 7) / 7 - 0.4 }
        let b = ONNXTensorProto(name: "b", shape: [4], floats: [0.1, -0.2, 0.3, 0])
        let oneDNodes: [ONNXNodeProto] = [
            T.node("Conv", ["x", "w", "b"], Self.attributes(kernel: nil, strides: [2], pads: [1, 2], dilations: [2]), outputs: ["c"]),
            T.node("MaxPool", ["c"], Self.attributes(kernel: [2]), outputs: ["p"]),
            T.node("AveragePool", ["p"], Self.attributes(kernel: [2])),
        ]
        let twoDNodes: [ONNXNodeProto] = [
            T.node("Unsqueeze", ["x", "last"], outputs: ["x2"]),
            T.node("Conv", ["x2", "w", "b"], Self.attributes(kernel: nil, strides: [2, 1], pads: [1, 0, 2, 0], dilations: [2, 1]), outputs: ["c"]),
            T.node("MaxPool", ["c"], Self.attributes(kernel: [2, 1]), outputs: ["p"]),
            T.node("AveragePool", ["p"], Self.attributes(kernel: [2, 1]), outputs: ["a"]),
            T.node("Squeeze", ["a", "last"]),
        ]
        let oneD = T.model(opset: 13, [3, 9], oneDNodes, [ONNXTensorProto(name: "w", shape: [4, 3, 3], floats: w), b])
        let twoD = T.model(opset: 13, [3, 9], twoDNodes, [ONNXTensorProto(name: "w", shape: [4, 3, 3, 1], floats: w), b, T.ints64("last", [3])])
        try T.expectSame(oneD, twoD, sample: [3, 9])
    }

    /// PyTorch's ConvTranspose2d(padding=1, output_padding=1): the 'valid' output cropped by
    /// one row and column at the start (checked against PyTorch by test_ConvTranspose2d*).
    @Test func convTransposeWithPadsIsTheValidOutputCropped() throws {
        let w: [Float] = (0..<(2 * 3 * 9)).map { Float($0 % 5) / 5 - 0.3 }
        let kernel = ONNXTensorProto(name: "w", shape: [2, 3, 3, 3], floats: w)
        let padded: [ONNXAttribute] = [ONNXAttribute("strides", .ints([2, 2])), ONNXAttribute("pads", .ints([1, 1, 1, 1])),
                                       ONNXAttribute("output_padding", .ints([1, 1]))]
        let cropped: [ONNXNodeProto] = [
            T.node("ConvTranspose", ["x", "w"], [ONNXAttribute("strides", .ints([2, 2]))], outputs: ["v"]),
            T.node("Slice", ["v", "starts", "ends", "axes"]),
        ]
        // 'valid': (4 - 1) * 2 + 3 = 9 rows; ONNX's: 9 - 1 - 1 + 1 = 8, rows 1..<9.
        try T.expectSame(T.model(opset: 13, [2, 4, 4], [T.node("ConvTranspose", ["x", "w"], padded)], [kernel]),
                         T.model(opset: 13, [2, 4, 4], cropped, [kernel, T.ints64("starts", [1, 1]), T.ints64("ends", [9, 9]), T.ints64("axes", [2, 3])]),
                         sample: [2, 4, 4])
    }
}

import Foundation
import ModelPortONNX
import ModelPortRuntime
import Testing
import TestSupport

/// The operators ModelPort imports as its ONNX-only runtime layers
/// (`LocalResponseNormalization`, `InstanceNormalization`, `LpNormalization`,
/// `WindowPooling`, `Pad2D`, `Resize2D`, `WindowConvolution`, `WindowConvTranspose`) against
/// onnxruntime: the single-operator models and
/// the outputs onnxruntime computed for seeded inputs, committed by
/// tools/make_onnx_op_references.py (fixtures/onnx/ops).
struct ONNXOnlyLayerTests {
    struct Case: Decodable {
        let name: String
        let input_shape: [Int]
        let input: [Float]
        let output_shape: [Int]
        let output: [Float]
    }

    struct References: Decodable { let cases: [Case] }

    static let directory = TestPaths.fixtures.appendingPathComponent("onnx/ops")

    static func references() throws -> [Case] {
        let data = try Data(contentsOf: directory.appendingPathComponent("references.json"))
        return try JSONDecoder().decode(References.self, from: data).cases
    }

    /// The runtime layer each case must import as (not a Keras layer that happens to agree).
    static let expectedLayer: [String: String] = [
        "lrn": "LocalResponseNormalization", "instancenorm": "InstanceNormalization", "lpnorm": "LpNormalization",
        "maxpool": "WindowPooling", "avgpool": "WindowPooling", "pad": "Pad2D", "resize": "Resize2D", "conv3d": "WindowConvolution", "convtranspose": "WindowConvTranspose",
    ]

    @Test func everyCaseMatchesOnnxruntime() throws {
        let cases = try Self.references()
        #expect(cases.count >= 34)
        for c in cases {
            let model = try ONNXImporter.load(Self.directory.appendingPathComponent(c.name + ".onnx").path).model
            let prefix = String(c.name.prefix { $0 != "_" })
            #expect(model.layers.contains { $0.typeName == Self.expectedLayer[prefix] }, "\(c.name): no \(Self.expectedLayer[prefix] ?? "?") layer")
            let y = model.forward(Tensor(shape: c.input_shape, scalars: c.input))
            let expected = Tensor(shape: c.output_shape, scalars: c.output)
            #expect(y.shape == expected.shape, "\(c.name): shape \(y.shape), onnxruntime \(expected.shape)")
            let scale = max(1, expected.scalars.map(abs).max() ?? 1)
            #expect(maxAbsDifference(y, expected) <= 2e-6 * scale, "\(c.name): max difference \(maxAbsDifference(y, expected))")
        }
    }

    /// A window wholly in the padding (0 / 0 for an average) is refused, as onnxruntime refuses it.
    @Test func poolingPadsNotSmallerThanTheKernelAreRefused() {
        typealias T = OldOpsetImportTests
        let proto = T.model(opset: 13, [2, 5, 6], [T.node("AveragePool", ["x"], [ONNXAttribute("kernel_shape", .ints([2, 2])),
                                                                                 ONNXAttribute("pads", .ints([2, 0, 0, 0]))])])
        #expect(T.error(proto).contains("pads [2, 0, 0, 0] are not all smaller than kernel_shape [2, 2]"), "\(T.error(proto))")
    }
}

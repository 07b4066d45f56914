import Foundation
import ModelPortONNX
import ModelPortRuntime
import ModelPortValidation
import Testing
import TestSupport

/// tf2onnx's conversions of the fixture models (committed by
/// tools/make_onnx_fixtures.py, which checked them against Keras with
/// onnxruntime) import into ModelPort and predict Keras's outputs within 1e-5.
struct TF2ONNXImportTests {
    @Test(arguments: Fixture.all)
    func importsAndValidates(_ fixture: Fixture) throws {
        let file = try ONNXImporter.load(tf2onnxPath(fixture))
        #expect(file.producerName == "tf2onnx")
        #expect(file.opset == 17)
        let reference = try ReferenceData.read(fixture.referencePath)
        #expect(file.model.inputShape == reference.inputs.sampleShape)
        let result = try Comparison(actual: try predictions(file.model, reference.inputs), expected: reference.outputs,
                                    labels: reference.labels, atol: 1e-5)
        #expect(result.maxAbsoluteError <= 1e-5, "\(fixture): max |ModelPort(tf2onnx) - Keras| = \(result.maxAbsoluteError)")
        #expect(result.passed)
    }

    @Test func convolutionsBecomeKerasLayers() throws {
        let fixture = try #require(Fixture.all.first { $0.stem == "mnist_cnn" })
        let file = try ONNXImporter.load(tf2onnxPath(fixture))
        let types = file.model.layers.map(\.typeName)
        #expect(types.filter { $0 == "Conv2D" }.count == 2)
        #expect(types.filter { $0 == "Dense" }.count == 2)
        #expect(types.filter { $0 == "MaxPooling2D" }.count == 2)
        // The MatMul + Add pairs became Dense layers with a bias.
        #expect(file.model.layers.compactMap { $0 as? Dense }.allSatisfy { $0.bias != nil })
    }
}

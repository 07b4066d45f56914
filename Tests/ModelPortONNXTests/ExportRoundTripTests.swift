import Foundation
import ModelPortKeras
import ModelPortONNX
import ModelPortRuntime
import ModelPortValidation
import Testing
import TestSupport

/// Every Keras fixture exported to ONNX and read back by ModelPort's own
/// importer predicts Keras's reference outputs within 1e-5. (onnxruntime's
/// predictions on the same files are checked by tools/interop_check.py.)
struct ExportRoundTripTests {
    @Test(arguments: Fixture.all)
    func reimportMatchesKeras(_ fixture: Fixture) throws {
        let keras = try ModelLoader.load(fixture.modelPath)
        let reference = try ReferenceData.read(fixture.referencePath)
        let proto = try roundTrip(try ONNXExporter.export(keras.model, options: ONNXExportOptions(sourceFile: fixture.modelPath)))
        let model = try ONNXImporter.buildModel(proto, file: "\(fixture.stem).onnx")
        let outputs = try predictions(model, reference.inputs)
        let result = try Comparison(actual: outputs, expected: reference.outputs, atol: 1e-5)
        #expect(result.maxAbsoluteError <= 1e-5, "\(fixture): max |re-imported ONNX - Keras| = \(result.maxAbsoluteError)")
        #expect(result.passed)
        // The re-imported model computes what the Keras-loaded one does.
        #expect(maxAbsDifference(outputs, try predictions(keras.model, reference.inputs)) <= 1e-5)
    }

    @Test(arguments: Fixture.all)
    func graphKeepsKerasLayoutAtTheBoundary(_ fixture: Fixture) throws {
        let keras = try ModelLoader.load(fixture.modelPath)
        let proto = try roundTrip(try ONNXExporter.export(keras.model, options: ONNXExportOptions(sourceFile: fixture.modelPath)))
        #expect(proto.defaultOpset == 17)
        #expect(proto.irVersion == 8)
        #expect(proto.producerName == "ModelPort")
        #expect(proto.metadata.contains(ONNXMetadataEntry(key: "source_file", value: fixture.modelPath)))
        let input = try #require(proto.graph.inputs.first)
        #expect(input.shape == [.symbol("batch")] + keras.model.inputShape.map { .value(Int64($0)) })
        #expect(proto.graph.outputs.first?.shape == [.symbol("batch"), .value(10)])
        let ops = proto.graph.nodes.map(\.opType)
        let convolutions = ops.filter { $0 == "Conv" }.count
        // One Transpose into NCHW at the input and one back before Flatten, only for CNNs.
        #expect(ops.filter { $0 == "Transpose" }.count == (convolutions > 0 ? 2 : 0))
        if convolutions > 0 {
            let transpose = try #require(proto.graph.nodes.first)
            #expect(transpose.opType == "Transpose" && transpose.inputs == ["input"])
            #expect(transpose.attribute("perm") == .ints([0, 3, 1, 2]))
        }
    }

    @Test func nchwInputSkipsTheBoundaryTranspose() throws {
        let fixture = try #require(Fixture.all.first { $0.stem == "mnist_cnn" })
        let keras = try ModelLoader.load(fixture.modelPath)
        let reference = try ReferenceData.read(fixture.referencePath)
        var options = ONNXExportOptions()
        options.nchwInput = true
        let proto = try roundTrip(try ONNXExporter.export(keras.model, options: options))
        #expect(proto.graph.inputs.first?.shape == [.symbol("batch"), .value(1), .value(28), .value(28)])
        #expect(proto.graph.nodes.first?.opType == "Conv")
        let model = try ONNXImporter.buildModel(proto, file: "nchw.onnx")
        #expect(model.inputShape == [1, 28, 28])
        // NHWC reference images with one channel are the same bytes as NCHW.
        let outputs = try predictions(model, reference.inputs.reshaped([200, 1, 28, 28]))
        #expect(maxAbsDifference(outputs, reference.outputs) <= 1e-5)
    }

    @Test(arguments: [13, 14, 18, 19, 20, 21])
    func everySupportedOpsetRoundTrips(_ opset: Int) throws {
        let fixture = try #require(Fixture.all.first { $0.stem == "mnist_digit_model" })
        let keras = try ModelLoader.load(fixture.modelPath)
        let reference = try ReferenceData.read(fixture.referencePath)
        let proto = try roundTrip(try ONNXExporter.export(keras.model, options: ONNXExportOptions(opset: opset)))
        #expect(proto.defaultOpset == Int64(opset))
        let model = try ONNXImporter.buildModel(proto, file: "opset\(opset).onnx")
        #expect(maxAbsDifference(try predictions(model, reference.inputs), reference.outputs) <= 1e-5)
    }

    @Test(arguments: [12, 22])
    func unsupportedOpsetIsRefused(_ opset: Int) throws {
        let keras = try ModelLoader.load(Fixture.all[0].modelPath)
        let error = #expect(throws: ONNXError.self) { try ONNXExporter.export(keras.model, options: ONNXExportOptions(opset: opset)) }
        #expect(error?.message.contains("opset \(opset)") == true)
    }
}

import Foundation
import Testing
import ModelPortFormats
import ModelPortRuntime
import ModelPortValidation
import TestSupport

/// Issue #16's must-hold: a PyTorch-style MNIST CNN (NCHW input, a
/// `Shape -> Gather -> Unsqueeze -> Concat -> Reshape` or `Flatten` before a
/// `Gemm` head; opsets 9, 13 and 17) made by tools/make_pytorch_style_onnx.py
/// from the trained Keras CNN's weights imports as onnxruntime runs it and
/// converts to an ordinary channels-last Keras model: the Keras CNN it came
/// from, weight for weight. That tf-keras and Keras 3 load the converted files
/// and predict onnxruntime's outputs is checked by tools/interop_check.py.
@Suite struct PyTorchStyleConversionTests {
    static let stems = ["mnist_cnn_opset9", "mnist_cnn_opset17", "mnist_cnn_flatten_opset13"]

    static func path(_ stem: String, _ suffix: String) -> String { TestPaths.fixture("onnx/pytorch/\(stem)\(suffix)") }

    @Test(arguments: stems)
    func importsAndPredictsWhatOnnxruntimeDoes(_ stem: String) throws {
        let source = try AnyModelFile.loadTrusted(Self.path(stem, ".onnx"))
        let reference = try ReferenceData.read(Self.path(stem, ".reference.h5"))
        #expect(source.model.inputShapes == [[1, 28, 28]])
        let got = try source.model.predict(reference.inputs)
        let difference = maxAbsDifference(got, reference.outputs)
        #expect(difference <= 1e-5, "\(stem): max |ModelPort - onnxruntime| = \(difference)")
        // The flatten before the head reads the NHWC-held activations as they are: one Permute, at the input.
        #expect(source.model.layers.filter { $0 is Permute }.count == 1, "\(source.model.layers.map(\.typeName))")
    }

    @Test(arguments: stems, ["k3.h5", "k2.h5", "keras"])
    func becomesTheChannelsLastKerasCNNItCameFrom(_ stem: String, _ suffix: String) throws {
        let source = try AnyModelFile.loadTrusted(Self.path(stem, ".onnx"))
        let output = TestPaths.temporaryDirectory("pytorch-style").appendingPathComponent("\(stem).\(suffix)").path
        let written = try ModelConversion.write(source, to: output, options: .init(kerasVersion: suffix == "k2.h5" ? 2 : 3))
        #expect(written.description.contains("(28, 28, 1) input (channels last)"), "\(written.description)")
        #expect(written.inputDims.count == 1 && written.inputDims[0] == [2, 3, 1])
        let converted = try ModelConversion.readBack(output, source: source)
        #expect(converted.inputShapes == [[28, 28, 1]])
        #expect(converted.layers.map(\.typeName) == ["Conv2D", "Activation", "MaxPooling2D", "Conv2D", "Activation", "MaxPooling2D",
                                                     "Flatten", "Dense", "Activation", "Dense", "Activation"])

        // Channels-last digits give onnxruntime's outputs.
        let nhwc = try ReferenceData.read(Self.path(stem, ".nhwc.reference.h5"))
        let difference = maxAbsDifference(try converted.predict(nhwc.inputs), nhwc.outputs)
        #expect(difference <= 1e-5, "\(stem).\(suffix): max |converted - onnxruntime| = \(difference)")
        let check = try ModelConversion.verify(source.model, converted, inputDims: written.inputDims,
                                               reference: try ReferenceData.read(Self.path(stem, ".reference.h5")),
                                               sourcePath: Self.path(stem, ".onnx"), atol: 1e-5, rtol: 0)
        #expect(check.passed && check.outputs[0].maxAbsoluteError == 0)

        // Keras -> PyTorch's layouts -> Keras moves every weight without arithmetic: each is the original's, bit for bit.
        let original = try AnyModelFile.loadTrusted(TestPaths.fixture("mnist_cnn.h5")).model
        let a = original.layers.flatMap(\.parameters), b = converted.layers.flatMap(\.parameters)
        #expect(a.count == 8 && b.count == 8)
        for (p, q) in zip(a, b) {
            #expect(p.value.shape == q.value.shape && p.value.scalars == q.value.scalars, "\(stem).\(suffix): \(q.value.shape)")
        }
    }

    @Test func keepNCHWInputKeepsThePermute() throws {
        let stem = "mnist_cnn_opset17"
        let source = try AnyModelFile.loadTrusted(Self.path(stem, ".onnx"))
        let output = TestPaths.temporaryDirectory("pytorch-style").appendingPathComponent("nchw.h5").path
        let written = try ModelConversion.write(source, to: output, options: .init(nchwInput: true))
        #expect(!written.description.contains("channels last"))
        #expect(written.inputDims.allSatisfy { $0 == nil })
        let converted = try ModelConversion.readBack(output, source: source)
        #expect(converted.inputShapes == [[1, 28, 28]])
        #expect(converted.layers.first is Permute)
        let reference = try ReferenceData.read(Self.path(stem, ".reference.h5"))
        #expect(maxAbsDifference(try converted.predict(reference.inputs), reference.outputs) <= 1e-5)
    }

    @Test func verificationNeedsTheInputPermutation() throws {
        // Without the written file's input permutation, the channels-last model cannot take the source's samples.
        let source = try AnyModelFile.loadTrusted(Self.path("mnist_cnn_opset9", ".onnx"))
        let output = TestPaths.temporaryDirectory("pytorch-style").appendingPathComponent("nhwc.keras").path
        _ = try ModelConversion.write(source, to: output)
        let converted = try ModelConversion.readBack(output, source: source)
        #expect(throws: RuntimeError.self) {
            try ModelConversion.verify(source.model, converted, reference: nil, sourcePath: "source.onnx", atol: 1e-5, rtol: 0)
        }
    }
}

import Testing
import ModelPortKeras
import ModelPortRuntime
import ModelPortValidation
import TestSupport

/// `modelport validate`'s library half: a model on its reference file.
@Suite struct ReferenceValidationTests {
    let model = TestPaths.fixture("mnist_mlp.h5")
    let reference = TestPaths.fixture("mnist_mlp.reference.h5")

    @Test func aFixtureMatchesItsReference() throws {
        let file = try ModelLoader.load(model)
        let ref = try ReferenceData.read(reference)
        let result = try ReferenceValidation(model: file.model, reference: ref, modelPath: model)
        #expect(result.passed && result.layers == nil)
        #expect(result.comparison.samples == ref.inputs.batchCount)
        let object = result.jsonObject(modelPath: model, referencePath: reference)
        #expect(object["passed"] as? Bool == true && object["model"] as? String == model)
        #expect(object["layers"] == nil)
    }

    /// Another model's reference does not fit: the error names the model file.
    @Test func aReferenceOfAnotherShapeIsRefused() throws {
        let file = try ModelLoader.load(TestPaths.fixture("mnist_cnn.h5"))
        let ref = try ReferenceData.read(reference)
        if file.model.inputShape != ref.inputs.sampleShape {
            #expect { try ReferenceValidation(model: file.model, reference: ref, modelPath: "cnn.h5") } throws: { "\($0)".contains("cnn.h5") }
        }
    }

    @Test func perLayerNeedsLayerOutputs() throws {
        let file = try ModelLoader.load(model)
        let ref = try ReferenceData.read(reference)
        if ref.layerOutputs.isEmpty {
            #expect(throws: (any Error).self) { try ReferenceValidation(model: file.model, reference: ref, modelPath: model, perLayer: true) }
        } else {
            let result = try ReferenceValidation(model: file.model, reference: ref, modelPath: model, perLayer: true)
            #expect(result.layers?.firstDivergence == nil && result.passed)
            #expect(result.jsonObject(modelPath: model, referencePath: reference)["layers"] != nil)
        }
    }
}

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

/// `validate --layers` on a model whose layer names contain '/' (as tf-keras
/// names DenseNet's stem, "conv1/conv"), with each layer judged against its
/// own magnitude.
@Suite struct PerLayerVerdictTests {
    static func model() throws -> Sequential {
        let dense = Dense(name: "block1/dense", inputUnits: 4, units: 3)
        dense.kernel.value = randomTensor([4, 3], seed: 3)
        let scale = Rescaling(name: "block1/scale", scale: 1000, offset: 0)
        return try Sequential(name: "slashes", inputShape: [4], layers: [dense, scale])
    }

    /// A reference holding the model's own per-layer outputs, `error` added
    /// to every element of layer `altered`, written and read back.
    static func reference(_ model: Sequential, altering altered: String? = nil, by error: Float = 0) throws -> ReferenceData {
        let inputs = randomTensor([3, 4], seed: 4)
        var layers = Dictionary(model.layerOutputs(inputs: [inputs]).map { ($0.layer, $0.output) }, uniquingKeysWith: { a, _ in a })
        if let altered, var t = layers[altered] {
            for i in 0..<t.count { t.scalars[i] += error }
            layers[altered] = t
        }
        let path = TestPaths.temporaryDirectory("per-layer").appendingPathComponent("ref.h5").path
        try ReferenceData(path: path, inputs: inputs, outputs: try model.predict(inputs), labels: nil,
                          layerOutputs: layers).write(to: path)
        return try ReferenceData.read(path)
    }

    @Test func namesWithSlashesAreFound() throws {
        let model = try Self.model()
        let comparison = try LayerComparison(model: model, reference: try Self.reference(model))
        #expect(comparison.unchecked.isEmpty, "\(comparison.unchecked)")
        #expect(comparison.rows.count == 2 && comparison.firstDivergence == nil)
    }

    @Test func eachLayerIsJudgedAgainstItsOwnMagnitude() throws {
        let model = try Self.model()
        // Values around 1000: an error of 2e-3 is float32 rounding there (atol 1e-5 x 1000 = 1e-2)...
        let rounding = try LayerComparison(model: model, reference: try Self.reference(model, altering: "block1/scale", by: 2e-3))
        #expect(rounding.firstDivergence == nil)
        let row = try #require(rounding.rows.last)
        #expect(row.magnitude > 100 && row.tolerance == 1e-5 * row.magnitude)
        // ...an error of 0.5 is not, and the same 2e-3 on the small first layer is not either.
        let bug = try LayerComparison(model: model, reference: try Self.reference(model, altering: "block1/scale", by: 0.5))
        #expect(bug.firstDivergence?.layer == "block1/scale")
        let small = try LayerComparison(model: model, reference: try Self.reference(model, altering: "block1/dense", by: 2e-3))
        #expect(small.firstDivergence?.layer == "block1/dense")
    }
}

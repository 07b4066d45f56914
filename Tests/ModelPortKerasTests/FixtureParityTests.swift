import Foundation
import ModelPortKeras
import ModelPortRuntime
import ModelPortValidation
import Testing
import TestSupport

/// Every Keras-trained fixture, run by ModelPort, against Keras's own outputs
/// on the same inputs: every element within 1e-5, every predicted class equal.
struct FixtureParityTests {
    @Test func manifestListsBothKerasGenerations() {
        #expect(Fixture.all.count >= 8)
        #expect(Fixture.all.contains { $0.writer == "keras3" })
        #expect(Fixture.all.contains { $0.writer == "keras2" })
    }

    /// On every kernel family this CPU runs (ModelPort's AVX2 / AVX-512
    /// kernels and OpenBLAS: CPUKernels).
    @Test(arguments: Fixture.all, CPUKernels.supportedChoices)
    func matchesKerasElementwise(_ fixture: Fixture, _ choice: CPUKernels.Choice) throws {
        let file = try ModelLoader.load(fixture.modelPath)
        let reference = try ReferenceData.read(fixture.referencePath)
        #expect(reference.inputs.batchCount == 200)
        try CPUKernels.with(choice) {
            let outputs = try file.model.predict(reference.inputs)
            let result = try Comparison(actual: outputs, expected: reference.outputs, labels: reference.labels, atol: 1e-5)
            #expect(result.maxAbsoluteError <= 1e-5, "\(fixture), \(choice): max |Swift - Keras| = \(result.maxAbsoluteError)")
            #expect(result.elementsOutsideTolerance == 0)
            #expect(result.argmaxAgreements == result.samples)
            #expect(result.passed)
            // The same model one sample at a time (no batching effects).
            for s in [0, 57, 199] {
                let one = file.model.forward(reference.inputs.batch(s..<(s + 1)))
                #expect(maxAbsDifference(one, reference.outputs.batch(s..<(s + 1))) <= 1e-5)
            }
        }
    }

    @Test(arguments: Fixture.all)
    func readsMetadataAsWritten(_ fixture: Fixture) throws {
        let file = try ModelLoader.load(fixture.modelPath)
        #expect(file.format == .legacyH5)
        #expect(file.backend == "tensorflow")
        #expect(file.kerasGeneration == (fixture.writer == "keras3" ? "Keras 3" : "Keras 2"))
        #expect(file.model.inputShape.reduce(1, *) == 784)
        #expect(file.model.outputShape == [10])
        // Keras writes training_config only when it saves the optimizer too.
        #expect((file.trainingConfig?["loss"] != nil) == fixture.includesOptimizer)
    }
}

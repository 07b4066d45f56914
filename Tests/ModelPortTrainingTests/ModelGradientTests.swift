import Testing
import ModelPortRuntime
import TestSupport

/// Loss and every parameter gradient of whole models against TensorFlow's
/// `tf.GradientTape` on the same weights and batch (fixtures/training/*.gradients.h5).
@Suite struct ModelGradientTests {
    /// On every kernel family this CPU runs (training's products go through it).
    @Test(arguments: ["mnist_digit_model", "mnist_mlp", "mixed", "layers_cnn", "layers_activations", "layers_operations"], CPUKernels.supportedChoices)
    func gradientsMatchTensorFlow(name: String, choice: CPUKernels.Choice) throws {
        try CPUKernels.with(choice) { try gradients(name: name) }
    }

    func gradients(name: String) throws {
        let fixture = try TrainingFixture(name + ".gradients.h5")
        let model = try TrainingFixture.model(name)
        let lossName = try fixture.attribute("", "loss_name")
        let loss = try #require(Loss(kerasName: lossName))
        let x = try fixture.tensor("x")
        var y = try fixture.tensor("y")
        if case .sparseCategoricalCrossentropy = loss { y = y.reshaped([y.count]) }

        let graph = try TrainingGraph(model)
        let gradients = Gradients(parameters: graph.trainableParameters)
        gradients.zero()
        let trace = graph.forward([x], context: TrainingContext(training: true))
        let expectedOutputs = try fixture.tensor("outputs")
        #expect(maxAbsDifference(trace.outputs[0], expectedOutputs) < 2e-6)
        let logits = graph.logits(of: trace, output: 0, ifActivation: loss.logitActivations)
        let (lossSum, g) = loss.evaluate(output: trace.outputs[0], logits: logits, target: y, batchSize: x.batchCount)
        graph.backward(trace, outputGradients: [g], gradients: gradients)

        let expectedLoss = try fixture.tensor("loss").scalars[0]
        #expect(abs(Float(lossSum / Double(x.batchCount)) - expectedLoss) < 1e-5 * max(1, expectedLoss))
        var compared = 0
        for (key, parameter) in namedParameters(model) where parameter.trainable {
            let expected = try fixture.tensor("gradients/" + key)
            let actual = try #require(gradients[parameter])
            let error = scaledDifference(actual, expected)
            #expect(error < 1e-5, "gradient of \(key): scaled max difference \(error)")
            compared += 1
        }
        #expect(compared == graph.trainableParameters.count && compared > 0)
        // BatchNormalization's moving statistics after Keras's training-mode update.
        for (key, parameter) in namedParameters(model) where !parameter.trainable {
            let expected = try fixture.tensor("moving/" + key)
            #expect(maxAbsDifference(parameter.value, expected) < 1e-6, "\(key) after the update")
        }
    }
}

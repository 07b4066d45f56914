import Testing
import ModelPortHDF5
import ModelPortKeras
import ModelPortRuntime
import TestSupport

/// Optimizer state saved by Keras (fixtures/mnist_digit_model*.h5, Adam after
/// 4,690 steps) continues in Swift: the optimizer comes from the file's
/// training_config, its slots and step count from /optimizer_weights.
@Suite struct KerasOptimizerStateTests {
    @Test(arguments: ["mnist_digit_model.h5", "mnist_digit_model_keras2.h5"])
    func restoresEverySlotAndTheStepCount(name: String) throws {
        let path = TestPaths.fixture(name)
        let file = try ModelLoader.load(path)
        let optimizer = try KerasOptimizerState.optimizer(fromTrainingConfig: try #require(file.trainingConfig), file: path)
        #expect(optimizer.kerasClassName == "Adam")
        try KerasOptimizerState.restore(optimizer, model: file.model, fromH5: path)
        #expect(optimizer.iterations == 4690)
        // Spot-check a slot against the dataset Keras wrote.
        let h5 = try HDF5File(openingAt: path)
        let dataset = name.contains("keras2") ? "optimizer_weights/Adam/v/dense_1/bias:0"
                                              : "optimizer_weights/adam/mnist_digit_model_dense_1_bias_velocity"
        let expected = try h5.root.dataset(dataset).read(as: Float.self)
        let index = try #require(optimizer.parameters.firstIndex { $0 === file.model.layers.last!.parameters[1] })
        #expect(optimizer.slot(1, of: index).scalars == expected)
        #expect(expected.contains { $0 != 0 })
    }

    @Test func oneMoreStepMatchesKerasContinuing() throws {
        let path = TestPaths.fixture("mnist_digit_model.h5")
        let file = try ModelLoader.load(path)
        let optimizer = try KerasOptimizerState.optimizer(fromTrainingConfig: try #require(file.trainingConfig), file: path)
        try KerasOptimizerState.restore(optimizer, model: file.model, fromH5: path)
        let fixture = try TrainingFixture("continue.h5")
        let trainer = try Trainer(model: file.model, loss: .categoricalCrossentropy(), optimizer: optimizer, threads: 1)
        let x = try fixture.tensor("x"), y = try fixture.tensor("y")
        let result = trainer.trainStep(x, y)
        let expectedLoss = try fixture.tensor("loss").scalars[0]
        #expect(abs(Float(result.loss / 16) - expectedLoss) < 1e-5)
        #expect(optimizer.iterations == 4691)
        for (key, parameter) in namedParameters(file.model) {
            let d = maxAbsDifference(parameter.value, try fixture.tensor("after/" + key))
            #expect(d < 1e-6, "\(key) after one continued step: \(d)")
        }
    }

    @Test func aRestartedOptimizerWouldNotMatch() throws {
        // The same step from fresh Adam state moves the weights visibly
        // differently, so the test above can tell a restored state from a restart.
        let file = try ModelLoader.load(TestPaths.fixture("mnist_digit_model.h5"))
        let fixture = try TrainingFixture("continue.h5")
        let trainer = try Trainer(model: file.model, loss: .categoricalCrossentropy(), optimizer: .adam(), threads: 1)
        trainer.trainStep(try fixture.tensor("x"), try fixture.tensor("y"))
        let (key, parameter) = namedParameters(file.model)[0]
        #expect(maxAbsDifference(parameter.value, try fixture.tensor("after/" + key)) > 1e-4)
    }

    @Test func trainingConfigRoundTripsThroughTheParser() throws {
        let adam = Optimizer.adam(learningRate: .exponentialDecay(initial: 0.01, decaySteps: 100, decayRate: 0.9), amsgrad: true, clipnorm: 1)
        let config = KerasOptimizerState.trainingConfig(optimizer: adam, loss: .sparseCategoricalCrossentropy())
        #expect(config["loss"]?.string == "sparse_categorical_crossentropy")
        let back = try KerasOptimizerState.optimizer(fromTrainingConfig: config, file: "test")
        #expect(back.learningRate == adam.learningRate && back.clipnorm == 1 && back.rule.slotNames.count == 3)
        let keras2 = KerasOptimizerState.trainingConfig(optimizer: .sgd(momentum: 0.9), loss: .meanSquaredError, keras3: false)
        #expect(keras2["optimizer_config"]?["class_name"]?.string == "Custom>SGD")
        #expect(throws: KerasImportError.self) {
            try KerasOptimizerState.optimizer(fromTrainingConfig: .object(["optimizer_config": .object(["class_name": .string("Nadam")])]), file: "x.h5")
        }
    }

    @Test func swiftSavedStateRoundTripsThroughAKerasFile() throws {
        // Train a step, save with the Keras writer, restore into a fresh optimizer.
        let path = TestPaths.fixture("mnist_digit_model.h5")
        let file = try ModelLoader.load(path)
        let optimizer = Optimizer.adam(amsgrad: true)
        let trainer = try Trainer(model: file.model, loss: .categoricalCrossentropy(), optimizer: optimizer, threads: 1)
        let fixture = try TrainingFixture("continue.h5")
        trainer.trainStep(try fixture.tensor("x"), try fixture.tensor("y"))
        let weights = KerasOptimizerState.kerasWeights(of: optimizer, model: file.model)
        #expect(weights.map(\.name).prefix(4) == ["adam/iteration", "adam/learning_rate",
                                                  "adam/mnist_digit_model_conv2d_kernel_momentum", "adam/mnist_digit_model_conv2d_kernel_velocity"])
        #expect(weights.count == 2 + 3 * optimizer.parameters.count)
        let out = TestPaths.temporaryDirectory("optimizer-state").appendingPathComponent("saved.h5").path
        try KerasWriter.write(file.model, to: out, options: KerasSaveOptions(
            trainingConfig: KerasOptimizerState.trainingConfig(optimizer: optimizer, loss: .categoricalCrossentropy()),
            optimizerWeights: weights))
        let reloaded = try ModelLoader.load(out)
        let back = try KerasOptimizerState.optimizer(fromTrainingConfig: try #require(reloaded.trainingConfig), file: out)
        try KerasOptimizerState.restore(back, model: reloaded.model, fromH5: out)
        #expect(back.iterations == 1 && back.rule.slotNames == optimizer.rule.slotNames)
        for p in 0..<optimizer.parameters.count {
            for s in 0..<3 { #expect(back.slot(s, of: p) == optimizer.slot(s, of: p)) }
        }
    }
}

/// A `.keras` archive saved compiled by Keras 3 (fixtures/training/
/// continue_keras.keras: Adam with amsgrad after 2 steps) continues in
/// Swift from `model.weights.h5`'s `optimizer/vars/<i>`, matching Keras's
/// own continued step (continue_keras.h5).
@Suite struct KerasArchiveOptimizerStateTests {
    let path = TestPaths.fixture("training/continue_keras.keras")

    @Test func oneMoreStepMatchesKerasContinuingItsArchive() throws {
        let file = try ModelLoader.load(path)
        let optimizer = try KerasOptimizerState.optimizer(fromTrainingConfig: try #require(file.trainingConfig), file: path)
        #expect(optimizer.kerasClassName == "Adam" && optimizer.rule.slotNames.count == 3)
        #expect(optimizer.currentLearningRate == 0.002)
        try KerasOptimizerState.restore(optimizer, model: file.model, fromKerasArchive: path)
        let fixture = try TrainingFixture("continue_keras.h5")
        #expect(optimizer.iterations == 2)
        #expect((0..<3).allSatisfy { s in optimizer.slot(s, of: 0).scalars.contains { $0 != 0 } })
        let trainer = try Trainer(model: file.model, loss: .categoricalCrossentropy(), optimizer: optimizer, threads: 1)
        let result = trainer.trainStep(try fixture.tensor("x"), try fixture.tensor("y"))
        #expect(abs(Float(result.loss / 16) - (try fixture.tensor("loss").scalars[0])) < 1e-5)
        #expect(optimizer.iterations == 3)
        for (key, parameter) in namedParameters(file.model) {
            let d = maxAbsDifference(parameter.value, try fixture.tensor("after/" + key))
            #expect(d < 1e-6, "\(key) after one continued step: \(d)")
        }
    }

    @Test func aRestartedOptimizerWouldNotMatch() throws {
        let file = try ModelLoader.load(path)
        let fixture = try TrainingFixture("continue_keras.h5")
        let trainer = try Trainer(model: file.model, loss: .categoricalCrossentropy(),
                                  optimizer: .adam(learningRate: .constant(0.002), amsgrad: true), threads: 1)
        trainer.trainStep(try fixture.tensor("x"), try fixture.tensor("y"))
        let (key, parameter) = namedParameters(file.model)[0]
        #expect(maxAbsDifference(parameter.value, try fixture.tensor("after/" + key)) > 1e-5)
    }

    @Test func anArchiveWithoutOptimizerStateIsNamed() throws {
        // Saved by ModelPort's writer without a training config: no optimizer/vars.
        let file = try ModelLoader.load(path)
        let out = TestPaths.temporaryDirectory("archive-state").appendingPathComponent("bare.keras").path
        try KerasWriter.write(file.model, to: out, options: KerasSaveOptions())
        #expect {
            try KerasOptimizerState.restore(.adam(), model: file.model, fromKerasArchive: out)
        } throws: { error in
            (error as? KerasImportError).map { "\($0)".contains("bare.keras") && "\($0)".contains("no optimizer/vars") } ?? false
        }
    }

    @Test func aSwiftWrittenArchiveRoundTripsItsState() throws {
        let file = try ModelLoader.load(path)
        let optimizer = try KerasOptimizerState.optimizer(fromTrainingConfig: try #require(file.trainingConfig), file: path)
        try KerasOptimizerState.restore(optimizer, model: file.model, fromKerasArchive: path)
        let out = TestPaths.temporaryDirectory("archive-state").appendingPathComponent("saved.keras").path
        try KerasWriter.write(file.model, to: out, options: KerasSaveOptions(
            trainingConfig: KerasOptimizerState.trainingConfig(optimizer: optimizer, loss: .categoricalCrossentropy()),
            optimizerWeights: KerasOptimizerState.kerasWeights(of: optimizer, model: file.model)))
        let reloaded = try ModelLoader.load(out)
        let back = try KerasOptimizerState.optimizer(fromTrainingConfig: try #require(reloaded.trainingConfig), file: out)
        try KerasOptimizerState.restore(back, model: reloaded.model, fromKerasArchive: out)
        #expect(back.iterations == 2 && back.kerasClassName == "Adam" && back.rule.slotNames.count == 3)
        for p in 0..<optimizer.parameters.count {
            for s in 0..<3 { #expect(back.slot(s, of: p) == optimizer.slot(s, of: p)) }
        }
    }
}

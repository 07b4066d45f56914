import Foundation
import Testing
import ModelPortFormats
import ModelPortKeras
import ModelPortRuntime
import TestSupport

/// Saving a trained model by the output's extension (`train --out`): every
/// format reads back computing the same, and the Keras files carry the
/// optimizer so fine-tuning continues it.
@Suite struct TrainedModelWriterTests {
    /// A model trained one step, so its optimizer has state to save.
    func trained() throws -> (model: any Model, optimizer: Optimizer) {
        let model = try ModelLoader.load(TestPaths.fixture("mnist_mlp.h5")).model
        let optimizer = OptimizerKind.adam.makeOptimizer()
        let trainer = try Trainer(model: model, loss: .sparseCategoricalCrossentropy(), optimizer: optimizer, threads: 1)
        let x = ModelConversion.generatedInputs([8] + model.inputShape, seed: 1)
        let y = Tensor(shape: [8], scalars: (0..<8).map { Float($0 % 10) })
        trainer.trainStep(x, y)
        return (model, optimizer)
    }

    @Test(arguments: ["m.h5", "m.keras", "m.onnx", "m.weights.h5", "M.ONNX"])
    func writesTheFormatItsExtensionNames(name: String) throws {
        let (model, optimizer) = try trained()
        let path = TestPaths.temporaryDirectory("trained").appendingPathComponent(name).path
        try TrainedModelWriter.write(model, optimizer: optimizer, loss: .sparseCategoricalCrossentropy(), to: path)
        let x = ModelConversion.generatedInputs([4] + model.inputShape, seed: 2)
        let back: any Model
        if name.hasSuffix(".weights.h5") {
            let source = AnyModelFile(keras: try ModelLoader.load(TestPaths.fixture("mnist_mlp.h5")))
            back = try ModelConversion.readBack(path, source: source)
        } else {
            let file = try AnyModelFile.loadTrusted(path)
            #expect((file.onnx != nil) == name.lowercased().hasSuffix(".onnx"))
            back = file.model
        }
        let difference = maxAbsDifference(try back.predict(x), try model.predict(x))
        #expect(difference < 1e-5, "\(name): \(difference)")
    }

    @Test(arguments: [("m.h5", KerasGeneration.keras3), ("m2.h5", .keras2), ("m.keras", .keras3)])
    func kerasFilesContinueTheirOptimizer(name: String, generation: KerasGeneration) throws {
        let (model, optimizer) = try trained()
        let path = TestPaths.temporaryDirectory("trained").appendingPathComponent(name).path
        try TrainedModelWriter.write(model, optimizer: optimizer, loss: .sparseCategoricalCrossentropy(), to: path, generation: generation)
        let file = try ModelLoader.load(path)
        #expect(file.trainingConfig?["loss"]?.string == Loss.sparseCategoricalCrossentropy().kerasName)
        guard case .continued(let resumed) = try KerasOptimizerResumption.read(file, model: file.model) else {
            Issue.record("\(name): the optimizer state did not come back")
            return
        }
        #expect(resumed.iterations == optimizer.iterations && resumed.kerasClassName == optimizer.kerasClassName)
    }

    @Test func anUnknownExtensionIsNamed() throws {
        let (model, optimizer) = try trained()
        let path = TestPaths.temporaryDirectory("trained").appendingPathComponent("m.pt").path
        #expect {
            try TrainedModelWriter.write(model, optimizer: optimizer, loss: .categoricalCrossentropy(), to: path)
        } throws: { error in
            "\(error)".contains("m.pt") && "\(error)".contains(".onnx")
        }
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test func targetsFollowTheExtension() {
        #expect(ModelConversion.Target(path: "a/b.onnx") == .onnx)
        #expect(ModelConversion.Target(path: "b.h5") == .keras(.legacyH5))
        #expect(ModelConversion.Target(path: "b.keras") == .keras(.archive))
        #expect(ModelConversion.Target(path: "b.weights.h5") == .keras(.weights))
        #expect(ModelConversion.Target(path: "b.json") == nil)
    }
}

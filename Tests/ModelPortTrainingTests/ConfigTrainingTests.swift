import Foundation
import Testing
@testable import ModelPortData
import ModelPortHDF5
import ModelPortKeras
import ModelPortRuntime
import TestSupport

/// Training a model from its Keras config alone: `ModelLoader.model(fromConfig:)`
/// and `modelport train --config`.
@Suite struct ConfigTrainingTests {
    /// The `model_config` attribute Keras wrote into fixtures/training/tiny_cnn.h5.
    func tinyConfig() throws -> String {
        try HDF5File(openingAt: TestPaths.fixture("training/tiny_cnn.h5")).root.readStringAttribute("model_config")
    }

    @Test func buildsTheArchitectureWithKerasDefaultInitialisation() throws {
        let keras = try TrainingFixture.model("tiny_cnn")
        let model = try ModelLoader.model(fromConfig: try tinyConfig(), file: "tiny_cnn model_config")
        #expect(model.layers.map(\.name) == keras.layers.map(\.name))
        #expect(model.outputShape == keras.outputShape && model.parameterCount == keras.parameterCount)
        Initializers.initialize(model, seed: 4)
        for (key, parameter) in namedParameters(model) {
            if parameter.name == "kernel" {
                // glorot_uniform: U(-limit, limit) with limit = sqrt(6 / (fan_in + fan_out)).
                let s = parameter.shape
                let receptive = s.dropLast(2).reduce(1, *)
                let limit = (6 / Float((s[s.count - 2] + s[s.count - 1]) * receptive)).squareRoot()
                #expect(parameter.value.scalars.allSatisfy { abs($0) <= limit }, "\(key)")
                #expect(parameter.value.scalars.map(abs).max()! > 0.8 * limit, "\(key)")
            } else {
                #expect(parameter.value.scalars.allSatisfy { $0 == 0 }, "\(key)")
            }
        }
        #expect(throws: KerasImportError.self) { try ModelLoader.model(fromConfig: "{\"class_name\": \"Sequential\"", file: "broken.json") }
    }

    /// The first `train`/`test` MNIST images and labels as uncompressed IDX
    /// files in `dir`, so an end-to-end run (training and the test-set
    /// evaluation) takes seconds.
    func smallMNIST(in dir: URL, train: Int, test: Int) throws -> String {
        let data = dir.appendingPathComponent("mnist")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        for (stem, count) in [("train", train), ("t10k", test)] {
            for (kind, header, per) in [("images-idx3-ubyte", 16, 784), ("labels-idx1-ubyte", 8, 1)] {
                // Only the prefix needed is decompressed: the whole file takes long in a debug build.
                let path = TestPaths.mnistDirectory.appendingPathComponent("\(stem)-\(kind).gz").path
                var bytes = [UInt8](try Gzip.decompress(try Data(contentsOf: URL(fileURLWithPath: path)),
                                                        limit: header + count * per, atLimit: .stop, path: path))
                let n = UInt32(count)
                bytes.replaceSubrange(4..<8, with: [UInt8(n >> 24), UInt8((n >> 16) & 0xff), UInt8((n >> 8) & 0xff), UInt8(n & 0xff)])
                try Data(bytes).write(to: data.appendingPathComponent("\(stem)-\(kind)"))
            }
        }
        return data.path
    }

    @Test func trainCommandTrainsAConfigFromScratch() throws {
        let dir = TestPaths.temporaryDirectory("train-config")
        let mnist = try smallMNIST(in: dir, train: 1024, test: 200)
        let config = dir.appendingPathComponent("model_config.json").path
        try tinyConfig().write(toFile: config, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("trained.h5").path
        let results = dir.appendingPathComponent("results.json").path
        func train(_ extra: [String]) throws -> CommandResult {
            try TestPaths.runModelPort(["train", "--config", config, "--data", mnist,
                                        "--epochs", "1", "--batch-size", "64", "--seed", "3", "--threads", "1"] + extra)
        }
        let r = try train(["--out", out, "--results", results])
        #expect(r.status == 0, "\(r.stdout)\n\(r.stderr)")
        #expect(r.stdout.contains("Training tiny_cnn"))
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: results))) as? [String: Any])
        let accuracy = try #require(summary["test_accuracy"] as? Double)
        #expect(accuracy > 0.25, "16 steps of Adam on 1,024 images beat chance (0.1) clearly: \(accuracy)")
        // The saved model is the config's architecture with freshly trained weights.
        let trained = try ModelLoader.load(out).model
        let keras = try TrainingFixture.model("tiny_cnn")
        #expect(trained.layers.map(\.name) == keras.layers.map(\.name))
        #expect(maxAbsDifference(trained.layers[0].parameters[0].value, keras.layers[0].parameters[0].value) > 1e-3)
        // Same seed, same weights; a config that cannot be built names the file.
        let again = try train(["--out", dir.appendingPathComponent("again.h5").path])
        #expect(again.status == 0)
        let twice = try ModelLoader.load(dir.appendingPathComponent("again.h5").path).model
        for (a, b) in zip(trained.layers.flatMap(\.parameters), twice.layers.flatMap(\.parameters)) { #expect(a.value == b.value) }
        let bad = dir.appendingPathComponent("bad.json").path
        try "{\"class_name\": \"Sequential\", \"config\": {\"layers\": [{\"class_name\": \"FancyLayer\", \"config\": {\"name\": \"fancy\"}}]}}"
            .write(toFile: bad, atomically: true, encoding: .utf8)
        let failed = try TestPaths.runModelPort(["train", "--config", bad, "--data", mnist, "--epochs", "1"])
        #expect(failed.status == 2 && failed.stderr.contains("bad.json") && failed.stderr.contains("FancyLayer"), "\(failed.stderr)")
    }

    @Test func trainCommandContinuesAKerasArchivesOptimizer() throws {
        let dir = TestPaths.temporaryDirectory("train-archive")
        let mnist = try smallMNIST(in: dir, train: 256, test: 64)
        let out = dir.appendingPathComponent("continued.keras").path
        let r = try TestPaths.runModelPort(["train", TestPaths.fixture("training/continue_keras.keras"), "--data", mnist,
                                            "--epochs", "1", "--batch-size", "64", "--threads", "1", "--out", out])
        #expect(r.status == 0, "\(r.stdout)\n\(r.stderr)")
        #expect(r.stdout.contains("Continuing Adam from step 2"), "\(r.stdout)")
        // 2 steps from Keras + 4 here, saved back in the archive.
        let file = try ModelLoader.load(out)
        let optimizer = try KerasOptimizerState.optimizer(fromTrainingConfig: try #require(file.trainingConfig), file: out)
        try KerasOptimizerState.restore(optimizer, model: file.model, fromKerasArchive: out)
        #expect(optimizer.iterations == 6 && optimizer.rule.slotNames.count == 3)
    }
}

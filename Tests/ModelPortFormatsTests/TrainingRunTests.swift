import Foundation
import ModelPortData
import ModelPortFormats
import ModelPortKeras
import ModelPortRuntime
import Testing
import TestSupport

/// `TrainingRun`, the library behind `modelport train`: one call trains and
/// writes the model, history, summary and report it is asked for.
@Suite struct TrainingRunTests {
    func run(_ source: TrainingRun.Source, in dir: URL) -> TrainingRun {
        var run = TrainingRun(source: source, dataset: .mnist, dataDirectory: TestPaths.mnistDirectory.path, threads: 1)
        (run.epochs, run.batchSize, run.limit, run.validationSplit) = (1, 64, 640, 0.25)
        run.modelPath = dir.appendingPathComponent("mlp.h5").path
        run.resultsPath = dir.appendingPathComponent("results.json").path
        run.log = { _ in }
        return run
    }

    @Test func trainsAndWritesWhatItIsAskedFor() throws {
        let dir = TestPaths.temporaryDirectory("training-run")
        let arch = try #require(TutorialArchitecture.named("mnist_mlp"))
        let outcome = try run(.architecture(arch), in: dir).run()
        #expect(outcome.history.keys == ["loss", "accuracy", "val_loss", "val_accuracy"])
        #expect(!outcome.interrupted)
        // The history beside the model, the summary, and a model that reads back with its optimizer.
        for name in ["mlp.history.json", "mlp.history.csv", "results.json"] {
            #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent(name).path), "\(name)")
        }
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("results.json")))
            as? [String: Any])
        #expect(summary["train_samples"] as? Int == 640 && summary["test_accuracy"] is Double)
        let saved = try ModelLoader.load(dir.appendingPathComponent("mlp.h5").path)
        #expect(saved.trainingConfig?["optimizer_config"]?["class_name"]?.string == "Adam")

        // Fine-tuning that file continues its Adam from where it stopped.
        var lines: [String] = []
        let box = LogBox()
        var again = run(.file(try AnyModelFile.load(dir.appendingPathComponent("mlp.h5").path)), in: TestPaths.temporaryDirectory("again"))
        again.log = { box.append($0) }
        _ = try again.run()
        lines = box.lines
        #expect(lines.contains { $0.hasPrefix("Continuing Adam from step 8 ") }, "\(lines)")
    }

    @Test func missingDataIsAClearError() throws {
        let arch = try #require(TutorialArchitecture.named("mnist_mlp"))
        var run = run(.architecture(arch), in: TestPaths.temporaryDirectory("no-data"))
        run.dataDirectory = TestPaths.temporaryDirectory("empty").path
        #expect(throws: (any Error).self) { try run.run() }
    }
}

/// Lines logged by a run (its closure is @Sendable).
private final class LogBox: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [String] = []
    func append(_ line: String) { lock.lock(); stored.append(line); lock.unlock() }
    var lines: [String] { lock.lock(); defer { lock.unlock() }; return stored }
}

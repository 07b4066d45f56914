import Foundation
import Testing
@testable import ModelPortRuntime
import TestSupport

/// `Trainer.fit` behaves like Keras's `fit`: validation split from the end,
/// per-epoch history, callbacks, and stopping from outside.
@Suite struct FitTests {
    /// A tiny MLP and separable data: class = which half of the features is larger.
    func setUp(seed: UInt64 = 3) throws -> (Trainer, Tensor, Tensor) {
        let model = try Sequential(name: "fit", inputShape: [6], layers: [
            Dense(name: "hidden", inputUnits: 6, units: 8, activation: .relu),
            Dense(name: "out", inputUnits: 8, units: 2, activation: .softmax),
        ])
        Initializers.initialize(model, seed: seed)
        let x = randomTensor([60, 6], seed: 2)
        let labels = (0..<60).map { i -> Float in
            let s = x.sample(i)
            return s.prefix(3).reduce(0, +) > s.suffix(3).reduce(0, +) ? 1 : 0
        }
        let trainer = try Trainer(model: model, loss: .sparseCategoricalCrossentropy(), optimizer: .adam(learningRate: .constant(0.01)))
        return (trainer, x, Tensor(shape: [60], scalars: labels))
    }

    @Test func historyHasKerasKeysAndValidationComesFromTheEnd() throws {
        let (trainer, x, y) = try setUp()
        let history = try trainer.fit(x: x, y: y, options: FitOptions(epochs: 3, batchSize: 10, validationSplit: 0.25))
        #expect(history.keys == ["loss", "accuracy", "val_loss", "val_accuracy"])
        #expect(history.values["loss"]!.count == 3 && history.epochs == [0, 1, 2])
        #expect(history.values["loss"]!.last! < history.values["loss"]!.first!)
        // val_* are evaluate() on the last 15 samples (floor(60 * 0.75) = 45 train).
        let expected = trainer.evaluate(x: x, y: y, range: 45..<60, batchSize: 10)
        #expect(abs(history.values["val_loss"]!.last! - expected.loss) < 1e-12)
        #expect(abs(history.values["val_accuracy"]!.last! - expected.accuracy) < 1e-12)
        #expect(history.csvText.hasPrefix("epoch,loss,accuracy,val_loss,val_accuracy\n0,"))
        #expect(history.jsonText.contains("\"val_accuracy\""))
    }

    /// A run whose loss diverged still writes its history: NaN as null.
    @Test func divergedHistoryIsValidJSON() throws {
        var history = History()
        history.append(epoch: 0, logs: EpochLogs([("loss", 0.5)]))
        history.append(epoch: 1, logs: EpochLogs([("loss", .nan)]))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(history.jsonText.utf8)) as? [String: Any])
        let loss = try #require(object["loss"] as? [Any])
        #expect(loss.count == 2 && (loss[0] as? Double) == 0.5 && loss[1] is NSNull)
    }

    @Test func badDataIsAClearError() throws {
        let (trainer, x, _) = try setUp()
        #expect(throws: RuntimeError.self) { try trainer.fit(x: x, y: Tensor(zeros: [59])) }
        #expect(throws: RuntimeError.self) { try trainer.fit(x: x, y: Tensor(shape: [60], scalars: .init(repeating: 7, count: 60))) }
        #expect(throws: RuntimeError.self) { try trainer.fit(x: Tensor(zeros: [60, 5]), y: Tensor(zeros: [60])) }
    }

    @Test func earlyStoppingRestoresTheBestWeights() throws {
        let (trainer, x, y) = try setUp()
        // A huge learning rate makes the loss diverge after the first epochs.
        trainer.optimizer = .sgd(learningRate: .constant(5))
        final class Recorder: TrainingCallback {
            var weights: [[Tensor]] = []
            func epochEnd(_ epoch: Int, logs: inout EpochLogs, trainer: Trainer) throws {
                weights.append(trainer.model.layers.flatMap(\.parameters).map(\.value))
            }
        }
        let recorder = Recorder()
        let stopper = EarlyStopping(monitor: "loss", patience: 1, restoreBestWeights: true)
        let history = try trainer.fit(x: x, y: y, options: FitOptions(epochs: 30, batchSize: 10),
                                      callbacks: [recorder, stopper])
        let losses = history.values["loss"]!
        let best = losses.indices.min { losses[$0] < losses[$1] }!
        #expect(losses.count < 30, "training should have stopped early")
        #expect(stopper.bestEpoch == best)
        #expect(trainer.model.layers.flatMap(\.parameters).map(\.value) == recorder.weights[best])
    }

    @Test func reduceLROnPlateauCutsTheRate() throws {
        let (trainer, x, y) = try setUp()
        let reducer = ReduceLROnPlateau(monitor: "loss", factor: 0.5, patience: 0, minDelta: 10)  // never "improves"
        let history = try trainer.fit(x: x, y: y, options: FitOptions(epochs: 3, batchSize: 20), callbacks: [reducer])
        // Logged at each epoch end before that epoch's reduction, as Keras logs it.
        #expect(history.values["learning_rate"]! == [0.01, 0.01, 0.005].map { Double(Float($0)) })
        #expect(trainer.optimizer.currentLearningRate == 0.0025)
    }

    /// The checkpoint names each epoch's file; writing it (atomically, with
    /// ModelPortFiles' AtomicFile in the command line) is the saver's job.
    @Test func checkpointsAreWrittenEveryEpoch() throws {
        let (trainer, x, y) = try setUp()
        let dir = TestPaths.temporaryDirectory("checkpoint")
        var saved: [String] = []
        let checkpoint = ModelCheckpoint(path: dir.appendingPathComponent("model-{epoch}.txt").path, monitor: "loss") { path in
            saved.append(URL(fileURLWithPath: path).lastPathComponent)
            try Data("weights".utf8).write(to: URL(fileURLWithPath: path))
        }
        _ = try trainer.fit(x: x, y: y, options: FitOptions(epochs: 2, batchSize: 30), callbacks: [checkpoint])
        #expect(checkpoint.written.map { URL(fileURLWithPath: $0).lastPathComponent } == ["model-1.txt", "model-2.txt"])
        #expect(saved == ["model-1.txt", "model-2.txt"])
        let left = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        #expect(left == ["model-1.txt", "model-2.txt"])
    }

    @Test func stopRequestEndsAfterTheCurrentBatchAndCheckpoints() throws {
        let (trainer, x, y) = try setUp()
        final class StopAfter: TrainingCallback {
            var batches = 0
            func batchEnd(_ batch: Int, of batches: Int, logs: EpochLogs, trainer: Trainer) throws {
                self.batches += 1
                if self.batches == 3 { trainer.stopRequest.request() }
            }
        }
        let counter = StopAfter()
        let dir = TestPaths.temporaryDirectory("interrupt")
        let checkpoint = ModelCheckpoint(path: dir.appendingPathComponent("last.txt").path, monitor: "loss") { path in
            try Data("w".utf8).write(to: URL(fileURLWithPath: path))
        }
        let history = try trainer.fit(x: x, y: y, options: FitOptions(epochs: 5, batchSize: 10),
                                      callbacks: [counter, checkpoint])
        #expect(history.interrupted)
        #expect(counter.batches == 3)
        #expect(history.epochs.isEmpty)
        #expect(trainer.optimizer.iterations == 3)
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("last.txt").path))
    }

    @Test func progressLoggerPlainLinesWithoutATerminal() throws {
        let (trainer, x, y) = try setUp()
        nonisolated(unsafe) var text = ""
        let logger = ProgressLogger(epochs: 2, interactive: false) { text += $0 }
        _ = try trainer.fit(x: x, y: y, options: FitOptions(epochs: 2, batchSize: 20, validationSplit: 0.5), callbacks: [logger])
        let lines = text.split(separator: "\n")
        #expect(lines.count == 4)
        #expect(lines[0] == "Epoch 1/2")
        #expect(lines[1].hasPrefix("2/2 - ") && lines[1].contains("loss: ") && lines[1].contains("val_accuracy: "))
        let bar = ProgressLogger(epochs: 1, interactive: true) { text += $0 }
        text = ""
        _ = try trainer.fit(x: x, y: y, options: FitOptions(epochs: 1, batchSize: 20), callbacks: [bar])
        #expect(text.contains("3/3 [==============================]"))
    }
}

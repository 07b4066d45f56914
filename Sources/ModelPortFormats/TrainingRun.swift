import Foundation
import ModelPortData
import ModelPortFiles
import ModelPortKeras
import ModelPortReports
import ModelPortRuntime
import ModelPortValidation

/// `modelport train` as a library call: builds or loads the model (continuing
/// a saved Keras optimizer), loads the data, fits with Keras's semantics and
/// writes every output asked for (model checkpoint, history JSON and CSV,
/// results summary, HTML report) — each atomically.
public struct TrainingRun {
    /// Where the model comes from.
    public enum Source {
        /// A built-in MNIST tutorial architecture, freshly initialised.
        case architecture(TutorialArchitecture)
        /// A Keras model config (`model.to_json()`), freshly initialised.
        case config(path: String)
        /// A saved model to fine-tune (its optimizer continued when it has one).
        case file(AnyModelFile)
    }

    public var source: Source
    /// The dataset, and the directory holding at least its training part.
    public var dataset: DatasetDescriptor
    public var dataDirectory: String
    /// nil: the architecture's tutorial setting, else Keras's default.
    public var epochs: Int?
    public var batchSize: Int?
    public var validationSplit: Double?
    public var loss: Loss?
    /// nil: the saved model's optimizer, else Adam.
    public var optimizer: OptimizerKind?
    public var learningRate: Float?
    public var seed: UInt64 = 1
    public var threads: Int
    /// Train on only the first `limit` images.
    public var limit: Int?
    /// Stop after this many epochs without improvement, restoring the best weights.
    public var earlyStoppingPatience: Int?
    /// Outputs: the model (checkpointed every epoch; .h5, .keras or .onnx), the
    /// history (default: beside `modelPath`), a JSON summary, a report directory.
    public var modelPath: String?
    public var kerasGeneration: KerasGeneration = .keras3
    public var historyPath: String?
    public var resultsPath: String?
    public var reportDirectory: String?
    /// Progress and summary lines, in order.
    public var log: @Sendable (String) -> Void = { print($0) }

    public init(source: Source, dataset: DatasetDescriptor, dataDirectory: String, threads: Int) {
        self.source = source
        self.dataset = dataset
        self.dataDirectory = dataDirectory
        self.threads = threads
    }

    /// What a run produced.
    public struct Outcome {
        public let history: History
        /// The `--results` summary (also when no path was given).
        public let summary: [String: Any]
        public var interrupted: Bool { history.interrupted }
    }

    /// Trains. `prepared` is called with the trainer before the first epoch
    /// (the command line hooks Ctrl-C to its `stopRequest` there).
    /// - Throws: data, model, memory or file errors, naming the file.
    public func run(prepared: (Trainer) -> Void = { _ in }) throws -> Outcome {
        let started = Date()
        let (net, defaults, savedOptimizer, name) = try model()
        let lossFunction = loss ?? defaults.loss
        // A saved optimizer is only continued when none was asked for.
        let optimizer = savedOptimizer ?? (self.optimizer ?? .adam).makeOptimizer(learningRate: learningRate.map { .constant($0) })
        let trainer = try Trainer(model: net, loss: lossFunction, optimizer: optimizer, threads: threads)

        let (x, y) = try data(.train, model: net, loss: lossFunction, limit: limit)
        let test = dataset.has(.test, in: dataDirectory) ? try? data(.test, model: net, loss: lossFunction, limit: nil) : nil

        var options = FitOptions()
        options.epochs = epochs ?? defaults.epochs
        options.batchSize = batchSize ?? defaults.batchSize
        options.validationSplit = validationSplit ?? defaults.validationSplit
        options.seed = seed
        try MemoryBudget.checkTraining(net, batchSize: options.batchSize, threads: trainer.threads, pieceSize: trainer.pieceSize,
                                       wholeBatch: trainer.graph.needsWholeBatch, file: name)
        log("Training \(net.name) (\(grouped(net.parameterCount)) parameters) on \(grouped(x.batchCount)) images from \(dataDirectory): "
            + "\(options.epochs) epochs, batch \(options.batchSize), \(optimizer.kerasClassName) lr \(optimizer.currentLearningRate), "
            + "\(lossFunction.kerasName), validation split \(options.validationSplit), seed \(seed), \(trainer.threads) threads")

        let epochTimer = EpochTimer()
        var callbacks: [any TrainingCallback] = [ProgressLogger(epochs: options.epochs), epochTimer]
        if let patience = earlyStoppingPatience {
            callbacks.append(EarlyStopping(monitor: options.validationSplit > 0 ? "val_loss" : "loss", patience: patience, restoreBestWeights: true))
        }
        if let modelPath {
            let generation = kerasGeneration
            callbacks.append(ModelCheckpoint(path: modelPath, monitor: "loss") { path in
                try TrainedModelWriter.write(net, optimizer: optimizer, loss: lossFunction, to: path, generation: generation)
            })
        }
        prepared(trainer)
        let history = try trainer.fit(x: x, y: y, options: options, callbacks: callbacks)

        let series = Dictionary(uniqueKeysWithValues: history.keys.map { ($0, history.values[$0]!) })
        var summary: [String: Any] = [
            "model": net.name, "seed": seed, "threads": trainer.threads, "epochs": options.epochs,
            "batch_size": options.batchSize, "optimizer": optimizer.kerasClassName, "loss": lossFunction.kerasName,
            "validation_split": options.validationSplit, "train_samples": x.batchCount, "interrupted": history.interrupted,
        ]
        if let test {
            let result = trainer.evaluate(x: test.x, y: test.y, batchSize: 32)
            log(String(format: "Test loss %.4f, test accuracy %.4f (%@ images)", result.loss, result.accuracy, grouped(test.x.batchCount)))
            summary["test_loss"] = result.loss
            summary["test_accuracy"] = result.accuracy
        }
        summary["seconds"] = Date().timeIntervalSince(started)
        summary["epoch_seconds"] = epochTimer.seconds
        summary["history"] = series

        if let historyFile = historyPath ?? modelPath.map({ URL(fileURLWithPath: $0).deletingPathExtension().path + ".history.json" }) {
            try AtomicFile.write(Data(history.jsonText.utf8), to: historyFile)
            let csv = URL(fileURLWithPath: historyFile).deletingPathExtension().path + ".csv"
            try AtomicFile.write(Data(history.csvText.utf8), to: csv)
            log("History: \(historyFile), \(csv)")
        }
        if let reportDirectory, !series.isEmpty, series.values.allSatisfy({ !$0.isEmpty }) {
            // With the test set at hand, the report also evaluates the trained model on it.
            var evaluation: Evaluation? = nil
            if let test {
                try MemoryBudget.checkInference(net, batch: test.x.batchCount, file: name)
                let probabilities = try net.predict(test.x)
                let labels = test.y.sampleCount > 1 ? argmaxPerSample(test.y) : test.y.scalars.map { Int($0) }
                evaluation = try Evaluation(probabilities: probabilities, labels: labels,
                                            classNames: (0..<probabilities.sampleCount).map(String.init), inputs: test.x)
            }
            let files = try ReportWriter(title: "Training \(net.name)", details: [("Optimizer", optimizer.kerasClassName), ("Seed", String(seed))])
                .write(evaluation: evaluation, history: series, to: URL(fileURLWithPath: reportDirectory))
            log("Report: \(files[0].path)")
        }
        if let resultsPath {
            let data = try JSONSerialization.data(withJSONObject: summary, options: [.prettyPrinted, .sortedKeys])
            try AtomicFile.write(data + Data("\n".utf8), to: resultsPath)
        }
        if let modelPath { log("Saved \(modelPath)") }
        return Outcome(history: history, summary: summary)
    }

    /// The model, its training defaults, the optimizer to continue (if any)
    /// and how to name it in messages.
    private func model() throws -> (any Model, (loss: Loss, epochs: Int, batchSize: Int, validationSplit: Double), Optimizer?, String) {
        var defaults = (loss: Loss.categoricalCrossentropy(), epochs: 1, batchSize: 32, validationSplit: 0.0)
        switch source {
        case .architecture(let a):
            let net = a.makeModel()
            Initializers.initialize(net, seed: seed)
            return (net, (a.loss, a.epochs, a.batchSize, a.validationSplit), nil, "--arch \(a.name)")
        case .config(let path):
            let net = try ModelLoader.model(fromConfigFile: path)
            Initializers.initialize(net, seed: seed)
            return (net, defaults, nil, path)
        case .file(let file):
            if let name = file.trainingConfig?["loss"]?.string, let l = Loss(kerasName: name) { defaults.loss = l }
            var saved: Optimizer? = nil
            // Continue the saved optimizer where Keras left it, unless another is asked for.
            if optimizer == nil, let keras = file.keras {
                switch try KerasOptimizerResumption.read(keras, model: file.model, learningRate: learningRate) {
                case .notCompiled:
                    break
                case .noOptimizerRecorded:
                    // Keras itself then falls back to RMSprop and drops the state.
                    log("\(file.path) records no optimizer: Adam starts fresh")
                case .fresh(let o):
                    saved = o
                    log("\(file.path) has no optimizer state: \(o.kerasClassName) starts fresh")
                case .continued(let o):
                    saved = o
                    log("Continuing \(o.kerasClassName) from step \(o.iterations) (state from \(file.path))")
                }
            }
            return (file.model, defaults, saved, file.path)
        }
    }

    /// One part of the dataset as the model's inputs (pixels in [0, 1], in
    /// its sample shape) and targets for the loss.
    private func data(_ part: DatasetPart, model: any Model, loss: Loss, limit: Int?) throws -> (x: Tensor, y: Tensor) {
        let set = try dataset.load(part, from: dataDirectory, limit: limit).reshapedSamples(model.inputShape)
        let sparse = if case .sparseCategoricalCrossentropy = loss { true } else { false }
        return (set.images, set.targets(classes: model.outputShape.last ?? 1, sparse: sparse))
    }
}

/// Wall time of each epoch (its batches and validation), for the summary:
/// the figure Keras's per-epoch timings are compared with.
private final class EpochTimer: TrainingCallback {
    private(set) var seconds: [Double] = []
    private var start = Date()
    func epochBegin(_ epoch: Int, trainer: Trainer) throws { start = Date() }
    func epochEnd(_ epoch: Int, logs: inout EpochLogs, trainer: Trainer) throws {
        seconds.append(Date().timeIntervalSince(start))
    }
}

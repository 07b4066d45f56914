import ArgumentParser
import Dispatch
import Foundation
import ModelPortFormats
import ModelPortFiles
import ModelPortData
import ModelPortKeras
import ModelPortONNX
import ModelPortReports
import ModelPortRuntime
import ModelPortValidation

/// `modelport train`: trains a model natively, with Keras's semantics.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train (or fine-tune) a model on MNIST-format IDX data, natively in Swift.",
        discussion: """
            The model is one of the built-in MNIST tutorial architectures (--arch), or a saved \
            Keras model to fine-tune (MODEL). Data is a standard IDX dataset (--dataset, MNIST by \
            default): train-images-idx3-ubyte[.gz] and train-labels-idx1-ubyte[.gz], and t10k-* \
            for the final test when present; pixels are scaled to [0, 1] as the tutorials do. \
            It is found in this order: --data DIR, $MNIST_DIR ($FASHION_MNIST_DIR), \
            ../shared/data/<name> beside the working directory or the checkout, \
            /usr/share/datasets/<name>, then the cache (~/.cache/modelport, or \
            $MODELPORT_CACHE_DIR), filled by downloading with SHA-256 verification unless \
            --no-download.

            Training follows Keras's fit: glorot_uniform kernels and zero biases (seeded), \
            Keras's optimizers and defaults, shuffling every epoch, a validation split taken \
            from the end of the training data. On a terminal a progress bar shows steps, ETA \
            and the running loss/accuracy; otherwise one line per epoch. Ctrl-C stops after \
            the current batch and still writes the history and checkpoint.

            Examples:
              modelport train --arch mnist_digit_model
              modelport train --arch mnist_mlp --epochs 3 --optimizer sgd --lr 0.05 --history-out mlp.json
              modelport train fixtures/mnist_digit_model.h5 --epochs 1
              modelport train --config model_config.json --loss sparse_categorical_crossentropy --epochs 2

            Fine-tuning a Keras .h5 or .keras saved with its optimizer (model.save(...) of a compiled \
            model) continues that optimizer — its class and settings from training_config or \
            compile_config, its step count and moment estimates from /optimizer_weights (.h5) or \
            model.weights.h5's optimizer/vars (.keras) — unless --optimizer is given. \
            --config trains a Keras model config (model.to_json()) from scratch.
            """)

    @Argument(help: "A saved Keras model (.h5/.keras) to fine-tune (instead of --arch).")
    var model: String?

    @Option(help: "Built-in architecture: \(TutorialArchitecture.all.map(\.name).joined(separator: ", ")).")
    var arch: String?

    @Option(help: "A Keras model config JSON (model.to_json(), a .keras config.json): train that architecture from scratch, Keras-default initialisation with --seed.")
    var config: String?

    @OptionGroup(title: "Data")
    var data: DatasetLocationOptions

    @Option(help: "Epochs (default: the architecture's tutorial setting, else 1).")
    var epochs: Int?

    @Option(help: "Batch size (default: the architecture's tutorial setting, else 32).")
    var batchSize: Int?

    @Option(help: "Optimizer: \(OptimizerKind.names) (Keras defaults; default adam, or the saved model's own).")
    var optimizer: String?

    @Option(help: "Learning rate (default: the optimizer's Keras default).")
    var lr: Float?

    @Option(help: "Loss: categorical_crossentropy, sparse_categorical_crossentropy, binary_crossentropy, mean_squared_error (default: the architecture's).")
    var loss: String?

    @Option(help: "Fraction of the training data, from its end, held out for validation (default: the architecture's).")
    var validationSplit: Double?

    @Option(help: "Seed for the initial weights, shuffling and dropout.")
    var seed: UInt64 = 1

    @OptionGroup var runtime: RuntimeOptions

    @Option(help: "Train on only the first N training images (quick runs).")
    var limit: Int?

    @Option(help: "Stop when val_loss (or loss without validation) has not improved for N epochs, restoring the best weights.")
    var earlyStopping: Int?

    @Option(help: "Save the trained model here: .h5, .keras or .onnx.")
    var out: String?

    @Option(help: "Layout of an --out .h5: 3 (Keras 3, default) or 2 (tf-keras, whose load_model(...).fit() continues the saved optimizer; Keras 3.15 cannot fit() a compiled legacy .h5).")
    var kerasVersion: Int = 3

    @Option(help: "Write the per-epoch history as JSON here (default: beside --out as NAME.history.json). A .csv is written beside it.")
    var historyOut: String?

    @Option(help: "Write a JSON summary (settings, history, test loss and accuracy, seconds) here.")
    var results: String?

    @Option(help: "Write a training report (report.html and one SVG chart per metric) into this directory.")
    var report: String?

    func validate() throws {
        if [model != nil, arch != nil, config != nil].filter({ $0 }).count != 1 {
            throw ValidationError("give exactly one of a MODEL to fine-tune, --arch NAME or --config CONFIG.json")
        }
        if let arch, TutorialArchitecture.named(arch) == nil {
            throw ValidationError("unknown --arch '\(arch)'; choose one of \(TutorialArchitecture.all.map(\.name).joined(separator: ", "))")
        }
        if let epochs, epochs < 0 { throw ValidationError("--epochs must be at least 0") }
        if let batchSize, batchSize < 1 { throw ValidationError("--batch-size must be at least 1") }
        if let v = validationSplit, !(v >= 0 && v < 1) { throw ValidationError("--validation-split must be in [0, 1)") }
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
        if let lr, !(lr > 0) { throw ValidationError("--lr must be positive") }
        // Fail before training, not after the first epoch, when an output cannot be written.
        for (flag, path) in [("--out", out), ("--history-out", historyOut), ("--results", results)] {
            guard let path else { continue }
            let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw ValidationError("\(flag) \(path): directory '\(directory)' does not exist")
            }
            guard access(directory, W_OK) == 0 else { throw ValidationError("\(flag) \(path): directory '\(directory)' is not writable") }
        }
        if let optimizer, OptimizerKind(name: optimizer) == nil {
            throw ValidationError("unknown --optimizer '\(optimizer)'; choose adam, adamw, sgd or rmsprop")
        }
        if let loss, Loss(kerasName: loss) == nil { throw ValidationError("unknown --loss '\(loss)'") }
        if let out, !["h5", "keras", "onnx"].contains(URL(fileURLWithPath: out).pathExtension.lowercased()) {
            throw ValidationError("--out must end in .h5, .keras or .onnx")
        }
        if kerasVersion != 2 && kerasVersion != 3 { throw ValidationError("--keras-version must be 2 or 3") }
        if kerasVersion == 2, let out, URL(fileURLWithPath: out).pathExtension.lowercased() != "h5" {
            throw ValidationError("--keras-version 2 applies to an .h5 --out only")
        }
    }

    @OptionGroup var trust: TrustOptions

    func run() throws {
        trust.apply()
        try runReportingErrors {
            let started = Date()
            runtime.apply()
            // The model and its defaults.
            let net: any Model
            var defaults = (loss: Loss.categoricalCrossentropy(), epochs: 1, batchSize: 32, validationSplit: 0.0)
            var optimizer = makeOptimizer()
            if let arch, let a = TutorialArchitecture.named(arch) {
                net = a.makeModel()
                Initializers.initialize(net, seed: seed)
                defaults = (a.loss, a.epochs, a.batchSize, a.validationSplit)
            } else if let config {
                net = try ModelLoader.model(fromConfigFile: config)
                Initializers.initialize(net, seed: seed)
            } else {
                let file = try loadModel(model!)
                net = file.model
                if let name = file.trainingConfig?["loss"]?.string, let l = Loss(kerasName: name) { defaults.loss = l }
                // Continue the saved optimizer where Keras left it, unless told otherwise.
                if self.optimizer == nil, let keras = file.keras {
                    switch try KerasOptimizerResumption.read(keras, model: net, learningRate: lr) {
                    case .notCompiled:
                        break
                    case .noOptimizerRecorded:
                        // Keras itself then falls back to RMSprop and drops the state.
                        printFlushed("\(file.path) records no optimizer: \(optimizer.kerasClassName) starts fresh")
                    case .fresh(let saved):
                        optimizer = saved
                        printFlushed("\(file.path) has no optimizer state: \(optimizer.kerasClassName) starts fresh")
                    case .continued(let saved):
                        optimizer = saved
                        printFlushed("Continuing \(optimizer.kerasClassName) from step \(optimizer.iterations) (state from \(file.path))")
                    }
                }
            }
            let lossFunction = loss.flatMap { Loss(kerasName: $0) } ?? defaults.loss
            let trainer = try Trainer(model: net, loss: lossFunction, optimizer: optimizer,
                                      threads: RuntimeThreads.count)

            // The data: the training part, and the test part when it is there.
            let dir = try data.locate(parts: [.train]).directory
            let (x, y) = try trainingData(.train, in: dir, model: net, loss: lossFunction, limit: limit)
            let test = data.descriptor.has(.test, in: dir)
                ? try? trainingData(.test, in: dir, model: net, loss: lossFunction, limit: nil) : nil

            var options = FitOptions()
            options.epochs = epochs ?? defaults.epochs
            options.batchSize = batchSize ?? defaults.batchSize
            let source = model ?? config ?? "--arch \(arch ?? net.name)"
            try MemoryBudget.checkTraining(net, batchSize: options.batchSize, threads: trainer.threads, pieceSize: trainer.pieceSize,
                                           wholeBatch: trainer.graph.needsWholeBatch, file: source)
            options.validationSplit = validationSplit ?? defaults.validationSplit
            options.seed = seed
            printFlushed("Training \(net.name) (\(grouped(net.parameterCount)) parameters) on \(grouped(x.batchCount)) images from \(dir): "
                  + "\(options.epochs) epochs, batch \(options.batchSize), \(optimizer.kerasClassName) lr \(optimizer.currentLearningRate), "
                  + "\(lossFunction.kerasName), validation split \(options.validationSplit), seed \(seed), \(trainer.threads) threads")

            let epochTimer = EpochTimer()
            var callbacks: [any TrainingCallback] = [ProgressLogger(epochs: options.epochs), epochTimer]
            if let patience = earlyStopping {
                callbacks.append(EarlyStopping(monitor: options.validationSplit > 0 ? "val_loss" : "loss",
                                               patience: patience, restoreBestWeights: true))
            }
            if let out {
                callbacks.append(ModelCheckpoint(path: out, monitor: "loss") { path in
                    try TrainedModelWriter.write(net, optimizer: optimizer, loss: lossFunction, to: path,
                                                 generation: kerasVersion == 2 ? .keras2 : .keras3)
                })
            }
            // Ctrl-C: finish the current batch, then stop and still write everything.
            // The previous action (the temporary-file clean-up's) comes back afterwards.
            let previous = signal(SIGINT, SIG_IGN)
            let interrupt = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
            let stop = trainer.stopRequest
            interrupt.setEventHandler {
                if stop.isRequested { Foundation.exit(130) }  // a second Ctrl-C quits at once
                stop.request()
            }
            interrupt.resume()
            defer { interrupt.cancel(); signal(SIGINT, previous) }

            let history = try trainer.fit(x: x, y: y, options: options, callbacks: callbacks)

            var summary: [String: Any] = [
                "model": net.name, "seed": seed, "threads": trainer.threads, "epochs": options.epochs,
                "batch_size": options.batchSize, "optimizer": optimizer.kerasClassName, "loss": lossFunction.kerasName,
                "validation_split": options.validationSplit, "train_samples": x.batchCount,
                "interrupted": history.interrupted,
            ]
            if let test {
                let result = trainer.evaluate(x: test.x, y: test.y, batchSize: 32)
                printFlushed(String(format: "Test loss %.4f, test accuracy %.4f (%@ images)", result.loss, result.accuracy, grouped(test.x.batchCount)))
                summary["test_loss"] = result.loss
                summary["test_accuracy"] = result.accuracy
            }
            summary["seconds"] = Date().timeIntervalSince(started)
            summary["epoch_seconds"] = epochTimer.seconds
            summary["history"] = Dictionary(uniqueKeysWithValues: history.keys.map { ($0, history.values[$0]!) })

            if let historyPath = historyOut ?? out.map({ URL(fileURLWithPath: $0).deletingPathExtension().path + ".history.json" }) {
                try writeText(history.jsonText, to: historyPath)
                let csv = URL(fileURLWithPath: historyPath).deletingPathExtension().path + ".csv"
                try writeText(history.csvText, to: csv)
                printFlushed("History: \(historyPath), \(csv)")
            }
            if let report {
                let series = Dictionary(uniqueKeysWithValues: history.keys.map { ($0, history.values[$0]!) })
                if series.values.allSatisfy({ !$0.isEmpty }) && !series.isEmpty {
                    // With the test set at hand, the report also evaluates the trained model on it.
                    var evaluation: Evaluation? = nil
                    if let test {
                        try MemoryBudget.checkInference(net, batch: test.x.batchCount, file: source)
                        let probabilities = try net.predict(test.x)
                        let labels = test.y.sampleCount > 1 ? argmaxPerSample(test.y) : test.y.scalars.map { Int($0) }
                        evaluation = try Evaluation(probabilities: probabilities, labels: labels,
                                                    classNames: (0..<probabilities.sampleCount).map(String.init), inputs: test.x)
                    }
                    let files = try ReportWriter(title: "Training \(net.name)", details: [("Optimizer", optimizer.kerasClassName), ("Seed", String(seed))])
                        .write(evaluation: evaluation, history: series, to: URL(fileURLWithPath: report))
                    printFlushed("Report: \(files[0].path)")
                }
            }
            if let results {
                let data = try JSONSerialization.data(withJSONObject: summary, options: [.prettyPrinted, .sortedKeys])
                try writeText(String(decoding: data, as: UTF8.self) + "\n", to: results)
            }
            if let out { printFlushed("Saved \(out)") }
            if history.interrupted { throw ExitCode(130) }
        }
    }

    func makeOptimizer() -> Optimizer {
        (optimizer.flatMap(OptimizerKind.init(name:)) ?? .adam).makeOptimizer(learningRate: lr.map { .constant($0) })
    }

    /// One part of the dataset as the model's inputs (pixels in [0, 1], in
    /// its sample shape) and targets for the loss.
    func trainingData(_ part: DatasetPart, in dir: String, model: any Model, loss: Loss, limit: Int?) throws -> (x: Tensor, y: Tensor) {
        let set = try data.descriptor.load(part, from: dir, limit: limit).reshapedSamples(model.inputShape)
        let sparse = if case .sparseCategoricalCrossentropy = loss { true } else { false }
        return (set.images, set.targets(classes: model.outputShape.last ?? 1, sparse: sparse))
    }
}

/// Writes text atomically (temporary file, then rename).
func writeText(_ text: String, to path: String) throws {
    try AtomicFile.write(Data(text.utf8), to: path)
}

/// `print`, flushed at once so it stays in order with the progress output.
func printFlushed(_ text: String) {
    FileHandle.standardOutput.write(Data((text + "\n").utf8))
}

/// Wall time of each epoch (its batches and validation), for --results: the
/// figure Keras's per-epoch timings are compared with.
private final class EpochTimer: TrainingCallback {
    private(set) var seconds: [Double] = []
    private var start = Date()
    func epochBegin(_ epoch: Int, trainer: Trainer) throws { start = Date() }
    func epochEnd(_ epoch: Int, logs: inout EpochLogs, trainer: Trainer) throws {
        seconds.append(Date().timeIntervalSince(start))
    }
}

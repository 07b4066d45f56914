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
            runtime.apply()
            let source: TrainingRun.Source
            if let arch, let a = TutorialArchitecture.named(arch) { source = .architecture(a) }
            else if let config { source = .config(path: config) }
            else { source = .file(try loadModel(model!)) }
            var run = TrainingRun(source: source, dataset: data.descriptor, dataDirectory: try data.locate(parts: [.train]).directory,
                                  threads: RuntimeThreads.count)
            (run.epochs, run.batchSize, run.validationSplit) = (epochs, batchSize, validationSplit)
            (run.loss, run.optimizer, run.learningRate) = (loss.flatMap { Loss(kerasName: $0) }, optimizer.flatMap(OptimizerKind.init(name:)), lr)
            (run.seed, run.limit, run.earlyStoppingPatience) = (seed, limit, earlyStopping)
            (run.modelPath, run.kerasGeneration) = (out, kerasVersion == 2 ? .keras2 : .keras3)
            (run.historyPath, run.resultsPath, run.reportDirectory) = (historyOut, results, report)
            run.log = printFlushed
            let ctrlC = CtrlC()
            defer { ctrlC.restore() }
            let outcome = try run.run { ctrlC.install(stopping: $0.stopRequest) }
            if outcome.interrupted { throw ExitCode(130) }
        }
    }
}

/// Ctrl-C while training: finish the current batch, then stop and still write
/// everything; a second Ctrl-C quits at once. The previous action (the
/// temporary-file clean-up's) comes back afterwards.
private final class CtrlC {
    private var source: (any DispatchSourceSignal)?
    private var previous: sig_t?

    func install(stopping stop: StopRequest) {
        previous = signal(SIGINT, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        source.setEventHandler {
            if stop.isRequested { Foundation.exit(130) }
            stop.request()
        }
        source.resume()
        self.source = source
    }

    func restore() {
        guard let source else { return }
        source.cancel()
        signal(SIGINT, previous)
    }
}

/// `print`, flushed at once so it stays in order with the progress output.
@Sendable func printFlushed(_ text: String) {
    FileHandle.standardOutput.write(Data((text + "\n").utf8))
}

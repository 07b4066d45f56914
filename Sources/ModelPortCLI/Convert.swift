import ArgumentParser
import Foundation
import ModelPortFormats
import ModelPortFiles
import ModelPortKeras
import ModelPortONNX
import ModelPortRuntime
import ModelPortValidation

struct Convert: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Convert a model between Keras .h5, .keras, .weights.h5 and ONNX, and prove the result computes the same.",
        discussion: """
            Formats are chosen by extension: .h5 (legacy Keras HDF5), .keras (Keras 3 archive), \
            .weights.h5 (weights only) and .onnx. The output is written to a temporary file and \
            renamed into place, so a failed conversion never leaves a half-written file or \
            touches an existing one.

            Unless --no-verify is given, the converted file is read back and run next to the \
            source on the --reference inputs (or on generated inputs): the conversion fails \
            (exit status 1) if any output differs by more than --atol + --rtol * |source|. \
            A model with several inputs or outputs is verified on every one: its reference \
            file holds inputs/<input name> and outputs/<output name> datasets (see 'modelport \
            validate --help'), and each output is reported by name.

            A compiled Keras model keeps what Keras keeps — its compile settings (loss, metrics, \
            optimizer and its hyperparameters) and the optimizer's state (step count, moments) — \
            in every Keras layout, across generations too, so the converted file continues \
            training in Keras (Keras 3 for .keras, the generation of the .h5 layout) where the \
            source stopped. --model-only leaves them out. A model config is kept when the output \
            is in its dialect, else generated from the model. ONNX holds no training state.

            An ONNX model with NCHW image inputs (what PyTorch and the ONNX model zoo export) \
            becomes an ordinary channels-last Keras model: its input takes (H, W, C) images, \
            weights are moved at conversion (a flatten before the first dense layer included), \
            and no Permute layer is left. Verification feeds it the same images with the \
            channels moved last. --keep-nchw-input keeps the (C, H, W) input instead.

            Examples:
              modelport convert fixtures/mnist_cnn.h5 mnist_cnn.onnx
              modelport convert fixtures/mnist_cnn.h5 mnist_cnn.onnx --opset 13 --nchw-input
              modelport convert fixtures/mnist_cnn_keras2.h5 mnist_cnn_k3.h5 --keras-version 3
              modelport convert fixtures/mnist_cnn.h5 mnist_cnn.keras --reference fixtures/mnist_cnn.reference.h5
              modelport convert model.onnx model.h5 --keras-version 2
              modelport convert fixtures/onnx/pytorch/mnist_cnn_opset9.onnx mnist_cnn_nhwc.keras
              modelport convert fixtures/mnist_mlp.h5 mnist_mlp.weights.h5
              modelport convert trained.keras trained_k2.h5 --keras-version 2     # keeps the Adam state
              modelport convert trained.keras deploy.h5 --model-only

            Exit status: 0 converted (and verified); 1 the converted model's outputs differ; \
            2 a file could not be read or written, or the model cannot be expressed in the \
            target format (the message names the file and the layer); 64 bad usage.
            """)

    @Argument(help: "The model to convert: .h5, .keras, .weights.h5 (with --config) or .onnx.")
    var input: String

    @Argument(help: "Where to write: .h5, .keras, .weights.h5 or .onnx.")
    var output: String

    @Option(help: "Layout of a .h5 output: 2 (tf-keras) or 3 (Keras 3). Default: the source's generation, else 3.")
    var kerasVersion: Int?

    @Option(help: "ONNX opset of an .onnx output (13 to 21).")
    var opset = 17

    @Flag(name: [.customLong("nchw-input"), .customLong("keep-nchw-input")],
          help: "Channels-first image inputs: an ONNX output takes NCHW (no Transpose at the input) instead of Keras's NHWC; a Keras model converted from an NCHW ONNX model keeps its NCHW input instead of becoming channels-last.")
    var nchwInput = false

    @Option(help: "Model config JSON for a .weights.h5 input.")
    var config: String?

    @Option(name: .shortAndLong, help: "Verify on this reference file's inputs (HDF5 with an 'inputs' dataset, or inputs/<name> for each input of a model with several).")
    var reference: String?

    @Option(help: "How many generated samples to verify on when there is no --reference.")
    var samples = 16

    @Option(help: "Absolute tolerance per output element.")
    var atol: Float = 1e-5

    @Option(help: "Relative tolerance per output element (times |source|).")
    var rtol: Float = 0

    @Flag(help: "Do not read the result back and compare it with the source.")
    var noVerify = false

    @Flag(help: "Write the model only: leave out a compiled source's compile settings (loss, metrics, optimizer) and optimizer state, so Keras loads it uncompiled.")
    var modelOnly = false

    func validate() throws {
        guard ModelConversion.Target(path: output) != nil else {
            throw ValidationError("cannot tell the output format of '\(output)': use .h5, .keras, .weights.h5 or .onnx")
        }
        if let kerasVersion, kerasVersion != 2 && kerasVersion != 3 { throw ValidationError("--keras-version must be 2 or 3") }
        guard ONNXExportOptions.supportedOpsets.contains(opset) else { throw ValidationError("--opset must be between 13 and 21") }
        guard samples >= 1 else { throw ValidationError("--samples must be at least 1") }
        guard atol >= 0, rtol >= 0, atol.isFinite, rtol.isFinite else { throw ValidationError("--atol and --rtol must be finite and non-negative") }
        guard URL(fileURLWithPath: input).standardized.path != URL(fileURLWithPath: output).standardized.path else {
            throw ValidationError("'\(output)' is the input file; write the converted model to another file")
        }
    }

    @OptionGroup var trust: TrustOptions

    func run() throws {
        trust.apply()
        var passed = true
        try runReportingErrors {
            let source = try AnyModelFile.load(input, configPath: config)
            let options = ModelConversion.Options(kerasVersion: kerasVersion, opset: opset, nchwInput: nchwInput, modelOnly: modelOnly)
            let written = try ModelConversion.write(source, to: output, options: options)
            print("Wrote \(output): \(written.description)")
            fflush(nil)  // the notes after the line they qualify, also when both streams go to one pipe
            for note in written.notes { printError("note: \(note)") }
            if noVerify { return }
            let converted = try ModelConversion.readBack(output, source: source)
            let check = try ModelConversion.verify(source.model, converted, inputDims: written.inputDims,
                                                   reference: try reference.map(readReference),
                                                   samples: samples, sourcePath: input, atol: atol, rtol: rtol)
            print("Verified on \(check.inputs):")
            for (k, result) in check.outputs.enumerated() {
                let label = check.outputs.count == 1 ? "" : " (output '\(check.outputNames[k])')"
                print("  max |converted - source|\(label): \(sci(result.maxAbsoluteError))   (atol \(sci(atol)), rtol \(sci(rtol)))")
                print("  predicted class agrees:     \(result.argmaxAgreements)/\(result.samples)")
            }
            passed = check.passed
            print(passed ? "PASSED" : "FAILED: the converted model's outputs differ from the source's beyond the tolerance (\(output) was written; inspect it or rerun with --no-verify)")
        }
        if !passed { throw ExitCode(1) }
    }
}

import ArgumentParser
import Foundation
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
            (exit status 1) if any output differs by more than --atol + --rtol * |source|.

            A Keras file written back in its own generation keeps its model config, \
            training_config and optimizer state; across generations (or from ONNX) the config \
            is generated from the model and training state is left out.

            Examples:
              modelport convert fixtures/mnist_cnn.h5 mnist_cnn.onnx
              modelport convert fixtures/mnist_cnn.h5 mnist_cnn.onnx --opset 13 --nchw-input
              modelport convert fixtures/mnist_cnn_keras2.h5 mnist_cnn_k3.h5 --keras-version 3
              modelport convert fixtures/mnist_cnn.h5 mnist_cnn.keras --reference fixtures/mnist_cnn.reference.h5
              modelport convert model.onnx model.h5 --keras-version 2
              modelport convert fixtures/mnist_mlp.h5 mnist_mlp.weights.h5

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

    @Flag(help: "Make an ONNX output's image input NCHW (no Transpose at the input) instead of Keras's NHWC.")
    var nchwInput = false

    @Option(help: "Model config JSON for a .weights.h5 input.")
    var config: String?

    @Option(name: .shortAndLong, help: "Verify on this reference file's inputs (HDF5 with an 'inputs' dataset).")
    var reference: String?

    @Option(help: "How many generated samples to verify on when there is no --reference.")
    var samples = 16

    @Option(help: "Absolute tolerance per output element.")
    var atol: Float = 1e-5

    @Option(help: "Relative tolerance per output element (times |source|).")
    var rtol: Float = 0

    @Flag(help: "Do not read the result back and compare it with the source.")
    var noVerify = false

    enum Target: Equatable { case onnx, keras(KerasWriter.Container) }

    static func target(_ path: String) -> Target? {
        if AnyModelFile.isONNX(path) { return .onnx }
        return KerasWriter.Container(path: path).map { .keras($0) }
    }

    func validate() throws {
        guard Convert.target(output) != nil else {
            throw ValidationError("cannot tell the output format of '\(output)': use .h5, .keras, .weights.h5 or .onnx")
        }
        if let kerasVersion, kerasVersion != 2 && kerasVersion != 3 { throw ValidationError("--keras-version must be 2 or 3") }
        guard ONNXExportOptions.supportedOpsets.contains(opset) else { throw ValidationError("--opset must be between 13 and 21") }
        guard samples >= 1 else { throw ValidationError("--samples must be at least 1") }
        guard atol >= 0, rtol >= 0, atol.isFinite, rtol.isFinite else { throw ValidationError("--atol and --rtol must be finite and non-negative") }
        guard URL(fileURLWithPath: input).standardized.path != URL(fileURLWithPath: output).standardized.path else {
            throw ValidationError("the output must be a different file from the input")
        }
    }

    func run() throws {
        var passed = true
        try runReportingErrors {
            let source = try AnyModelFile.load(input, configPath: config)
            let target = Convert.target(output)!
            let description = try write(source, target)
            print("Wrote \(output): \(description)")
            if noVerify { return }
            let converted = try readBack(target, source: source)
            passed = try verify(source.model, converted)
        }
        if !passed { throw ExitCode(1) }
    }

    /// Writes the output; returns a one-line description of what was written.
    private func write(_ source: AnyModelFile, _ target: Target) throws -> String {
        switch target {
        case .onnx:
            var options = ONNXExportOptions(opset: opset, nchwInput: nchwInput, sourceFile: input)
            if let v = source.kerasVersion { options.metadata["keras_version"] = v }
            try ONNXExporter.write(source.model, to: output, options: options)
            return "ONNX opset \(opset), \(nchwInput ? "NCHW" : "NHWC") input"
        case .keras(let container):
            let sourceGeneration = KerasGeneration(kerasVersion: source.kerasVersion)
            let generation = kerasVersion.flatMap(KerasGeneration.init(rawValue:)) ?? sourceGeneration ?? .keras3
            var options = KerasSaveOptions(generation: generation)
            if let keras = source.keras { options = try KerasSaveOptions.preserving(keras, for: generation, container: container) }
            try KerasWriter.write(source.model, to: output, options: options)
            let kept = options.modelConfig != nil && source.keras != nil ? "original config" : "generated config"
            switch container {
            case .legacyH5:
                return "Keras \(generation.rawValue) HDF5 layout, \(kept)" + (options.optimizerWeights != nil && options.trainingConfig != nil ? ", with optimizer state" : "")
            case .archive: return "Keras 3 archive, \(kept)"
            case .weights: return "Keras weights only (load them with model.load_weights)"
            }
        }
    }

    /// The converted file, read back by ModelPort's own readers.
    private func readBack(_ target: Target, source: AnyModelFile) throws -> any Model {
        if target == .keras(.weights) {
            // Weights alone: read them into the source's architecture.
            let configPath = FileManager.default.temporaryDirectory.appendingPathComponent("modelport-convert-\(UUID().uuidString).json").path
            defer { unlink(configPath) }
            let config = try source.keras?.modelConfig ?? KerasWriter.archiveConfig(for: source.model)
            try AtomicFile.write(Data(try KerasWriter.jsonText(config).utf8), to: configPath)
            return try AnyModelFile.load(output, configPath: configPath).model
        }
        return try AnyModelFile.load(output).model
    }

    /// Runs source and converted model on the same inputs and reports the largest difference.
    private func verify(_ source: any Model, _ converted: any Model) throws -> Bool {
        var inputs: [Tensor]
        var what: String
        if let reference {
            let ref = try ReferenceData.read(reference)
            guard source.inputShapes.count == 1 else { throw CLIError("--reference files hold one input; this model has \(source.inputShapes.count)") }
            inputs = [ref.inputs]
            what = "\(ref.inputs.batchCount) reference samples from \(reference)"
        } else {
            inputs = source.inputShapes.enumerated().map { k, shape in generatedInputs([samples] + shape, seed: UInt64(k + 1)) }
            what = "\(samples) generated samples (uniform in [0, 1), fixed seed)"
        }
        let expected = try source.predict(inputs: inputs)
        // An NCHW ONNX input takes the same images with channels moved first.
        let convertedInputs = try zip(inputs, converted.inputShapes).map { x, shape -> Tensor in
            if x.sampleShape == shape { return x }
            guard x.sampleShape.count == 3, shape == [x.sampleShape[2], x.sampleShape[0], x.sampleShape[1]] else {
                throw CLIError("the converted model takes inputs of shape \(shape), the source \(x.sampleShape)")
            }
            return toChannelsFirst(x)
        }
        let actual = try converted.predict(inputs: convertedInputs)
        var passed = true
        print("Verified on \(what):")
        for (k, (a, e)) in zip(actual, expected).enumerated() {
            let result = try Comparison(actual: a, expected: e, atol: atol, rtol: rtol)
            let label = expected.count == 1 ? "" : " (output \(k))"
            print("  max |converted - source|\(label): \(sci(result.maxAbsoluteError))   (atol \(sci(atol)), rtol \(sci(rtol)))")
            print("  predicted class agrees:     \(result.argmaxAgreements)/\(result.samples)")
            passed = passed && result.elementsOutsideTolerance == 0
        }
        print(passed ? "PASSED" : "FAILED: the converted model's outputs differ from the source's beyond the tolerance (\(output) was written; inspect it or rerun with --no-verify)")
        return passed
    }

    /// Deterministic inputs in [0, 1) (SplitMix64), like pixel intensities.
    private func generatedInputs(_ shape: [Int], seed: UInt64) -> Tensor {
        var state = seed &* 0x9E37_79B9_7F4A_7C15
        let n = shape.reduce(1, *)
        var values = [Float](repeating: 0, count: n)
        for i in 0..<n {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
            values[i] = Float(z >> 40) / Float(1 << 24)
        }
        return Tensor(shape: shape, scalars: values)
    }

    /// NHWC -> NCHW.
    private func toChannelsFirst(_ x: Tensor) -> Tensor {
        let (n, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        var out = [Float](repeating: 0, count: x.count)
        for b in 0..<n { for y in 0..<h { for xx in 0..<w { for ch in 0..<c {
            out[((b * c + ch) * h + y) * w + xx] = x.scalars[((b * h + y) * w + xx) * c + ch]
        } } } }
        return Tensor(shape: [n, c, h, w], scalars: out)
    }
}

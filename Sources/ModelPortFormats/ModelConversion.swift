import Foundation
import ModelPortFiles
import ModelPortKeras
import ModelPortONNX
import ModelPortRuntime
import ModelPortValidation

/// Converting a model file to another format and proving the result computes
/// the same: what `modelport convert` (and the server's downloads) do.
public enum ModelConversion {
    /// The format to write, from the output's extension.
    public enum Target: Equatable, Sendable {
        case onnx
        case keras(KerasWriter.Container)

        /// `.onnx`, `.h5`, `.keras`, `.weights.h5`; nil for anything else.
        public init?(path: String) {
            if AnyModelFile.isONNX(path) { self = .onnx; return }
            guard let container = KerasWriter.Container(path: path) else { return nil }
            self = .keras(container)
        }
    }

    /// How to write the output.
    public struct Options: Sendable {
        /// Layout of a `.h5` output (2 or 3); nil keeps the source's generation (else 3).
        public var kerasVersion: Int?
        public var opset: Int
        /// Image inputs channels-first: an ONNX output's NCHW input (no
        /// Transpose at the input); a Keras model from an NCHW ONNX model
        /// keeps that NCHW input (a Permute layer after it) instead of taking
        /// channels-last images like every Keras CNN.
        public var nchwInput: Bool
        /// Leave out a compiled source's compile settings and optimizer state (a Keras output loads uncompiled).
        public var modelOnly: Bool
        public init(kerasVersion: Int? = nil, opset: Int = 17, nchwInput: Bool = false, modelOnly: Bool = false) {
            self.kerasVersion = kerasVersion
            self.opset = opset
            self.nchwInput = nchwInput
            self.modelOnly = modelOnly
        }
    }

    /// What `write` wrote, for the user.
    public struct Written: Sendable {
        /// "Keras 3 archive, original config, compiled (Adam at step 12)".
        public let description: String
        /// What was left out and why ("the optimizer state was left out (...)").
        public let notes: [String]
        /// Per source input: how its samples are permuted to feed the written
        /// model (1-based sample axes, as `Permute.dims`), or nil where the
        /// written model takes them as they are.
        public let inputDims: [[Int]?]

        init(description: String, notes: [String], inputDims: [[Int]?] = []) {
            self.description = description
            self.notes = notes
            self.inputDims = inputDims
        }
    }

    /// Writes `source` to `output` (atomically) in the format its extension
    /// names — for a Keras output, with a compiled source's compile settings
    /// and optimizer state unless `options.modelOnly` — and describes what was written.
    /// - Throws: the writer's error, naming the file (and the layer a format cannot express).
    public static func write(_ source: AnyModelFile, to output: String, options: Options = Options()) throws -> Written {
        guard let target = Target(path: output) else {
            throw RuntimeError("\(DisplayPath(output)): cannot tell the output format: use .h5, .keras, .weights.h5 or .onnx")
        }
        switch target {
        case .onnx:
            var exportOptions = ONNXExportOptions(opset: options.opset, nchwInput: options.nchwInput, sourceFile: source.displayPath)
            if let v = source.kerasVersion { exportOptions.metadata["keras_version"] = v }
            try ONNXExporter.write(source.model, to: output, options: exportOptions)
            let dropped = source.trainingConfig != nil ? ["ONNX holds no training state: the compile settings and optimizer state were left out"] : []
            // The exporter declares every rank-3 (H, W, C) input as (C, H, W).
            let dims: [[Int]?] = source.model.inputShapes.map { options.nchwInput && $0.count == 3 ? [3, 1, 2] : nil }
            return Written(description: "ONNX opset \(options.opset), \(options.nchwInput ? "NCHW" : "NHWC") input", notes: dropped, inputDims: dims)
        case .keras(let container):
            let sourceGeneration = KerasGeneration(kerasVersion: source.kerasVersion)
            let generation = options.kerasVersion.flatMap(KerasGeneration.init(rawValue:)) ?? sourceGeneration ?? .keras3
            var saveOptions = KerasSaveOptions(generation: generation)
            var compiled = ""
            var notes: [String] = []
            if let keras = source.keras {
                saveOptions = try KerasSaveOptions.preserving(keras, for: generation, container: container, keepCompileState: false)
                if !options.modelOnly {
                    let state = KerasCompileState.carried(from: keras, to: generation, container: container)
                    saveOptions.trainingConfig = state.trainingConfig
                    saveOptions.optimizerWeights = state.optimizerWeights
                    notes = state.notes
                    if state.trainingConfig != nil { compiled = ", compiled" + (state.optimizerSummary.map { " (\($0))" } ?? "") }
                } else if keras.trainingConfig != nil {
                    compiled = ", model only (compile settings and optimizer state left out: --model-only)"
                }
            }
            // An NCHW ONNX model becomes a channels-last Keras model (not a weights file, which goes into the caller's architecture).
            let fromONNX = source.onnx != nil && container != .weights
            let folded = fromONNX && !options.nchwInput ? try InputPermuteFolding.folded(source.model) : nil
            var model = folded?.model ?? source.model
            if fromONNX, let valid = try KerasInputNames.valid(model) {
                model = valid.model
                notes += valid.renamed.map { "input '\($0.0)' is named '\($0.1)' in the Keras model (Keras does not allow '/' in a layer name)" }
            }
            try KerasWriter.write(model, to: output, options: saveOptions)
            let kept = saveOptions.modelConfig != nil && source.keras != nil ? "original config" : "generated config"
            let inputs = folded.map { f in
                ", " + f.model.inputShapes.map { "(\($0.map(String.init).joined(separator: ", ")))" }.joined(separator: " and ") + " input (channels last)"
            } ?? ""
            let dims = folded?.inputDims ?? []
            switch container {
            case .legacyH5: return Written(description: "Keras \(generation.rawValue) HDF5 layout, \(kept)" + inputs + compiled, notes: notes, inputDims: dims)
            case .archive: return Written(description: "Keras 3 archive, \(kept)" + inputs + compiled, notes: notes, inputDims: dims)
            case .weights: return Written(description: "Keras weights only (load them with model.load_weights)", notes: [])
            }
        }
    }

    /// The converted file, read back by ModelPort's own readers (a weights
    /// file into the source's architecture).
    public static func readBack(_ output: String, source: AnyModelFile) throws -> any Model {
        guard Target(path: output) == .keras(.weights) else { return try AnyModelFile.loadTrusted(output).model }
        let configPath = try TemporaryFiles.create(in: TemporaryFiles.directory, prefix: "modelport-convert-", suffix: ".json")
        defer { TemporaryFiles.remove(configPath) }
        let config = try source.keras?.modelConfig ?? KerasWriter.archiveConfig(for: source.model)
        try Data(try KerasWriter.jsonText(config).utf8).write(to: URL(fileURLWithPath: configPath))
        return try AnyModelFile.loadTrusted(output, configPath: configPath).model
    }

    /// What the converted model was compared on, and how each output compared.
    public struct Verification: Sendable {
        /// "16 generated samples (...)", "200 reference samples from ref.h5".
        public let inputs: String
        /// One per output, in the source model's order.
        public let outputs: [Comparison]
        /// The source model's output names, parallel to `outputs`.
        public let outputNames: [String]
        public var passed: Bool { outputs.allSatisfy { $0.elementsOutsideTolerance == 0 } }
    }

    /// Runs `source` and `converted` on the same inputs — `reference`'s, or
    /// `samples` generated ones — and compares every output element.
    /// - Throws: `ReferenceError` when the reference does not fit the model (a
    ///   missing or unknown `inputs/<name>` or `outputs/<name>` dataset, other shapes);
    ///   `RuntimeError` when the converted model takes other shapes.
    /// - Parameter inputDims: `Written.inputDims`: how each input's samples
    ///   are permuted for `converted`.
    public static func verify(_ source: any Model, _ converted: any Model, inputDims: [[Int]?] = [], reference: ReferenceData?,
                              samples: Int = 16, sourcePath: String, atol: Float, rtol: Float) throws -> Verification {
        var inputs: [Tensor]
        let what: String
        if let reference {
            // Every input by name; the reference outputs only need to fit (the comparison is with the source).
            try reference.check(against: source, modelPath: sourcePath)
            inputs = try reference.inputs(for: source, modelPath: sourcePath)
            what = "\(reference.sampleCount) reference samples from \(reference.path)"
        } else {
            inputs = source.inputShapes.enumerated().map { k, shape in generatedInputs([samples] + shape, seed: UInt64(k + 1)) }
            what = "\(samples) generated samples (uniform in [0, 1), fixed seed)"
        }
        let expected = try source.predict(inputs: inputs)
        // An NCHW ONNX input takes the same images with channels moved first; a channels-last Keras model, with them last.
        let convertedInputs = try zip(inputs, converted.inputShapes).enumerated().map { k, pair -> Tensor in
            let (x, shape) = pair
            let layout = (k < inputDims.count ? inputDims[k] : nil).map { Permute(name: "input_layout", dims: $0) }
            guard try layout?.outputShape(for: x.sampleShape) ?? x.sampleShape == shape else {
                throw RuntimeError("the converted model takes inputs of shape \(shape), the source \(x.sampleShape)")
            }
            return layout?.forward(x) ?? x
        }
        let actual = try converted.predict(inputs: convertedInputs)
        let comparisons = try zip(actual, expected).map { a, e in try Comparison(actual: a, expected: e, atol: atol, rtol: rtol) }
        return Verification(inputs: what, outputs: comparisons, outputNames: source.outputNames)
    }

    /// Deterministic inputs in [0, 1), like pixel intensities (the runtime's SplitMix64).
    public static func generatedInputs(_ shape: [Int], seed: UInt64) -> Tensor {
        var generator = SplitMix64(seed: seed &* 0x9E37_79B9_7F4A_7C15)
        return Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in generator.nextFloat() })
    }
}

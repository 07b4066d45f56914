import Foundation
import ModelPortFiles
import ModelPortKeras
import ModelPortONNX
import ModelPortRuntime
import ModelPortValidation

/// Converting a model file to another format and proving the result computes
/// the same: shared by `modelport convert` and `modelport serve`.
public enum ModelConversion {
    /// What a converted file is, chosen by the output's extension.
    public enum Target: Equatable, Sendable {
        case onnx, keras(KerasWriter.Container)

        /// `.onnx`, `.h5`, `.keras`, `.weights.h5`; nil for any other extension.
        public init?(path: String) {
            if AnyModelFile.isONNX(path) { self = .onnx; return }
            guard let container = KerasWriter.Container(path: path) else { return nil }
            self = .keras(container)
        }
    }

    /// How to write the converted file.
    public struct Options: Sendable {
        /// Layout of a `.h5` output: 2 or 3; nil for the source's generation, else 3.
        public var kerasVersion: Int?
        public var opset: Int
        /// An ONNX output's image input NCHW instead of Keras's NHWC.
        public var nchwInput: Bool

        public init(kerasVersion: Int? = nil, opset: Int = 17, nchwInput: Bool = false) {
            self.kerasVersion = kerasVersion
            self.opset = opset
            self.nchwInput = nchwInput
        }
    }

    /// Writes `source`'s model to `output` (atomically, by the format's writer).
    /// - Returns: a one-line description of what was written.
    public static func write(_ source: AnyModelFile, to output: String, options: Options) throws -> String {
        guard let target = Target(path: output) else {
            throw ConversionError("cannot tell the output format of '\(output)': use .h5, .keras, .weights.h5 or .onnx")
        }
        switch target {
        case .onnx:
            var onnx = ONNXExportOptions(opset: options.opset, nchwInput: options.nchwInput, sourceFile: source.displayPath)
            if let v = source.kerasVersion { onnx.metadata["keras_version"] = v }
            try ONNXExporter.write(source.model, to: output, options: onnx)
            return "ONNX opset \(options.opset), \(options.nchwInput ? "NCHW" : "NHWC") input"
        case .keras(let container):
            let sourceGeneration = KerasGeneration(kerasVersion: source.kerasVersion)
            let generation = options.kerasVersion.flatMap(KerasGeneration.init(rawValue:)) ?? sourceGeneration ?? .keras3
            var keras = KerasSaveOptions(generation: generation)
            if let file = source.keras { keras = try KerasSaveOptions.preserving(file, for: generation, container: container) }
            try KerasWriter.write(source.model, to: output, options: keras)
            let kept = keras.modelConfig != nil && source.keras != nil ? "original config" : "generated config"
            switch container {
            case .legacyH5:
                return "Keras \(generation.rawValue) HDF5 layout, \(kept)" + (keras.optimizerWeights != nil && keras.trainingConfig != nil ? ", with optimizer state" : "")
            case .archive: return "Keras 3 archive, \(kept)"
            case .weights: return "Keras weights only (load them with model.load_weights)"
            }
        }
    }

    /// The converted file at `output`, read back by ModelPort's own readers.
    public static func readBack(_ output: String, source: AnyModelFile) throws -> any Model {
        if Target(path: output) == .keras(.weights) {
            // Weights alone: read them into the source's architecture.
            let configPath = FileManager.default.temporaryDirectory.appendingPathComponent("modelport-convert-\(UUID().uuidString).json").path
            defer { unlink(configPath) }
            let config = try source.keras?.modelConfig ?? KerasWriter.archiveConfig(for: source.model)
            try AtomicFile.write(Data(try KerasWriter.jsonText(config).utf8), to: configPath)
            return try AnyModelFile.loadTrusted(output, configPath: configPath).model
        }
        return try AnyModelFile.loadTrusted(output).model
    }

    /// The outcome of running source and converted model on the same inputs.
    public struct Verification: Sendable {
        /// One model output's comparison.
        public struct Output: Sendable {
            public let maxAbsoluteError: Float
            public let argmaxAgreements: Int
            public let samples: Int
            public let elementsOutsideTolerance: Int
        }
        /// Which inputs were used, in words ("16 generated samples ...").
        public let inputs: String
        public let atol: Float
        public let rtol: Float
        public let outputs: [Output]
        public var passed: Bool { outputs.allSatisfy { $0.elementsOutsideTolerance == 0 } }
    }

    /// The inputs to verify on: the reference file's, or `samples` generated ones.
    /// - Returns: one tensor per model input, and what they are in words.
    public static func verificationInputs(for source: AnyModelFile, reference: ReferenceData?, samples: Int) throws -> (inputs: [Tensor], description: String) {
        let model = source.model
        if let reference {
            guard model.inputShapes.count == 1 else {
                throw ConversionError("reference files hold one input; \(source.displayPath) has \(model.inputShapes.count)")
            }
            if model.outputShapes.count == 1 {
                try reference.checkShapes(modelInput: model.inputShape, modelOutput: model.outputShape, modelPath: source.displayPath)
            }
            return ([reference.inputs], "\(reference.inputs.batchCount) reference samples from \(reference.path)")
        }
        let inputs = model.inputShapes.enumerated().map { k, shape in generatedInputs([samples] + shape, seed: UInt64(k + 1)) }
        return (inputs, "\(samples) generated samples (uniform in [0, 1), fixed seed)")
    }

    /// Runs `source` and `converted` on `inputs` and compares every output element.
    public static func verify(source: any Model, converted: any Model, inputs: [Tensor], description: String,
                              atol: Float, rtol: Float) throws -> Verification {
        let expected = try source.predict(inputs: inputs)
        // An NCHW ONNX input takes the same images with channels moved first.
        let convertedInputs = try zip(inputs, converted.inputShapes).map { x, shape -> Tensor in
            if x.sampleShape == shape { return x }
            guard x.sampleShape.count == 3, shape == [x.sampleShape[2], x.sampleShape[0], x.sampleShape[1]] else {
                throw ConversionError("the converted model takes inputs of shape \(shape), the source \(x.sampleShape)")
            }
            return toChannelsFirst(x)
        }
        let actual = try converted.predict(inputs: convertedInputs)
        let outputs = try zip(actual, expected).map { a, e in
            let result = try Comparison(actual: a, expected: e, atol: atol, rtol: rtol)
            return Verification.Output(maxAbsoluteError: result.maxAbsoluteError, argmaxAgreements: result.argmaxAgreements,
                                       samples: result.samples, elementsOutsideTolerance: result.elementsOutsideTolerance)
        }
        return Verification(inputs: description, atol: atol, rtol: rtol, outputs: outputs)
    }

    /// Deterministic inputs in [0, 1) (SplitMix64), like pixel intensities.
    public static func generatedInputs(_ shape: [Int], seed: UInt64) -> Tensor {
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
    static func toChannelsFirst(_ x: Tensor) -> Tensor {
        let (n, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        var out = [Float](repeating: 0, count: x.count)
        for b in 0..<n { for y in 0..<h { for xx in 0..<w { for ch in 0..<c {
            out[((b * c + ch) * h + y) * w + xx] = x.scalars[((b * h + y) * w + xx) * c + ch]
        } } } }
        return Tensor(shape: [n, c, h, w], scalars: out)
    }
}

/// A conversion that cannot be done or checked, in words.
public struct ConversionError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

import Foundation
import ModelPortKeras
import ModelPortONNX
import ModelPortRuntime

/// A model file of any format the command line reads: Keras `.h5`,
/// `.keras`, `.weights.h5` (with a config) or ONNX `.onnx`, with what the
/// file says about itself. Keras-specific fields are nil for ONNX files.
public struct AnyModelFile {
    /// The format's name, for messages (`format.rawValue`).
    public struct Format: Sendable {
        public let rawValue: String
    }

    public let path: String
    public let model: any Model
    /// For a file read with `--untrusted`: the file the user named, its
    /// format, and the private directory holding the copy `path` names.
    public internal(set) var origin: (path: String, format: String, scratch: Untrusted.Scratch)?
    /// The file the user named, for messages.
    public var displayPath: String { origin?.path ?? path }
    public let keras: KerasModelFile?
    public let onnx: ONNXModelFile?

    public init(keras file: KerasModelFile) {
        path = file.path
        model = file.model
        keras = file
        onnx = nil
    }

    public init(onnx file: ONNXModelFile) {
        path = file.path
        model = file.model
        keras = nil
        onnx = file
    }

    public var format: Format {
        if let origin { return Format(rawValue: origin.format) }
        if let keras { return Format(rawValue: keras.format.rawValue) }
        return Format(rawValue: "ONNX (.onnx), opset \(onnx?.opset ?? 0), IR version \(onnx?.irVersion ?? 0)")
    }
    public var kerasVersion: String? { keras?.kerasVersion }
    public var backend: String? { keras?.backend }
    public var trainingConfig: JSONValue? { keras?.trainingConfig }
    public var kerasGeneration: String? { keras?.kerasGeneration }
    /// Who wrote an ONNX file ("tf2onnx 1.17.0", "ModelPort 0.4.0").
    public var producer: String? {
        guard let onnx, !onnx.producerName.isEmpty else { return nil }
        return onnx.producerName + (onnx.producerVersion.isEmpty ? "" : " " + onnx.producerVersion)
    }

    /// Whether `path` names an ONNX file (by extension; ONNX has no signature bytes).
    public static func isONNX(_ path: String) -> Bool { path.lowercased().hasSuffix(".onnx") }

    /// Loads `path` with the reader its format needs.
    /// - Throws: the reader's error, naming the file and the problem.
    public static func load(_ path: String, configPath: String? = nil) throws -> AnyModelFile {
        if Untrusted.enabled { return try Untrusted.loadModel(path, configPath: configPath) }
        return try loadTrusted(path, configPath: configPath)
    }

    /// `load` in this process, whatever `--untrusted` says (for files ModelPort just wrote).
    public static func loadTrusted(_ path: String, configPath: String? = nil) throws -> AnyModelFile {
        if isONNX(path) { return AnyModelFile(onnx: try ONNXImporter.load(path)) }
        return AnyModelFile(keras: try ModelLoader.load(path, configPath: configPath))
    }
}

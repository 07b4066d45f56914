import Foundation
import ModelPortData
import ModelPortImage
import ModelPortKeras
import ModelPortONNX
import ModelPortValidation

/// One reader of untrusted bytes, as libFuzzer and the corpus replay drive it.
///
/// Every target takes the bytes a stranger could hand ModelPort and passes
/// them through the same public entry point the command-line tool uses. A
/// thrown error is a correct answer to bad input; only a trap, a signal, a
/// sanitizer report, a hang or a runaway allocation is a finding.
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// Keras model config JSON -> runtime model (`ModelLoader.model(fromConfig:file:)`).
    case kerasConfig = "keras-config"
    /// Keras `.h5` model file -> runtime model with weights (`ModelLoader.load`).
    case h5
    /// Keras 3 `.keras` zip archive -> runtime model with weights (`ModelLoader.load`).
    case keras
    /// ONNX protobuf bytes -> runtime model (`ONNXImporter.decode` + `buildModel`).
    case onnx
    /// IDX (MNIST format) file, raw or gzip (`IDXFile(contentsOf:)`), then as
    /// labels or images the way `predict`, `evaluate` and `train` take it.
    case idx
    /// PNG, JPEG or PGM bytes -> pixels -> MNIST preprocessing (`ImageFile.decode`).
    case image
    /// Reference file (inputs, outputs, labels, layer outputs) (`ReferenceData.read`).
    case reference

    /// The file name extension the readers that need a file see.
    var fileExtension: String {
        switch self {
        case .kerasConfig: "json"
        case .h5, .reference: "h5"
        case .keras: "keras"
        case .onnx: "onnx"
        case .idx: "idx"
        case .image: "png"
        }
    }

    /// Feeds one input to the reader.
    /// - Returns: the error the reader threw (the expected answer to most
    ///   fuzzed inputs), or nil when the input was accepted.
    @discardableResult
    public func run(_ bytes: [UInt8]) -> (any Error)? {
        do {
            try feed(bytes)
            return nil
        } catch {
            return error
        }
    }

    /// What is wrong with a reader's error as a message for users, or nil.
    ///
    /// It must name the input (every target's input is named with "fuzz":
    /// `fuzz.onnx`, or the scratch file `modelport-fuzz-…`) and must not
    /// print Swift internals: module-qualified type names or raw NSError dumps.
    public static func messageProblem(_ error: any Error) -> String? {
        let message = "\(error)"
        if !message.contains("fuzz") { return "does not name the input file: \(message)" }
        for leak in ["ModelPortONNX.", "ModelPortKeras.", "ModelPortHDF5.", "ModelPortRuntime.", "ModelPortData.",
                     "ModelPortImage.", "ModelPortValidation.", "ModelPortFiles.", "Swift.", "NSCocoaErrorDomain", "Error Domain="]
        where message.contains(leak) {
            return "prints the Swift internal '\(leak)': \(message)"
        }
        return nil
    }

    private func feed(_ bytes: [UInt8]) throws {
        switch self {
        case .kerasConfig:
            // The readers decode configs as UTF-8 text; other bytes never reach the parser.
            guard let text = String(validating: bytes, as: UTF8.self) else { return }
            _ = try ModelLoader.model(fromConfig: text, file: "fuzz.json")
        case .h5:
            // ModelLoader picks the reader by the first bytes: keep the HDF5 path in focus.
            guard !bytes.starts(with: [0x50, 0x4B, 0x03, 0x04]) else { return }
            _ = try ModelLoader.load(ScratchFile.shared(for: self).write(bytes))
        case .keras:
            guard bytes.starts(with: [0x50, 0x4B, 0x03, 0x04]) else { return }
            _ = try ModelLoader.load(ScratchFile.shared(for: self).write(bytes))
        case .onnx:
            let proto = try ONNXImporter.decode(bytes, file: "fuzz.onnx")
            _ = try ONNXImporter.buildModel(proto, file: "fuzz.onnx")
        case .idx:
            let idx = try IDXFile(contentsOf: ScratchFile.shared(for: self).write(bytes))
            if idx.dimensions.count == 1 {
                _ = try MNIST.labels(idx)
            } else {
                _ = try MNIST.images(idx)
            }
        case .image:
            let pixels = try ImageFile.decode(bytes, path: "fuzz.png")
            _ = try MNISTPreprocessor()(GrayImage(pixels), path: "fuzz.png")
        case .reference:
            _ = try ReferenceData.read(ScratchFile.shared(for: self).write(bytes))
        }
    }
}

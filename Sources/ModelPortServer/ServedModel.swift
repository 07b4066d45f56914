import Foundation
import ModelPortFormats
import ModelPortRuntime

/// A model file the server was started with, loaded once.
public final class ServedModel: @unchecked Sendable {
    /// The name used in URLs: the file name without its extension, made unique.
    public let id: String
    public let file: AnyModelFile
    /// `NAME.reference.h5` beside the model, when there is one.
    public let referencePath: String?

    public var model: any Model { file.model }

    init(id: String, file: AnyModelFile) {
        self.id = id
        self.file = file
        referencePath = ServedModel.reference(beside: file.displayPath)
    }

    /// Whether the model takes one 28x28 grayscale image (784 values), as the digit page sends.
    public var takesDigits: Bool {
        model.inputShapes.count == 1 && model.inputShape.reduce(1, *) == 28 * 28 && model.outputShapes.count == 1
    }

    /// `dir/NAME.reference.h5` for `dir/NAME.h5`, `.keras` or `.onnx` (also `NAME.tf2onnx.onnx`).
    static func reference(beside path: String) -> String? {
        let url = URL(fileURLWithPath: path)
        var stem = url.deletingPathExtension().lastPathComponent
        let directory = url.deletingLastPathComponent()
        var candidates = [directory.appendingPathComponent(stem + ".reference.h5").path]
        // tools/make_onnx_fixtures.py's ONNX files sit in fixtures/onnx, their references one folder up.
        if stem.hasSuffix(".tf2onnx") { stem = String(stem.dropLast(".tf2onnx".count)) }
        candidates.append(directory.appendingPathComponent(stem + ".reference.h5").path)
        candidates.append(directory.deletingLastPathComponent().appendingPathComponent(stem + ".reference.h5").path)
        return candidates.first { FileManager.default.isReadableFile(atPath: $0) }
    }

    /// Short ids from file names: `mnist_digit_model.h5` -> `mnist_digit_model`; repeats get `-2`, `-3`.
    static func ids(for paths: [String]) -> [String] {
        var used: Set<String> = []
        return paths.map { path in
            var base = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
            base = String(base.map { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == "." ? $0 : "_" })
            if base.isEmpty { base = "model" }
            var id = base
            var n = 2
            while used.contains(id) { id = "\(base)-\(n)"; n += 1 }
            used.insert(id)
            return id
        }
    }
}

/// The models being served, by id; the first is the default.
public struct ModelRegistry: Sendable {
    public let models: [ServedModel]

    public init(models: [ServedModel]) { self.models = models }

    /// Loads each file (any format) in this process: these are the operator's own files.
    /// - Throws: the reader's error, naming the file.
    public static func load(_ paths: [String]) throws -> ModelRegistry {
        let ids = ServedModel.ids(for: paths)
        return ModelRegistry(models: try zip(ids, paths).map { id, path in
            ServedModel(id: id, file: try AnyModelFile.load(path))
        })
    }

    public func model(_ id: String?) throws -> ServedModel {
        guard let id, !id.isEmpty else {
            guard let first = models.first else { throw APIError(.notFound, "unknown_model", "no model is being served") }
            return first
        }
        guard let model = models.first(where: { $0.id == id }) else {
            throw APIError(.notFound, "unknown_model", "no model '\(id)' is served here; GET /api/models lists them (\(models.map(\.id).joined(separator: ", ")))")
        }
        return model
    }
}

import Foundation
import Hummingbird
import ModelPortFiles
import ModelPortFormats
import ModelPortValidation

/// `--allow-uploads`: a person's own model file (and optionally a reference
/// file) inspected, validated or converted. The files are parsed by
/// `Untrusted` in a resource-limited child `modelport` process, so a crafted
/// file that crashes or exhausts the reader ends that child, not the server;
/// they are deleted when the request is answered.
extension ModelServer {
    func addUploadRoutes(to router: Router<BasicRequestContext>) {
        router.post("/api/uploads/:action") { request, context in
            let action = try context.parameters.require("action")
            guard self.configuration.allowUploads else {
                throw APIError(.forbidden, "uploads_disabled", "this server does not accept model uploads (start it with --allow-uploads)")
            }
            guard ["inspect", "validate", "convert"].contains(action) else {
                throw APIError(.notFound, "not_found", "no upload action '\(action)'; use inspect, validate or convert")
            }
            return try await self.uploads.admit { try await self.handleUpload(request, action: action) }
        }
    }

    private func handleUpload(_ request: Request, action: String) async throws -> Response {
        guard ModelServer.mediaType(request) == "multipart/form-data" else {
            throw APIError(.unsupportedMediaType, "unsupported_content_type", "send the model as multipart/form-data, in a part named 'model'")
        }
        let body = try await ModelServer.body(of: request, limit: configuration.maxUploadBytes)
        let form = try Multipart(body: body, contentType: request.headers[.contentType] ?? "")
        guard let modelPart = form.part("model"), !modelPart.data.isEmpty else {
            throw APIError.badRequest("no_model", "the form has no model file (a part named 'model' with a .h5, .keras or .onnx file)")
        }
        let modelName = ModelServer.safeName(modelPart.filename ?? "model")
        let lower = modelName.lowercased()
        guard [".h5", ".hdf5", ".keras", ".onnx"].contains(where: { lower.hasSuffix($0) }), !lower.hasSuffix(".weights.h5") else {
            throw APIError.badRequest("unsupported_model_file", "\(modelName): upload a .h5, .keras or .onnx model file")
        }
        let directory = try uploads.makeDirectory()
        defer { uploads.remove(directory) }
        let modelPath = directory + "/" + modelName
        try AtomicFile.write(Data(modelPart.data), to: modelPath)
        var referencePath: String?
        var referenceName = ""
        if let part = form.part("reference"), !part.data.isEmpty {
            referenceName = ModelServer.safeName(part.filename ?? "reference.h5")
            if referenceName == modelName { referenceName = "reference-" + referenceName }
            referencePath = directory + "/" + referenceName
            try AtomicFile.write(Data(part.data), to: referencePath!)
        }
        if action == "validate" && referencePath == nil {
            throw APIError.badRequest("no_reference", "validation needs a reference file (a part named 'reference': HDF5 with inputs and outputs)")
        }
        let file: UncheckedBox<AnyModelFile>
        do {
            file = try await blocking { UncheckedBox(try Untrusted.loadModel(modelPath, configPath: nil)) }
        } catch {
            throw APIError(.unprocessableContent, "unreadable_model", ModelServer.scrub("\(error)", directory, modelName))
        }
        var reference: UncheckedBox<ReferenceData>?
        if let referencePath {
            do {
                reference = try await blocking { UncheckedBox(try Untrusted.readReference(referencePath)) }
            } catch {
                throw APIError(.unprocessableContent, "unreadable_reference", ModelServer.scrub("\(error)", directory, referenceName))
            }
        }
        let readReference = reference
        let stem = URL(fileURLWithPath: modelName).deletingPathExtension().lastPathComponent
        switch action {
        case "inspect":
            var details = ModelInspection.details(file.value, id: nil, referencePath: referencePath)
            details["file"] = modelName
            return try ModelServer.json(details)
        case "validate":
            let result = try await worker.run { UncheckedBox(try ModelServer.validate(file.value, reference: readReference!.value)) }
            return try ModelServer.json(result.value)
        default:
            return try await convert(file.value, name: stem, request: request) { readReference?.value }
        }
    }

    /// An uploaded file's name reduced to letters, digits, `._-` (never a path).
    static func safeName(_ name: String) -> String {
        let last = name.split(separator: "/").last.map(String.init) ?? name
        var cleaned = String(last.unicodeScalars.map { s -> Character in
            s.isASCII && (CharacterSet.alphanumerics.contains(s) || "._-".unicodeScalars.contains(s)) ? Character(s) : "_"
        }.prefix(100))
        while cleaned.hasPrefix(".") { cleaned.removeFirst() }
        return cleaned.isEmpty ? "upload" : cleaned
    }
}

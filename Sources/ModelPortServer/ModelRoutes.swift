import Foundation
import Hummingbird
import ModelPortFiles
import ModelPortFormats
import ModelPortRuntime
import ModelPortValidation

/// The workbench's API over the served models: inspect, validate against the
/// reference file beside the model, convert to the other formats.
extension ModelServer {
    func addModelRoutes(to router: Router<BasicRequestContext>) {
        router.get("/api/models") { [registry] _, _ in
            try ModelServer.json(["models": registry.models.map(ModelInspection.listing)])
        }
        router.get("/api/models/:id") { [registry] _, context in
            let served = try registry.model(context.parameters.require("id"))
            return try ModelServer.json(ModelInspection.details(served.file, id: served.id, referencePath: served.referencePath))
        }
        router.post("/api/models/:id/validate") { [registry] _, context in
            let served = try registry.model(context.parameters.require("id"))
            guard let referencePath = served.referencePath else {
                throw APIError(.notFound, "no_reference",
                               "model '\(served.id)' has no reference file beside it (\(served.id).reference.h5)")
            }
            let file = UncheckedBox(served.file)
            let result = try await self.worker.run {
                UncheckedBox(try ModelServer.validate(file.value, reference: try ReferenceData.read(referencePath)))
            }
            return try ModelServer.json(result.value)
        }
        router.get("/api/models/:id/convert") { [registry] request, context in
            let served = try registry.model(context.parameters.require("id"))
            let reference = served.referencePath
            return try await self.convert(served.file, name: served.id, request: request) {
                try reference.map(ReferenceData.read)
            }
        }
    }

    /// The tolerance of validation and conversion checks, `modelport validate`'s and `convert`'s default.
    static let atol: Float = 1e-5

    /// Runs `file`'s model on the reference inputs and compares every element
    /// of every output, as `modelport validate` (several inputs or outputs:
    /// the reference's `inputs/<name>`, `outputs/<name>` datasets).
    /// - Returns: the report as JSON (what `validate --json` prints; NaN and
    ///   infinite errors as strings).
    static func validate(_ file: AnyModelFile, reference ref: ReferenceData, atol: Float = ModelServer.atol, rtol: Float = 0) throws -> [String: Any] {
        let model = file.model
        let modelName = URL(fileURLWithPath: file.displayPath).lastPathComponent
        let referenceName = URL(fileURLWithPath: ref.path).lastPathComponent
        do {
            try ref.check(against: model, modelPath: modelName)
        } catch {
            throw APIError(.unprocessableContent, "shape_mismatch", "\(error)")
        }
        let result = try ReferenceValidation(model: model, reference: ref, modelPath: modelName, atol: atol, rtol: rtol)
        func number(_ x: Float) -> Any { x.isFinite ? Double(x) : "\(x)" }
        func fields(_ r: Comparison) -> [String: Any] {
            var object: [String: Any] = [
                "passed": r.passed, "samples": r.samples, "elements": r.elements,
                "max_abs_error": number(r.maxAbsoluteError), "max_rel_error": number(r.maxRelativeError),
                "elements_outside_tolerance": r.elementsOutsideTolerance, "argmax_agreement": r.argmaxAgreements,
                "worst": ["sample": r.worstSample, "element": r.worstElement,
                          "modelport": number(r.worstActual), "reference": number(r.worstExpected)],
            ]
            if let m = r.labelMatches { object["accuracy"] = Double(m) / Double(max(1, r.samples)) }
            if let m = r.referenceLabelMatches { object["reference_accuracy"] = Double(m) / Double(max(1, r.samples)) }
            return object
        }
        var object: [String: Any] = [
            "model": modelName, "reference": referenceName, "passed": result.passed,
            "samples": result.comparison.samples, "atol": Double(atol), "rtol": Double(rtol),
            "outputs": result.outputs.map { o in fields(o.comparison).merging(["name": o.name]) { a, _ in a } },
        ]
        // One output: its fields at the top level, as before several were supported.
        if result.outputs.count == 1 { object.merge(fields(result.comparison)) { a, _ in a } }
        return object
    }

    /// `?to=onnx|h5|keras` (and `keras_version=2|3` for h5): the converted
    /// file as a download, verified against the source first. The
    /// verification travels in the `X-ModelPort-Verification` header (JSON).
    func convert(_ source: AnyModelFile, name: String, request: Request,
                 reference: @escaping @Sendable () throws -> ReferenceData?) async throws -> Response {
        let query = request.uri.queryParameters
        let to = query["to"].map { String($0).lowercased() } ?? ""
        let version = query["keras_version"].map(String.init)
        let extensions = ["onnx": ".onnx", "h5": ".h5", "keras": ".keras"]
        guard let ext = extensions[to] else {
            throw APIError.badRequest("bad_target", "to must be one of onnx, h5, keras (got '\(to)')")
        }
        var options = ModelConversion.Options()
        if let version {
            guard to == "h5", let v = Int(version), v == 2 || v == 3 else {
                throw APIError.badRequest("bad_target", "keras_version applies to to=h5 and must be 2 or 3")
            }
            options.kerasVersion = v
        }
        let chosen = options
        let directory = try uploads.makeDirectory()
        defer { uploads.remove(directory) }
        let suffix = options.kerasVersion.map { "_keras\($0)" } ?? ""
        let filename = name + suffix + ext
        let output = directory + "/" + filename
        let box = UncheckedBox(source)
        let (description, verification) = try await worker.run { () -> (String, ModelConversion.Verification) in
            let source = box.value
            let written: ModelConversion.Written
            do { written = try ModelConversion.write(source, to: output, options: chosen) } catch {
                throw APIError(.unprocessableContent, "cannot_convert", ModelServer.scrub("\(error)", directory, filename))
            }
            let converted = try ModelConversion.readBack(output, source: source)
            let verification = try ModelConversion.verify(source.model, converted, inputDims: written.inputDims,
                                                          reference: try reference(), samples: 16,
                                                          sourcePath: name, atol: ModelServer.atol, rtol: 0)
            return (written.description, verification)
        }
        let bytes = try InputFile.read(output, maxBytes: 1 << 30)
        let summary: [String: Any] = [
            "file": filename, "written": description, "passed": verification.passed,
            // Directories stay on the server; the file names say enough.
            "inputs": verification.inputs.replacingOccurrences(of: #"/(?:[^/\s]+/)+"#, with: "", options: .regularExpression),
            "atol": Double(ModelServer.atol), "rtol": 0.0,
            "outputs": verification.outputs.map {
                ["max_abs_error": $0.maxAbsoluteError.isFinite ? Double($0.maxAbsoluteError) : -1,
                 "argmax_agreement": $0.argmaxAgreements, "samples": $0.samples,
                 "elements_outside_tolerance": $0.elementsOutsideTolerance] as [String: Any]
            },
        ]
        let header = String(decoding: try JSONSerialization.data(withJSONObject: summary, options: [.sortedKeys]), as: UTF8.self)
        let ascii = String(header.unicodeScalars.map { $0.isASCII && $0.value >= 32 ? Character($0) : "?" })
        let types = [".onnx": "application/octet-stream", ".h5": "application/x-hdf5", ".keras": "application/zip"]
        return Response(
            status: .ok,
            headers: [.contentType: types[ext] ?? "application/octet-stream",
                      .contentDisposition: "attachment; filename=\"\(filename)\"",
                      .init("X-ModelPort-Verification")!: ascii,
                      .init("Access-Control-Expose-Headers")!: "X-ModelPort-Verification"],
            body: .init(byteBuffer: .init(data: bytes)))
    }

    /// `text` with the private directory's path taken out (people see their file's name, not ours).
    static func scrub(_ text: String, _ directory: String, _ name: String) -> String {
        text.replacingOccurrences(of: directory + "/", with: "").replacingOccurrences(of: directory, with: name)
    }
}

/// Hands a value that is only ever used on one thread at a time across a
/// concurrency boundary (the compute thread).
struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

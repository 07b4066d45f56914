import Foundation
import Hummingbird
import ModelPortRuntime
import NIOCore

/// `POST /api/predict`: images (multipart, or a raw PNG/JPEG body) or JSON
/// pixels in, the model's answer out.
extension ModelServer {
    /// One input sample before it meets the model.
    struct Sample {
        var pixels: [Float]
        var inverted: Bool
        var file: String?
    }

    func addPredictRoutes(to router: Router<BasicRequestContext>) {
        router.post("/api/predict") { request, _ in try await self.predict(request) }
    }

    func predict(_ request: Request) async throws -> Response {
        let start = ContinuousClock.now
        let served = try registry.model(request.uri.queryParameters["model"].map(String.init))
        guard served.takesDigits else {
            throw APIError.badRequest("not_a_digit_model",
                                      "model '\(served.id)' takes inputs of shape \(served.model.inputShapes); /api/predict sends 28x28 digits")
        }
        let type = ModelServer.mediaType(request)
        let accepted = ["multipart/form-data", "image/png", "image/jpeg", "image/x-portable-graymap", "application/json"]
        guard accepted.contains(type) else {
            throw APIError(.unsupportedMediaType, "unsupported_content_type",
                           type.isEmpty ? "the request has no Content-Type; send \(accepted.joined(separator: ", "))"
                                        : "Content-Type '\(type)' is not accepted; send \(accepted.joined(separator: ", "))")
        }
        let body = try await ModelServer.body(of: request, limit: configuration.maxBodyBytes)
        guard !body.isEmpty else { throw APIError.badRequest("empty_body", "the request body is empty") }
        let (samples, batch) = try await decodeSamples(body, type: type, contentType: request.headers[.contentType] ?? "")
        let outputs = try await withThrowingTaskGroup(of: (Int, [Float]).self) { group in
            for (i, sample) in samples.enumerated() {
                group.addTask { (i, try await self.worker.predict(served.model, sample: sample.pixels)) }
            }
            var outputs = [[Float]](repeating: [], count: samples.count)
            for try await (i, output) in group { outputs[i] = output }
            return outputs
        }
        let predictions = zip(samples, outputs).map { sample, output in
            DigitPrediction(output: output, preprocessed: sample.pixels, inverted: sample.inverted, file: sample.file)
        }
        let elapsed = ModelServer.milliseconds(since: start)
        var json = JSONText(capacity: 6000 * predictions.count + 200)
        if !batch, let only = predictions.first {
            only.write(to: &json, model: served.id, elapsedMilliseconds: elapsed)
        } else {
            json.raw("{")
            json.key("elapsed_ms")
            json.number((elapsed * 1000).rounded() / 1000)
            json.key("model")
            json.string(served.id)
            json.key("predictions")
            json.raw("[")
            for (k, prediction) in predictions.enumerated() {
                if k > 0 { json.raw(",") }
                prediction.write(to: &json, model: served.id, elapsedMilliseconds: nil)
            }
            json.raw("]}")
        }
        return Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(bytes: json.bytes)))
    }

    /// The samples in a request body, and whether the client sent a batch.
    private func decodeSamples(_ body: [UInt8], type: String, contentType: String) async throws -> ([Sample], Bool) {
        let maxPixels = configuration.maxPixels
        switch type {
        case "application/json":
            return try ModelServer.pixelSamples(body, limit: configuration.maxImagesPerRequest)
        case "multipart/form-data":
            let form = try Multipart(body: body, contentType: contentType)
            let files = form.parts.filter { $0.filename != nil || $0.name == "image" || $0.name == "images" }
            guard !files.isEmpty else {
                throw APIError.badRequest("no_image", "the form has no file part; send the image as a part named 'image'")
            }
            guard files.count <= configuration.maxImagesPerRequest else {
                throw APIError(.contentTooLarge, "too_many_images", "\(files.count) images in one request; at most \(configuration.maxImagesPerRequest)")
            }
            // Decoding is CPU work: off the event loops, in parallel.
            let samples = try await withThrowingTaskGroup(of: (Int, Sample).self) { group in
                for (i, part) in files.enumerated() {
                    group.addTask {
                        let name = part.filename.map { $0.isEmpty ? "image \(i + 1)" : $0 } ?? "image \(i + 1)"
                        let result = try DigitPrediction.preprocess(Array(part.data), name: name, maxPixels: maxPixels)
                        return (i, Sample(pixels: result.image.pixels, inverted: result.inverted, file: name))
                    }
                }
                var samples = [Sample?](repeating: nil, count: files.count)
                for try await (i, sample) in group { samples[i] = sample }
                return samples.compactMap { $0 }
            }
            return (samples, files.count > 1)
        default:
            let result = try DigitPrediction.preprocess(body, name: "the uploaded image", maxPixels: maxPixels)
            return ([Sample(pixels: result.image.pixels, inverted: result.inverted, file: nil)], false)
        }
    }

    /// `{"pixels": [784 numbers]}` or `{"pixels": [[784 numbers], ...]}`, values in [0, 1]
    /// (white digit on black, as MNIST): the model's input as it is, not preprocessed.
    static func pixelSamples(_ body: [UInt8], limit: Int) throws -> ([Sample], Bool) {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(body))
        } catch {
            // JSON has no NaN; say so when that is what the client sent.
            let text = String(decoding: body.prefix(1 << 20), as: UTF8.self)
            if text.range(of: #"(?<![A-Za-z"])-?(NaN|Infinity)(?![A-Za-z"])"#, options: .regularExpression) != nil {
                throw APIError.badRequest("nan_in_pixels", "pixel values must be finite numbers; the body holds NaN or Infinity")
            }
            throw APIError.badRequest("malformed_json", "the body is not valid JSON (\(ModelServer.jsonProblem(error)))")
        }
        guard let dictionary = object as? [String: Any], let pixels = dictionary["pixels"] else {
            throw APIError.badRequest("malformed_json", #"expected a JSON object {"pixels": [784 numbers]} or {"pixels": [[784 numbers], ...]}"#)
        }
        guard let array = pixels as? [Any], !array.isEmpty else {
            throw APIError.badRequest("wrong_pixel_count", "\"pixels\" must be a non-empty array of 784 numbers (28x28, row by row)")
        }
        let batch = array.first is [Any]
        let rows: [Any] = batch ? array : [array]
        guard rows.count <= limit else {
            throw APIError(.contentTooLarge, "too_many_images", "\(rows.count) samples in one request; at most \(limit)")
        }
        let samples = try rows.enumerated().map { k, row -> Sample in
            let which = batch ? "sample \(k): " : ""
            guard let values = row as? [Any] else {
                throw APIError.badRequest("wrong_pixel_count", "\(which)expected an array of 784 numbers")
            }
            guard values.count == 784 else {
                throw APIError.badRequest("wrong_pixel_count", "\(which)expected 784 pixel values (28x28), got \(values.count)")
            }
            var floats = [Float](repeating: 0, count: 784)
            for (i, value) in values.enumerated() {
                guard let number = value as? NSNumber, String(describing: type(of: value)) != "Bool" else {
                    // A string "NaN" is the usual way JSON encoders write NaN.
                    if let s = value as? String, ["nan", "-nan", "infinity", "-infinity", "inf", "-inf"].contains(s.lowercased()) {
                        throw APIError.badRequest("nan_in_pixels", "\(which)pixel \(i) is \(s); pixel values must be finite numbers")
                    }
                    throw APIError.badRequest("malformed_json", "\(which)pixel \(i) is not a number")
                }
                let x = number.doubleValue
                guard x.isFinite else { throw APIError.badRequest("nan_in_pixels", "\(which)pixel \(i) is not a finite number") }
                guard x >= 0, x <= 1 else {
                    throw APIError.badRequest("pixel_out_of_range", "\(which)pixel \(i) is \(x); values must be in [0, 1] (0 background, 1 ink)")
                }
                floats[i] = Float(x)
            }
            return Sample(pixels: floats, inverted: false, file: nil)
        }
        return (samples, batch)
    }

    /// A JSON parser's complaint in a few words, without Foundation's error dump.
    static func jsonProblem(_ error: any Error) -> String {
        let info = (error as NSError).userInfo
        if let debug = info[NSDebugDescriptionErrorKey] as? String, !debug.isEmpty { return debug }
        return "it could not be parsed"
    }
}

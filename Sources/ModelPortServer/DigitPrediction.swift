import Foundation
import ModelPortImage
import ModelPortRuntime

/// From an uploaded image or raw pixels to the model's answer, the way
/// `modelport predict` does it for an image file.
struct DigitPrediction: Sendable {
    var label: Int
    var probabilities: [Float]
    /// The 28x28 picture the model saw, row by row, values in [0, 1].
    var preprocessed: [Float]
    /// Whether the image had a light background and was inverted.
    var inverted: Bool
    var file: String?

    /// The answer as a JSON object: `{confidence, elapsed_ms, file, inverted, label, model, preprocessed, probabilities}`.
    func write(to json: inout JSONText, model: String, elapsedMilliseconds: Double?) {
        json.raw("{")
        json.key("confidence")
        json.number(probabilities.indices.contains(label) ? Double(probabilities[label]) : 0)
        if let elapsedMilliseconds {
            json.key("elapsed_ms")
            json.number((elapsedMilliseconds * 1000).rounded() / 1000)
        }
        if let file {
            json.key("file")
            json.string(file)
        }
        json.key("inverted")
        json.raw(inverted ? "true" : "false")
        json.key("label")
        json.number(label)
        json.key("model")
        json.string(model)
        json.key("preprocessed")
        json.raw("[")
        for row in stride(from: 0, to: preprocessed.count, by: 28) {
            json.raw(row == 0 ? "[" : ",[")
            for (k, x) in preprocessed[row..<min(row + 28, preprocessed.count)].enumerated() {
                if k > 0 { json.raw(",") }
                json.unitFraction(x)
            }
            json.raw("]")
        }
        json.raw("]")
        json.key("probabilities")
        json.raw("[")
        for (k, p) in probabilities.enumerated() {
            if k > 0 { json.raw(",") }
            json.number(Double(p))
        }
        json.raw("]}")
    }

    /// An image's 28x28 MNIST-style input (`MNISTPreprocessor`, as `modelport predict` uses).
    /// - Throws: `APIError` 413 for an image declaring more than `maxPixels`
    ///   (checked on the header, before decoding), 400 for one that cannot be decoded, 422 for one
    ///   with no digit in it.
    static func preprocess(_ bytes: [UInt8], name: String, maxPixels: Int) throws -> MNISTPreprocessor.Result {
        guard !bytes.isEmpty else { throw APIError.badRequest("empty_image", "\(name): the image is empty") }
        if let size = ImageDimensions.of(bytes) {
            let (width, height) = size
            if width > maxPixels || height > maxPixels || width * height > maxPixels {
                throw APIError(.contentTooLarge, "image_too_large",
                               "\(name): the image declares \(width)x\(height) pixels, more than this server decodes (\(maxPixels) pixels)")
            }
        }
        let image: PixelImage
        do { image = try ImageFile.decode(bytes, path: name) } catch let error as ImageError {
            throw APIError.badRequest("unreadable_image", error.description)
        }
        do { return try MNISTPreprocessor()(GrayImage(image), path: name) } catch let error as ImageError {
            throw APIError(.unprocessableContent, "no_digit", error.description)
        }
    }

    /// The answer for one sample's output scalars.
    init(output: [Float], preprocessed: [Float], inverted: Bool, file: String?) {
        // A NaN never wins: an all-NaN output has no label (-1).
        var best = -1
        for (i, p) in output.enumerated() where p.isFinite && (best < 0 || p > output[best]) { best = i }
        label = best
        probabilities = output
        self.preprocessed = preprocessed
        self.inverted = inverted
        self.file = file
    }
}

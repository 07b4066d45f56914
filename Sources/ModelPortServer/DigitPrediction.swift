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

    func json(model: String, elapsedMilliseconds: Double?) -> [String: Any] {
        var object: [String: Any] = [
            "label": label,
            "confidence": Double(probabilities.indices.contains(label) ? probabilities[label] : 0),
            "probabilities": probabilities.map { $0.isFinite ? Double($0) as Any : NSNull() },
            "preprocessed": stride(from: 0, to: preprocessed.count, by: 28).map { row in
                preprocessed[row..<min(row + 28, preprocessed.count)].map { (Double($0) * 1000).rounded() / 1000 }
            },
            "inverted": inverted,
            "model": model,
        ]
        if let file { object["file"] = file }
        if let elapsedMilliseconds { object["elapsed_ms"] = (elapsedMilliseconds * 1000).rounded() / 1000 }
        return object
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

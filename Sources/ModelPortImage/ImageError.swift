/// An image that cannot be used, with the file named.
public struct ImageError: Error, CustomStringConvertible, Sendable {
    public let path: String
    public let message: String
    public init(_ path: String, _ message: String) {
        self.path = path
        self.message = message
    }
    public var description: String { "\(path): \(message)" }
}

/// Sizes beyond which an image is refused before any pixel memory is allocated.
public enum ImageLimits {
    /// Largest width x height decoded (a 12,000 x 8,000 photo is 96 MP; digits need far less).
    public static let maxPixels = 50_000_000
    /// Largest image file read.
    public static let maxFileBytes = 200 << 20

    /// - Throws: `ImageError` for a zero or oversized declared size.
    static func check(width: Int, height: Int, path: String) throws {
        guard width > 0, height > 0 else {
            throw ImageError(path, "declares an empty image (\(width)x\(height))")
        }
        guard width <= maxPixels, height <= maxPixels, width * height <= maxPixels else {
            throw ImageError(path, "declares \(width)x\(height) pixels, more than ModelPort decodes (\(maxPixels / 1_000_000) megapixels)")
        }
    }
}

/// The text of a NUL-terminated C message buffer.
func cText(_ buffer: [CChar]) -> String {
    String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

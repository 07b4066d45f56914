import Foundation
import ModelPortFiles

/// Reads an image file of any supported format, chosen by its first bytes.
public enum ImageFile {
    /// File name extensions treated as images when scanning a directory.
    public static let extensions: Set<String> = ["png", "jpg", "jpeg", "pgm"]

    /// - Throws: `ImageError` naming `path`: missing, empty, too large, an
    ///   unsupported format, or whatever the decoder reports.
    public static func read(_ path: String) throws -> PixelImage {
        let data: Data
        do { data = try InputFile.read(path, maxBytes: ImageLimits.maxFileBytes) } catch {
            switch error.kind {
            case .notRegularFile: throw ImageError(path, "\(error.message), not an image")
            case .tooLarge: throw ImageError(path, "\(error.message) as an image")
            default: throw ImageError(path, error.message)
            }
        }
        return try decode([UInt8](data), path: path)
    }

    /// Decodes bytes that were read from `path` (named in errors).
    public static func decode(_ bytes: [UInt8], path: String) throws -> PixelImage {
        guard !bytes.isEmpty else { throw ImageError(path, "the file is empty") }
        if PNGCodec.isPNG(bytes) { return try PNGCodec.decode(bytes, path: path) }
        if JPEGDecoder.isJPEG(bytes) { return try JPEGDecoder.decode(bytes, path: path) }
        if PGMCodec.isPGM(bytes) { return try PGMCodec.decode(bytes, path: path) }
        throw ImageError(path, "not a PNG, JPEG or PGM image (unrecognised first bytes \(bytes.prefix(4).map { String(format: "%02X", $0) }.joined(separator: " ")))")
    }
}

import Foundation

/// Reads an image file of any supported format, chosen by its first bytes.
public enum ImageFile {
    /// File name extensions treated as images when scanning a directory.
    public static let extensions: Set<String> = ["png", "jpg", "jpeg", "pgm"]

    /// - Throws: `ImageError` naming `path`: missing, empty, too large, an
    ///   unsupported format, or whatever the decoder reports.
    public static func read(_ path: String) throws -> PixelImage {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { throw ImageError(path, "no such file") }
        guard !isDirectory.boolValue else { throw ImageError(path, "is a directory, not an image") }
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        guard size <= ImageLimits.maxFileBytes else {
            throw ImageError(path, "is \(size) bytes, larger than ModelPort reads as an image (\(ImageLimits.maxFileBytes) bytes)")
        }
        guard let data = FileManager.default.contents(atPath: path) else { throw ImageError(path, "cannot be read") }
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

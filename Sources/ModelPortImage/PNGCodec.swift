import CPNG
import Foundation
import ModelPortFiles

/// PNG decoding and encoding through libpng's simplified API (see the CPNG
/// shim: libpng's longjmp never reaches Swift).
public enum PNGCodec {
    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    public static func isPNG(_ data: [UInt8]) -> Bool { data.starts(with: signature) }

    /// Decodes any PNG (palette, gray, 16-bit, interlaced, with or without
    /// alpha) to 8-bit RGBA, then drops channels that carry nothing.
    /// - Throws: `ImageError` naming `path` for a corrupt or truncated file or a
    ///   declared size beyond `ImageLimits`, checked before pixels are allocated.
    public static func decode(_ data: [UInt8], path: String) throws -> PixelImage {
        var image = png_image()
        var message = [CChar](repeating: 0, count: 256)
        let begun = data.withUnsafeBytes { buffer in
            modelport_png_begin(&image, buffer.baseAddress, buffer.count, &message, message.count)
        }
        guard begun != 0 else { throw ImageError(path, "not a readable PNG (libpng: \(cText(message)))") }
        let width = Int(image.width), height = Int(image.height)
        do {
            try ImageLimits.check(width: width, height: height, path: path)
        } catch {
            modelport_png_abort(&image)
            throw error
        }
        var pixels = [UInt8](repeating: 0, count: width * height * 4)
        let finished = data.withUnsafeBytes { _ in
            pixels.withUnsafeMutableBytes { out in modelport_png_finish(&image, out.baseAddress, &message, message.count) }
        }
        guard finished != 0 else {
            throw ImageError(path, "PNG data is corrupt or truncated (libpng: \(cText(message)))")
        }
        return PixelImage(width: width, height: height, channels: 4, bytes: pixels).simplified()
    }

    /// Encodes pixels as a PNG file's bytes.
    /// - Throws: `ImageError` when libpng refuses (it names the reason).
    public static func encode(_ image: PixelImage) throws -> [UInt8] {
        var out: UnsafeMutableRawPointer?
        var message = [CChar](repeating: 0, count: 256)
        let size = image.bytes.withUnsafeBytes { pixels in
            modelport_png_encode(pixels.baseAddress, UInt32(image.width), UInt32(image.height), UInt32(image.channels),
                                 &out, &message, message.count)
        }
        guard size > 0, let out else { throw ImageError("<png>", "cannot encode PNG (libpng: \(cText(message)))") }
        defer { modelport_png_free(out) }
        return [UInt8](UnsafeRawBufferPointer(start: out, count: size))
    }

    /// Writes `image` as a PNG file: to a temporary file beside `path`, then renamed.
    public static func write(_ image: PixelImage, to path: String) throws {
        try AtomicFile.write(Data(encode(image)), to: path)
    }
}

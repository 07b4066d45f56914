import CJPEG

/// JPEG decoding through libjpeg-turbo (see the CJPEG shim: errors and
/// warnings come back as return codes, never as a longjmp into Swift).
public enum JPEGDecoder {
    public static func isJPEG(_ data: [UInt8]) -> Bool { data.starts(with: [0xFF, 0xD8, 0xFF]) }

    /// Decodes to 8-bit RGB, simplified to gray when the channels are equal.
    /// - Throws: `ImageError` naming `path` for a corrupt or truncated file
    ///   (libpjeg's "premature end" warning included) or a declared size beyond
    ///   `ImageLimits`, checked before pixels are allocated.
    public static func decode(_ data: [UInt8], path: String) throws -> PixelImage {
        var width: UInt32 = 0, height: UInt32 = 0
        var components: Int32 = 0
        var message = [CChar](repeating: 0, count: 256)
        let ok = data.withUnsafeBufferPointer { buffer in
            modelport_jpeg_info(buffer.baseAddress, UInt(buffer.count), &width, &height, &components, &message, message.count)
        }
        guard ok != 0 else { throw ImageError(path, "not a readable JPEG (libjpeg: \(cText(message)))") }
        // libjpeg converts gray and YCbCr to RGB, but not CMYK/YCCK (print-shop JPEGs).
        guard components == 1 || components == 3 else {
            throw ImageError(path, components == 4
                ? "is a CMYK JPEG; ModelPort reads grayscale and RGB JPEGs (save it as RGB first)"
                : "is a JPEG with \(components) colour components; ModelPort reads grayscale and RGB JPEGs")
        }
        try ImageLimits.check(width: Int(width), height: Int(height), path: path)
        var pixels = [UInt8](repeating: 0, count: Int(width) * Int(height) * 3)
        let decoded = data.withUnsafeBufferPointer { buffer in
            pixels.withUnsafeMutableBufferPointer { out in
                modelport_jpeg_decode_rgb(buffer.baseAddress, UInt(buffer.count), width, height, out.baseAddress, &message, message.count)
            }
        }
        guard decoded != 0 else {
            throw ImageError(path, "JPEG data is corrupt or truncated (libjpeg: \(cText(message)))")
        }
        return PixelImage(width: Int(width), height: Int(height), channels: 3, bytes: pixels).simplified()
    }
}

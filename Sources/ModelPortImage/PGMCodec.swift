import Foundation

/// Netpbm graymaps, read and written by hand (the format is a short text
/// header and the samples): `P2` (ASCII) and `P5` (binary, 8 or 16 bits).
public enum PGMCodec {
    public static func isPGM(_ data: [UInt8]) -> Bool {
        data.count >= 2 && data[0] == UInt8(ascii: "P") && (data[1] == UInt8(ascii: "2") || data[1] == UInt8(ascii: "5"))
    }

    /// - Throws: `ImageError` naming `path` for a malformed header, a size
    ///   beyond `ImageLimits` (checked before allocating), or too little data.
    public static func decode(_ data: [UInt8], path: String) throws -> PixelImage {
        guard isPGM(data) else { throw ImageError(path, "not a PGM file (does not start with P2 or P5)") }
        let binary = data[1] == UInt8(ascii: "5")
        var reader = TokenReader(data: data, position: 2)
        func header(_ what: String) throws -> Int {
            guard let value = reader.integer() else { throw ImageError(path, "PGM header is missing or has a bad \(what)") }
            return value
        }
        let width = try header("width"), height = try header("height"), maxValue = try header("maximum value")
        try ImageLimits.check(width: width, height: height, path: path)
        guard (1...65535).contains(maxValue) else { throw ImageError(path, "PGM maximum value \(maxValue) is outside 1...65535") }
        let count = width * height
        var pixels = [UInt8](repeating: 0, count: count)
        let scale = { (v: Int) -> UInt8 in UInt8((min(v, maxValue) * 255 + maxValue / 2) / maxValue) }
        if binary {
            // Exactly one whitespace byte separates the header from the samples.
            let start = reader.position + 1
            let bytesPerSample = maxValue > 255 ? 2 : 1
            guard data.count - start >= count * bytesPerSample else {
                throw ImageError(path, "PGM data is truncated: \(width)x\(height) needs \(count * bytesPerSample) bytes, \(max(0, data.count - start)) present")
            }
            for i in 0..<count {
                let v = bytesPerSample == 1 ? Int(data[start + i]) : Int(data[start + 2 * i]) << 8 | Int(data[start + 2 * i + 1])
                pixels[i] = scale(v)
            }
        } else {
            for i in 0..<count {
                guard let v = reader.integer() else {
                    throw ImageError(path, "PGM data is truncated or malformed: sample \(i) of \(count) is missing")
                }
                pixels[i] = scale(v)
            }
        }
        return PixelImage(width: width, height: height, channels: 1, bytes: pixels)
    }

    /// Binary `P5` bytes of a gray image.
    /// - Precondition: `image.channels == 1`.
    public static func encode(_ image: PixelImage) -> [UInt8] {
        precondition(image.channels == 1, "PGM holds gray images only")
        return Array("P5\n\(image.width) \(image.height)\n255\n".utf8) + image.bytes
    }

    /// Whitespace-separated decimal tokens with `#` comments, as Netpbm headers have.
    struct TokenReader {
        let data: [UInt8]
        var position: Int

        mutating func integer() -> Int? {
            while position < data.count {
                let c = data[position]
                if c == UInt8(ascii: "#") {
                    while position < data.count && data[position] != 10 && data[position] != 13 { position += 1 }
                } else if c == 32 || (9...13).contains(c) {
                    position += 1
                } else {
                    break
                }
            }
            var value = 0, digits = 0
            while position < data.count, (48...57).contains(data[position]) {
                value = value * 10 + Int(data[position] - 48)
                digits += 1
                position += 1
                if digits > 9 { return nil }
            }
            return digits > 0 ? value : nil
        }
    }
}

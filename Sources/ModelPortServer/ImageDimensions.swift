/// The width and height an image file declares, read from its header alone,
/// so an upload claiming 100000x100000 pixels is refused before a decoder
/// allocates anything (decompression bombs).
enum ImageDimensions {
    /// - Returns: the declared size, or nil when the header is not one this
    ///   reader knows (the decoder then reports what is wrong).
    static func of(_ bytes: [UInt8]) -> (width: Int, height: Int)? {
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]) { return png(bytes) }
        if bytes.starts(with: [0xFF, 0xD8]) { return jpeg(bytes) }
        if bytes.starts(with: [0x50, 0x35]) || bytes.starts(with: [0x50, 0x32]) { return pgm(bytes) }
        return nil
    }

    /// IHDR is the first chunk: width and height are big-endian at bytes 16 and 20.
    private static func png(_ b: [UInt8]) -> (width: Int, height: Int)? {
        guard b.count >= 24 else { return nil }
        return (bigEndian(b, 16, 4), bigEndian(b, 20, 4))
    }

    /// The first start-of-frame marker (SOF0...SOF15 but DHT, JPG and DAC) holds height then width.
    private static func jpeg(_ b: [UInt8]) -> (width: Int, height: Int)? {
        var i = 2
        while i + 9 < b.count {
            guard b[i] == 0xFF else { return nil }
            let marker = b[i + 1]
            if marker == 0xFF { i += 1; continue }
            if marker == 0xD8 || marker == 0x01 || (0xD0...0xD7).contains(marker) { i += 2; continue }
            let length = bigEndian(b, i + 2, 2)
            if (0xC0...0xCF).contains(marker) && marker != 0xC4 && marker != 0xC8 && marker != 0xCC {
                return (bigEndian(b, i + 7, 2), bigEndian(b, i + 5, 2))
            }
            if marker == 0xDA || length < 2 { return nil }
            i += 2 + length
        }
        return nil
    }

    /// "P5 <width> <height> <max>" with comments after '#'.
    private static func pgm(_ b: [UInt8]) -> (width: Int, height: Int)? {
        var numbers: [Int] = []
        var i = 2
        while numbers.count < 2 && i < min(b.count, 4096) {
            let c = b[i]
            if c == UInt8(ascii: "#") {
                while i < b.count && b[i] != 0x0A { i += 1 }
            } else if (48...57).contains(c) {
                var value = 0
                while i < b.count, (48...57).contains(b[i]), value < 1 << 40 { value = value * 10 + Int(b[i] - 48); i += 1 }
                numbers.append(value)
                continue
            }
            i += 1
        }
        return numbers.count == 2 ? (numbers[0], numbers[1]) : nil
    }

    private static func bigEndian(_ b: [UInt8], _ at: Int, _ count: Int) -> Int {
        (0..<count).reduce(0) { $0 << 8 | Int(b[at + $1]) }
    }
}

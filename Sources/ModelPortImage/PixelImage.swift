/// Decoded 8-bit pixels, rows packed top to bottom, channels interleaved:
/// 1 = gray, 2 = gray + alpha, 3 = RGB, 4 = RGBA.
public struct PixelImage: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public let channels: Int
    public var bytes: [UInt8]

    /// - Precondition: `bytes.count == width * height * channels`, channels in 1...4.
    public init(width: Int, height: Int, channels: Int, bytes: [UInt8]) {
        precondition((1...4).contains(channels), "channels must be 1...4")
        precondition(bytes.count == width * height * channels, "\(bytes.count) bytes do not fill \(width)x\(height)x\(channels)")
        self.width = width
        self.height = height
        self.channels = channels
        self.bytes = bytes
    }

    public var hasAlpha: Bool { channels == 2 || channels == 4 }

    /// Drops channels that carry nothing: RGBA whose alpha is all 255 becomes
    /// RGB; RGB whose channels are equal becomes gray.
    public func simplified() -> PixelImage {
        var image = self
        if image.hasAlpha {
            let c = image.channels
            let bytes = image.bytes
            let opaque = stride(from: c - 1, to: bytes.count, by: c).allSatisfy { (i: Int) -> Bool in bytes[i] == 255 }
            if opaque {
                var out = [UInt8]()
                out.reserveCapacity(width * height * (c - 1))
                // Byte by byte: a slice per pixel (retain, release) made this the slowest step of a small image.
                for p in 0..<(width * height) { for k in 0..<(c - 1) { out.append(bytes[p * c + k]) } }
                image = PixelImage(width: width, height: height, channels: c - 1, bytes: out)
            }
        }
        if image.channels == 3 {
            let b = image.bytes
            let isGray = stride(from: 0, to: b.count, by: 3).allSatisfy { (i: Int) -> Bool in b[i] == b[i + 1] && b[i] == b[i + 2] }
            if isGray {
                let gray: [UInt8] = stride(from: 0, to: b.count, by: 3).map { (i: Int) -> UInt8 in b[i] }
                image = PixelImage(width: width, height: height, channels: 1, bytes: gray)
            }
        }
        return image
    }
}

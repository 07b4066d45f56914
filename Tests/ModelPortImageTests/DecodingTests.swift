import Foundation
import ModelPortImage
import Testing
import TestSupport

/// Decoding PNG, JPEG and PGM, checked against Pillow's reading of the same files.
struct DecodingTests {
    /// Pillow's 8-bit gray ("L") pixels of a file, with its size.
    func pillowGray(_ path: String) throws -> (width: Int, height: Int, pixels: [UInt8]) {
        let out = try python("""
            import sys
            from PIL import Image
            im = Image.open(sys.argv[1])
            if im.mode in ("RGBA", "LA", "P"):
                im = im.convert("RGBA")
                bg = Image.new("RGBA", im.size, (255, 255, 255, 255)); bg.alpha_composite(im); im = bg
            im = im.convert("RGB")
            w, h = im.size
            sys.stdout.buffer.write(w.to_bytes(4, "big") + h.to_bytes(4, "big") + im.tobytes())
            """, [path])
        let b = [UInt8](out)
        let w = Int(b[0]) << 24 | Int(b[1]) << 16 | Int(b[2]) << 8 | Int(b[3])
        let h = Int(b[4]) << 24 | Int(b[5]) << 16 | Int(b[6]) << 8 | Int(b[7])
        return (w, h, Array(b[8...]))
    }

    /// RGB of a decoded image (gray expanded), alpha composited over white like the Pillow script.
    func rgb(_ image: PixelImage) -> [UInt8] {
        var out: [UInt8] = []
        for p in 0..<(image.width * image.height) {
            let c = image.channels, b = image.bytes
            let a = image.hasAlpha ? Double(b[p * c + c - 1]) / 255 : 1
            for k in 0..<3 {
                let v = Double(c <= 2 ? b[p * c] : b[p * c + k])
                out.append(UInt8((v * a + 255 * (1 - a)).rounded()))
            }
        }
        return out
    }

    @Test(arguments: ["3/font_3.png", "5/drawn_5.png", "7/odd_7.png", "1/odd_1.png", "4/photo_4.pgm", "8/odd_8.pgm", "2/inverse_2.jpg", "6/odd_6.jpg"])
    func matchesPillow(_ name: String) throws {
        let path = TestPaths.fixtures.appendingPathComponent("images/" + name).path
        let image = try ImageFile.read(path)
        let reference = try pillowGray(path)
        #expect(image.width == reference.width && image.height == reference.height)
        let mine = rgb(image)
        #expect(mine.count == reference.pixels.count)
        // PNG and PGM are lossless: identical (±1 for alpha rounding). JPEG
        // decoders may differ by a level or two in the inverse DCT.
        let tolerance = name.hasSuffix(".jpg") ? 3 : 1
        let worst = zip(mine, reference.pixels).map { abs(Int($0) - Int($1)) }.max() ?? 0
        #expect(worst <= tolerance, "\(name): max difference \(worst)")
    }

    @Test func pngRoundTripsEveryChannelLayout() throws {
        for channels in 1...4 {
            let bytes = (0..<(7 * 5 * channels)).map { UInt8(truncatingIfNeeded: $0 &* 37) }
            var image = PixelImage(width: 7, height: 5, channels: channels, bytes: bytes)
            if image.hasAlpha { image.bytes = image.bytes.enumerated().map { $0.offset % channels == channels - 1 ? UInt8(100) : $0.element } }
            let decoded = try PNGCodec.decode(try PNGCodec.encode(image), path: "mem.png")
            // The decoder expands to RGBA and then drops what carries nothing: compare per pixel.
            #expect(decoded.width == 7 && decoded.height == 5)
            #expect(rgbaPixels(decoded) == rgbaPixels(image), "channels \(channels)")
        }
    }

    func rgbaPixels(_ image: PixelImage) -> [UInt8] {
        (0..<(image.width * image.height)).flatMap { p -> [UInt8] in
            let c = image.channels, b = image.bytes
            let color: [UInt8] = c <= 2 ? [b[p * c], b[p * c], b[p * c]] : [b[p * c], b[p * c + 1], b[p * c + 2]]
            return color + [image.hasAlpha ? b[p * c + c - 1] : 255]
        }
    }

    @Test func pgmAsciiAndBinaryAgree() throws {
        let ascii = Array("P2\n# comment\n3 2\n15\n0 5 10\n15 3 7\n".utf8)
        let a = try PGMCodec.decode(ascii, path: "a.pgm")
        #expect(a.bytes == [0, 85, 170, 255, 51, 119])
        let binary = try PGMCodec.decode(PGMCodec.encode(a), path: "b.pgm")
        #expect(binary == a)
        // 16-bit samples, big-endian.
        let wide = try PGMCodec.decode(Array("P5 2 1 65535\n".utf8) + [0xFF, 0xFF, 0x80, 0x00], path: "w.pgm")
        #expect(wide.bytes == [255, 128])
    }
}

/// Broken and hostile files: a clear error naming the file, never a crash or a huge allocation.
struct HostileImageTests {
    let dir = TestPaths.temporaryDirectory("hostile")

    func write(_ bytes: [UInt8], _ name: String) throws -> String {
        let path = dir.appendingPathComponent(name).path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    func expectError(_ path: String, _ words: String..., sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            _ = try ImageFile.read(path)
            Issue.record("\(path) should not decode", sourceLocation: sourceLocation)
        } catch let error as ImageError {
            #expect(error.description.hasPrefix(path), sourceLocation: sourceLocation)
            for w in words { #expect(error.description.contains(w), "\(error)", sourceLocation: sourceLocation) }
        } catch {
            Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
        }
    }

    /// A valid PNG whose IHDR is rewritten to `width` x `height` (CRC fixed).
    func pngDeclaring(width: UInt32, height: UInt32) throws -> [UInt8] {
        var png = try PNGCodec.encode(PixelImage(width: 2, height: 2, channels: 1, bytes: [0, 50, 100, 150]))
        // Signature (8), length (4), "IHDR" (4), then width and height.
        png.replaceSubrange(16..<20, with: bigEndian(width))
        png.replaceSubrange(20..<24, with: bigEndian(height))
        png.replaceSubrange(29..<33, with: bigEndian(crc32(Array(png[12..<29]))))
        return png
    }

    @Test func png() throws {
        let good = try PNGCodec.encode(PixelImage(width: 64, height: 64, channels: 1, bytes: (0..<4096).map { UInt8($0 % 251) }))
        expectError(try write(Array(good.prefix(good.count / 2)), "half.png"), "corrupt or truncated")
        expectError(try write(Array(good.prefix(20)), "header.png"), "PNG")
        expectError(try write(try pngDeclaring(width: 100_000, height: 100_000), "huge.png"), "100000x100000", "megapixels")
        expectError(try write(try pngDeclaring(width: 0, height: 5), "zero.png"), "PNG")
    }

    @Test func jpeg() throws {
        let path = TestPaths.fixtures.appendingPathComponent("images/2/inverse_2.jpg").path
        let good = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        expectError(try write(Array(good.prefix(good.count / 2)), "half.jpg"), "corrupt or truncated")
        expectError(try write(Array(good.prefix(4)), "stub.jpg"), "JPEG")
        // Rewrite the frame header (SOF0: FF C0, length, precision, height, width).
        var huge = good
        let sof = (0..<(huge.count - 1)).first { huge[$0] == 0xFF && huge[$0 + 1] == 0xC0 }!
        huge.replaceSubrange((sof + 5)..<(sof + 9), with: [0xEA, 0x60, 0xEA, 0x60])  // 60000 x 60000
        expectError(try write(huge, "huge.jpg"), "60000x60000", "megapixels")
        var zero = good
        zero.replaceSubrange((sof + 5)..<(sof + 7), with: [0, 0])
        expectError(try write(zero, "zero.jpg"), "JPEG")
    }

    @Test func pgm() throws {
        expectError(try write(Array("P5\n100000 100000\n255\n".utf8) + [1, 2, 3], "huge.pgm"), "100000x100000")
        expectError(try write(Array("P5\n0 7\n255\n".utf8), "zero.pgm"), "empty image")
        expectError(try write(Array("P5\n4 4\n255\n".utf8) + [1, 2, 3], "short.pgm"), "truncated")
        expectError(try write(Array("P2\n2 2\n255\n1 2 3".utf8), "short-ascii.pgm"), "sample 3 of 4")
        expectError(try write(Array("P5\nfour 4\n255\n".utf8), "word.pgm"), "width")
        expectError(try write(Array("P5 99999999999 1 255\n".utf8), "long.pgm"), "width")
    }

    @Test func otherFiles() throws {
        expectError(try write([], "empty.png"), "empty")
        expectError(try write(Array("hello, world".utf8), "text.png"), "not a PNG, JPEG or PGM")
        expectError(dir.appendingPathComponent("missing.png").path, "no such file")
        expectError(dir.path, "is a directory")
    }
}

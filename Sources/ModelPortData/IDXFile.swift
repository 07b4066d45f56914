import Foundation
import ModelPortFiles

/// An IDX file (the MNIST format): a big-endian header with a magic number
/// (two zero bytes, a type code, the number of dimensions), one 32-bit size
/// per dimension, then the raw data. ModelPort reads the unsigned-byte type
/// (code 0x08) that MNIST and Fashion-MNIST use; `.gz` files are inflated.
public struct IDXFile: Sendable {
    public let path: String
    public let dimensions: [Int]
    public let bytes: [UInt8]

    /// Largest IDX payload accepted (MNIST's training images are 47 MB).
    public static let maxBytes = 1 << 30

    /// - Throws: `DataError` for a wrong magic number, an unsupported type,
    ///   a header whose sizes disagree with the data, or corrupt gzip data.
    public init(contentsOf path: String) throws {
        // The header is read and checked before the data: a raw file's size
        // must match it (a 6 GB sparse file is refused unread), and a gzip
        // file is inflated no further than the header describes.
        let head: Data
        let size: Int
        do {
            size = try InputFile.check(path, maxBytes: IDXFile.maxBytes + 64).size
            head = try InputFile.prefix(path, count: 64)
        } catch {
            throw DataError(path, error.message)
        }
        let gzip = Gzip.isGzip(head)
        let raw: Data
        let dims: [Int], headerLength: Int
        if gzip {
            raw = try IDXFile.readAll(path)
            (dims, headerLength) = try IDXFile.parseHeader(Data(try Gzip.decompress(raw, limit: 64, atLimit: .stop, path: path)), path: path)
        } else {
            (dims, headerLength) = try IDXFile.parseHeader(head, path: path)
            try IDXFile.checkLength(have: size - headerLength, dims: dims, path: path)
            raw = try IDXFile.readAll(path)
        }
        let expected = dims.reduce(1, *)
        // One buffer for the payload: inflated into, then the header moved out of it in place
        // (MNIST's training images are 47 MB; each copy would be another 47).
        var data = gzip ? try Gzip.decompress(raw, limit: headerLength + expected, path: path) : [UInt8](raw)
        try IDXFile.checkLength(have: data.count - headerLength, dims: dims, path: path)
        self.path = path
        dimensions = dims
        data.removeFirst(headerLength)
        bytes = data
    }

    /// Throws unless `have` bytes of data are what `dims` describe.
    static func checkLength(have: Int, dims: [Int], path: String) throws {
        let expected = dims.reduce(1, *)
        guard have != expected else { return }
        throw DataError(path, have < expected
            ? "header says \(dims.map(String.init).joined(separator: " x ")) = \(expected) bytes of data, but only \(have) are present (truncated file?)"
            : "has \(have - expected) bytes after the \(expected) its header describes")
    }

    static func readAll(_ path: String) throws -> Data {
        do { return try InputFile.read(path, maxBytes: IDXFile.maxBytes + 64) } catch { throw DataError(path, error.message) }
    }

    static func parseHeader(_ data: Data, path: String) throws -> (dims: [Int], length: Int) {
        guard data.count >= 4 else { throw DataError(path, "too short to be an IDX file (\(data.count) bytes)") }
        let b = [UInt8](data.prefix(4))
        guard b[0] == 0, b[1] == 0 else {
            throw DataError(path, String(format: "not an IDX file (magic number 0x%02X%02X%02X%02X does not start with two zero bytes)", b[0], b[1], b[2], b[3]))
        }
        guard b[2] == 0x08 else {
            throw DataError(path, String(format: "IDX element type 0x%02X is not supported (only unsigned bytes, 0x08)", b[2]))
        }
        let rank = Int(b[3])
        guard (1...4).contains(rank) else { throw DataError(path, "IDX file declares \(rank) dimensions (1 to 4 supported)") }
        let length = 4 + 4 * rank
        guard data.count >= length else { throw DataError(path, "the IDX header is truncated") }
        var dims: [Int] = []
        // The product of the non-zero sizes, saturating: a zero size must not
        // hide two huge ones, whose product every later use of `dims` computes
        // (it overflowed Int and trapped).
        var total = 1
        for i in 0..<rank {
            let o = data.startIndex + 4 + 4 * i
            let d = Int(data[o]) << 24 | Int(data[o + 1]) << 16 | Int(data[o + 2]) << 8 | Int(data[o + 3])
            if d > 0 { total = total.multipliedReportingOverflow(by: d).overflow ? Int.max : total * d }
            dims.append(d)
        }
        guard total <= maxBytes else {
            throw DataError(path, "header declares \(dims.map(String.init).joined(separator: " x ")) elements, more than ModelPort reads (\(maxBytes) bytes)")
        }
        return (dims, length)
    }
}

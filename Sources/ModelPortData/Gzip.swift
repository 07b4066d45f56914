import CGzip
import Foundation

/// Decompresses gzip data through zlib without ever producing more than a
/// given number of bytes (a small hostile file must not expand into gigabytes).
enum Gzip {
    static func isGzip(_ data: Data) -> Bool {
        data.count >= 2 && data[data.startIndex] == 0x1f && data[data.startIndex + 1] == 0x8b
    }

    /// What to do when the output reaches the limit.
    enum AtLimit { case fail, stop }

    /// - Parameters:
    ///   - limit: the most bytes to produce.
    ///   - atLimit: `.fail` throws if the data holds more; `.stop` returns the
    ///     first `limit` bytes (used to peek at a header).
    /// - Returns: the bytes, in an array that was grown as they came (it
    ///   starts at eight times the compressed size, MNIST's ratio being
    ///   about five, so a whole file is usually inflated into one buffer
    ///   and never copied; a small hostile file grows it only as it
    ///   actually produces data).
    /// - Throws: `DataError` naming `path` for corrupt or truncated data, or
    ///   (with `.fail`) output beyond `limit`.
    static func decompress(_ data: Data, limit: Int, atLimit: AtLimit = .fail, path: String) throws -> [UInt8] {
        var stream = z_stream()
        // 16 + MAX_WBITS: expect a gzip header and trailer.
        guard inflateInit2_(&stream, 16 + MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw DataError(path, "cannot initialise zlib")
        }
        defer { inflateEnd(&stream) }
        // One byte beyond the limit tells "exactly the limit" from "more".
        let capacity = limit + 1
        var output = [UInt8](repeating: 0, count: min(capacity, max(1 << 20, 8 * data.count)))
        var produced = 0
        try data.withUnsafeBytes { (input: UnsafeRawBufferPointer) in
            stream.next_in = UnsafeMutablePointer(mutating: input.bindMemory(to: Bytef.self).baseAddress)
            stream.avail_in = uInt(input.count)
            while true {
                if produced == output.count {
                    guard output.count < capacity else { break }
                    output.append(contentsOf: repeatElement(0, count: min(output.count, capacity - output.count)))
                }
                let room = output.count - produced
                let status: Int32 = output.withUnsafeMutableBufferPointer { out in
                    stream.next_out = out.baseAddress! + produced
                    stream.avail_out = uInt(room)
                    return inflate(&stream, Z_NO_FLUSH)
                }
                produced += room - Int(stream.avail_out)
                if status == Z_STREAM_END { break }
                guard status == Z_OK || status == Z_BUF_ERROR else {
                    throw DataError(path, "gzip data is corrupt (\(stream.msg.map { String(cString: $0) } ?? String(cString: zError(status))))")
                }
                if stream.avail_in == 0 && stream.avail_out != 0 {
                    throw DataError(path, "gzip data ends early (truncated file)")
                }
            }
        }
        if produced > limit {
            if atLimit == .stop { return Array(output[0..<limit]) }
            throw DataError(path, "decompresses to more than \(limit) bytes, more than its header describes")
        }
        output.removeLast(output.count - produced)  // in place: no copy
        return output
    }
}

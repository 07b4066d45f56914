import Foundation

/// A `multipart/form-data` body (RFC 7578) split into its parts. The whole
/// body is already in memory, bounded by the server's body limit.
struct Multipart {
    struct Part {
        var name: String
        var filename: String?
        var contentType: String?
        var data: ArraySlice<UInt8>
    }

    var parts: [Part]

    /// - Throws: `APIError` (400) for a missing boundary or a body that is not
    ///   well-formed multipart.
    init(body: [UInt8], contentType: String) throws {
        guard let boundary = Multipart.parameter("boundary", in: contentType), !boundary.isEmpty, boundary.utf8.count <= 200 else {
            throw APIError.badRequest("malformed_multipart", "multipart/form-data needs a boundary parameter in its Content-Type")
        }
        let delimiter = Array(("--" + boundary).utf8)
        var starts = Multipart.occurrences(of: delimiter, in: body)
        guard starts.count >= 2 else {
            throw APIError.badRequest("malformed_multipart", "the multipart body has no complete part (boundary '\(boundary)' not found twice)")
        }
        parts = []
        let last = starts.removeLast()
        for (k, start) in starts.enumerated() {
            let end = k + 1 < starts.count ? starts[k + 1] : last
            var from = start + delimiter.count
            if body[from..<min(from + 2, body.count)].elementsEqual([13, 10]) { from += 2 }
            // The CRLF before the next delimiter belongs to the delimiter.
            var to = end
            if to - 2 >= from, body[to - 2] == 13, body[to - 1] == 10 { to -= 2 }
            guard from <= to else { continue }
            let section = body[from..<to]
            guard let split = Multipart.occurrences(of: [13, 10, 13, 10], in: section).first else {
                throw APIError.badRequest("malformed_multipart", "a part of the multipart body has no blank line after its headers")
            }
            let headerText = String(decoding: section[section.startIndex..<split], as: UTF8.self)
            var part = Part(name: "", filename: nil, contentType: nil, data: section[(split + 4)...])
            for line in headerText.split(separator: "\r\n") {
                let pieces = line.split(separator: ":", maxSplits: 1)
                guard pieces.count == 2 else { continue }
                let value = pieces[1].trimmingCharacters(in: .whitespaces)
                switch pieces[0].lowercased() {
                case "content-disposition":
                    part.name = Multipart.parameter("name", in: value) ?? ""
                    part.filename = Multipart.parameter("filename", in: value)
                case "content-type":
                    part.contentType = value
                default: break
                }
            }
            parts.append(part)
        }
    }

    /// The first part named `name`.
    func part(_ name: String) -> Part? { parts.first { $0.name == name } }

    /// `key=value` or `key="value"` from a header value's `;`-separated parameters.
    static func parameter(_ key: String, in header: String) -> String? {
        for item in header.split(separator: ";").dropFirst() {
            let pair = item.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, pair[0].trimmingCharacters(in: .whitespaces).lowercased() == key else { continue }
            var value = pair[1].trimmingCharacters(in: .whitespaces)
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
            return value
        }
        return nil
    }

    /// Start indices of every non-overlapping occurrence of `needle`.
    static func occurrences(of needle: [UInt8], in haystack: ArraySlice<UInt8>) -> [Int] {
        var found: [Int] = []
        guard let first = needle.first, needle.count <= haystack.count else { return found }
        var i = haystack.startIndex
        let end = haystack.endIndex - needle.count
        while i <= end {
            if haystack[i] == first && haystack[i..<(i + needle.count)].elementsEqual(needle) {
                found.append(i)
                i += needle.count
            } else {
                i += 1
            }
        }
        return found
    }

    static func occurrences(of needle: [UInt8], in haystack: [UInt8]) -> [Int] {
        occurrences(of: needle, in: haystack[...])
    }
}

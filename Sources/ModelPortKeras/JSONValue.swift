import Foundation

/// A parsed JSON value, as found in Keras's `model_config` and `config.json`.
public enum JSONValue: Sendable, Equatable, Codable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let d = try? c.decode(Double.self) { self = .number(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .number(let d): try c.encode(d)
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }

    /// Deepest nesting of arrays and objects accepted. Keras configs nest
    /// about a dozen levels, a few more for each nested model. Decoding
    /// recurses once per level, about 3.3 KB of stack each in a debug build,
    /// so 100 levels fit a 512 KB thread stack (150 did not).
    public static let maxDepth = 100

    /// Why text was refused before decoding.
    public struct TooDeep: Error, CustomStringConvertible {
        public var description: String { "JSON nested more than \(JSONValue.maxDepth) levels deep" }
    }

    /// Parses JSON text. Keras writes `NaN`/`Infinity` for some float
    /// arguments, which JSONDecoder accepts only when told to.
    /// - Throws: `TooDeep` for nesting beyond `maxDepth` (found by an
    ///   iterative scan, before any recursive decoding), or the decoder's error.
    public static func parse(_ text: String) throws -> JSONValue {
        try checkDepth(text)
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(
            positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return try decoder.decode(JSONValue.self, from: Data(text.utf8))
    }

    /// Parses the JSON text of `what` in `file` (`"the 'model_config' attribute"`).
    /// - Throws: `KerasImportError` naming the file: `what` "is not valid
    ///   JSON" (or `invalid`, when given), or nests too deep.
    static func parse(_ text: String, file: String, what: String, invalid: String? = nil) throws -> JSONValue {
        do {
            return try parse(text)
        } catch let tooDeep as TooDeep {
            throw KerasImportError(file: file, message: "\(what) is \(tooDeep)")
        } catch {
            throw KerasImportError(file: file, message: invalid ?? "\(what) is not valid JSON")
        }
    }

    /// Counts bracket nesting outside strings, without recursion.
    private static func checkDepth(_ text: String) throws {
        var depth = 0, inString = false, escaped = false
        for byte in text.utf8 {
            if inString {
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                guard depth <= maxDepth else { throw TooDeep() }
            case UInt8(ascii: "]"), UInt8(ascii: "}"): depth -= 1
            default: break
            }
        }
    }

    public subscript(key: String) -> JSONValue? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    public var string: String? { if case .string(let s) = self { return s }; return nil }
    public var number: Double? { if case .number(let d) = self { return d }; return nil }
    public var bool: Bool? { if case .bool(let b) = self { return b }; return nil }
    public var array: [JSONValue]? { if case .array(let a) = self { return a }; return nil }
    public var object: [String: JSONValue]? { if case .object(let o) = self { return o }; return nil }
    public var isNull: Bool { self == .null }

    /// An exact integer value (JSON numbers are doubles).
    public var int: Int? {
        guard let d = number, d.rounded() == d, abs(d) < 1e15 else { return nil }
        return Int(d)
    }

    /// Compact JSON text, for error messages.
    public var compactText: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(self)).flatMap { String(data: $0, encoding: .utf8) } ?? "\(self)"
    }
}

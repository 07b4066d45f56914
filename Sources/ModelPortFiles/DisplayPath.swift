/// A path as it is safe to print: control characters (which could move the
/// cursor, clear the screen or forge further lines of output) are shown as
/// escapes, the rest as it is.
public struct DisplayPath: CustomStringConvertible, Sendable {
    public let path: String
    public init(_ path: String) { self.path = path }
    public var description: String { DisplayPath.escapingControlCharacters(path, keepNewlines: false) }

    /// `text` with C0/C1 control characters and DEL written as `\n`, `\t`,
    /// `\x1B` or `\u{9B}`; newlines kept when `keepNewlines` (multi-line messages).
    public static func escapingControlCharacters(_ text: String, keepNewlines: Bool) -> String {
        guard text.unicodeScalars.contains(where: { isControl($0) && !(keepNewlines && $0 == "\n") }) else { return text }
        var out = ""
        for scalar in text.unicodeScalars {
            guard isControl(scalar), !(keepNewlines && scalar == "\n") else { out.unicodeScalars.append(scalar); continue }
            switch scalar {
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                let hex = String(scalar.value, radix: 16, uppercase: true)
                out += scalar.value < 0x80 ? "\\x" + (hex.count < 2 ? "0" + hex : hex) : "\\u{\(hex)}"
            }
        }
        return out
    }

    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
    }
}

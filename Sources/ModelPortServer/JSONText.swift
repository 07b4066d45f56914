/// JSON written straight into a byte buffer, for the prediction answers: the
/// server's hottest path, where Foundation's `JSONSerialization` (a dynamic
/// cast per number of the 784-value picture) cost more than the model itself.
struct JSONText {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int = 8192) { bytes.reserveCapacity(capacity) }

    mutating func raw(_ text: String) { bytes.append(contentsOf: text.utf8) }

    mutating func string(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        for unit in text.utf8 {
            switch unit {
            case UInt8(ascii: "\""): raw("\\\"")
            case UInt8(ascii: "\\"): raw("\\\\")
            case 0x0A: raw("\\n")
            case 0x0D: raw("\\r")
            case 0x09: raw("\\t")
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                bytes += Array("\\u00".utf8) + [hex[Int(unit >> 4)], hex[Int(unit & 15)]]
            default: bytes.append(unit)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// A number as Swift prints it (shortest round-trip form); null for NaN and infinities, which JSON lacks.
    mutating func number(_ x: Double) {
        guard x.isFinite else { raw("null"); return }
        if x == x.rounded(), abs(x) < 1e15 { raw(String(Int64(x))) } else { raw(String(x)) }
    }

    mutating func number(_ x: Int) { raw(String(x)) }

    /// A value in [0, 1] to three decimals ("0", "1", "0.5", "0.125"): the preprocessed picture.
    mutating func unitFraction(_ x: Float) {
        let thousandths = Int((min(max(x, 0), 1) * 1000).rounded())
        if thousandths == 0 { bytes.append(UInt8(ascii: "0")); return }
        if thousandths == 1000 { bytes.append(UInt8(ascii: "1")); return }
        var digits = [UInt8(ascii: "0") + UInt8(thousandths / 100), UInt8(ascii: "0") + UInt8(thousandths / 10 % 10),
                      UInt8(ascii: "0") + UInt8(thousandths % 10)]
        while digits.last == UInt8(ascii: "0") { digits.removeLast() }
        bytes += Array("0.".utf8) + digits
    }

    mutating func key(_ name: String) {
        if let last = bytes.last, last != UInt8(ascii: "{") { bytes.append(UInt8(ascii: ",")) }
        string(name)
        bytes.append(UInt8(ascii: ":"))
    }
}

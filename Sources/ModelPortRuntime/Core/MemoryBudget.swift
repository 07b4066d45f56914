import Foundation

/// How much memory one model's weights and activations may take, checked
/// before anything is allocated, so a tiny file that declares a huge model (or
/// a huge batch) gets an error instead of exhausting the machine.
///
/// The default is half of physical memory; `MODELPORT_MEMORY_LIMIT` (bytes,
/// or with a suffix: `512M`, `2G`) or a command's `--memory-limit` overrides it.
public enum MemoryBudget {
    /// The limit in bytes.
    public nonisolated(unsafe) static var limit: Int = {
        if let text = ProcessInfo.processInfo.environment["MODELPORT_MEMORY_LIMIT"], let bytes = parse(text) {
            return bytes
        }
        return defaultLimit
    }()

    /// Half of this machine's physical memory.
    public static var defaultLimit: Int { Int(clamping: ProcessInfo.processInfo.physicalMemory / 2) }

    /// Bytes from `1073741824`, `1024M`, `1G`, `1.5G` (K, M, G, T are powers
    /// of 1024; a trailing `B` or `iB` is allowed); nil for anything else.
    public static func parse(_ text: String) -> Int? {
        var s = text.trimmingCharacters(in: .whitespaces).uppercased()
        if s.hasSuffix("IB") { s.removeLast(2) } else if s.hasSuffix("B") { s.removeLast() }
        let scales: [Character: Double] = ["K": 0x1p10, "M": 0x1p20, "G": 0x1p30, "T": 0x1p40]
        var scale = 1.0
        if let last = s.last, let factor = scales[last] { scale = factor; s.removeLast() }
        guard !s.isEmpty, let value = Double(s), value.isFinite, value > 0 else { return nil }
        let bytes = value * scale
        guard bytes >= 1, bytes < Double(Int.max) else { return nil }
        return Int(bytes)
    }

    /// Throws unless `bytes` fits the limit.
    /// - Parameter what: what needs the memory, for the message
    ///   (`"the weights of model.h5"`, `"activations for a batch of 128"`).
    /// - Throws: `RuntimeError` saying how much is needed and how to raise the limit.
    public static func check(_ bytes: Int, for what: String) throws {
        guard bytes > limit else { return }
        throw RuntimeError(
            "\(what) would need \(describe(bytes)), more than the memory limit of \(describe(limit))"
                + " (raise it with --memory-limit or MODELPORT_MEMORY_LIMIT)")
    }

    /// Bytes of a tensor of `shape` with elements of `elementSize` bytes.
    /// - Throws: `RuntimeError` when a dimension is negative or the size overflows.
    public static func bytes(ofShape shape: [Int], elementSize: Int = MemoryLayout<Float>.size) throws -> Int {
        var total = elementSize
        for dimension in shape {
            guard dimension >= 0 else { throw RuntimeError("shape \(shape) has a negative dimension") }
            let (product, overflow) = total.multipliedReportingOverflow(by: dimension)
            guard !overflow else { throw RuntimeError("shape \(shape) has more elements than can be addressed") }
            total = product
        }
        return total
    }

    /// `a + b`, throwing instead of trapping on overflow.
    public static func sum(_ a: Int, _ b: Int) throws -> Int {
        let (total, overflow) = a.addingReportingOverflow(b)
        guard !overflow else { throw RuntimeError("sizes add up to more than can be addressed") }
        return total
    }

    /// `1.5 GB`, `512 MB`, `300 bytes`.
    public static func describe(_ bytes: Int) -> String {
        let units: [(Int, String)] = [(1 << 40, "TB"), (1 << 30, "GB"), (1 << 20, "MB"), (1 << 10, "KB")]
        for (size, name) in units where bytes >= size {
            return String(format: "%.1f", Double(bytes) / Double(size)) + " " + name
        }
        return "\(bytes) bytes"
    }
}

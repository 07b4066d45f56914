/// Caps on what a single read may allocate, as a defence against hostile files.
public enum HDF5Limits {
    /// Largest number of elements any single read will allocate; larger reads
    /// throw `.tooLarge` before allocating. Default `1 << 28`.
    ///
    /// For fixed-length strings the cap also applies to the total number of bytes.
    public nonisolated(unsafe) static var maxElements: Int = 1 << 28

    /// Largest rank HDF5 itself allows; anything larger in a file is damage.
    static let maxRank = 32

    /// Largest size of one fixed-length string element we accept from a file.
    static let maxFixedStringLength = 1 << 24

    /// The number of elements in an extent, checked against `limit`.
    ///
    /// - Throws: `HDF5Error` `.tooLarge` if the product overflows or exceeds `limit`,
    ///   `.corrupt` if a dimension does not fit in `Int`.
    static func checkedElementCount(
        _ dims: [UInt64], limit: Int, site: HDF5Site, operation: String
    ) throws(HDF5Error) -> Int {
        var count = 1
        for dim in dims {
            guard dim <= UInt64(Int.max) else {
                throw site.error(.corrupt, operation, "dimension \(dim) is not a valid size")
            }
            let (product, overflow) = count.multipliedReportingOverflow(by: Int(dim))
            guard !overflow else {
                throw site.error(.tooLarge, operation, "shape \(dims) has more elements than can be addressed")
            }
            count = product
        }
        guard count <= limit else {
            throw site.error(
                .tooLarge, operation,
                "shape \(dims) holds \(count) elements, more than the limit of \(limit) elements ModelPort reads from one dataset")
        }
        return count
    }

    /// `count * size` bytes, checked against `limit`.
    ///
    /// - Throws: `HDF5Error` `.tooLarge` if the product overflows or exceeds `limit`.
    static func checkedByteCount(
        _ count: Int, size: Int, limit: Int, site: HDF5Site, operation: String
    ) throws(HDF5Error) -> Int {
        let (bytes, overflow) = count.multipliedReportingOverflow(by: size)
        guard !overflow, bytes <= limit else {
            throw site.error(
                .tooLarge, operation,
                "\(count) strings of \(size) bytes exceed the limit of \(limit) bytes ModelPort reads from one dataset")
        }
        return bytes
    }
}

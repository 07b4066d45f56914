internal import CHDF5

/// Numeric element types that can be read and written: `Float`, `Double`,
/// `Int8`, `Int16`, `Int32`, `Int64`, `Int` (stored as int64), `UInt8`,
/// `UInt16`, `UInt32`, `UInt64`.
///
/// HDF5 converts between numeric types on read (integers to floats, doubles
/// to floats, out-of-range values clamped).
public protocol HDF5Scalar: Sendable, BitwiseCopyable {
    /// How values of this type are stored; must be numeric and match the
    /// type's size in memory (checked before any read or write).
    static var hdf5ElementType: HDF5ElementType { get }
}

extension Float: HDF5Scalar { public static var hdf5ElementType: HDF5ElementType { .float32 } }
extension Double: HDF5Scalar { public static var hdf5ElementType: HDF5ElementType { .float64 } }
extension Int8: HDF5Scalar { public static var hdf5ElementType: HDF5ElementType { .int8 } }
extension Int16: HDF5Scalar { public static var hdf5ElementType: HDF5ElementType { .int16 } }
extension Int32: HDF5Scalar { public static var hdf5ElementType: HDF5ElementType { .int32 } }
extension Int64: HDF5Scalar { public static var hdf5ElementType: HDF5ElementType { .int64 } }
extension Int: HDF5Scalar {
    public static var hdf5ElementType: HDF5ElementType { MemoryLayout<Int>.size == 8 ? .int64 : .int32 }
}
extension UInt8: HDF5Scalar { public static var hdf5ElementType: HDF5ElementType { .uint8 } }
extension UInt16: HDF5Scalar { public static var hdf5ElementType: HDF5ElementType { .uint16 } }
extension UInt32: HDF5Scalar { public static var hdf5ElementType: HDF5ElementType { .uint32 } }
extension UInt64: HDF5Scalar { public static var hdf5ElementType: HDF5ElementType { .uint64 } }

extension HDF5Scalar {
    /// HDF5's native type for `Self`, after checking the conformance is sound.
    ///
    /// - Throws: `HDF5Error` `.invalidArgument` if `hdf5ElementType` is not
    ///   numeric or its size differs from `MemoryLayout<Self>.size`.
    static func nativeTypeID(site: HDF5Site, operation: String) throws(HDF5Error) -> hid_t {
        let element = hdf5ElementType
        guard let size = element.numericSize, size == MemoryLayout<Self>.size, MemoryLayout<Self>.stride == size,
              let id = element.nativeTypeID
        else {
            throw HDF5Error(
                kind: .invalidArgument, file: site.file, objectPath: site.path, operation: operation,
                message: "\(Self.self) declares element type \(element), which does not match its memory layout")
        }
        return id
    }
}

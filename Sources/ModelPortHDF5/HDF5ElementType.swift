internal import CHDF5

/// The kind of element a dataset or attribute holds, as stored in the file.
public enum HDF5ElementType: Sendable, Equatable {
    case float32, float64
    case int8, int16, int32, int64
    case uint8, uint16, uint32, uint64
    /// Fixed- or variable-length string.
    case string
    /// Anything else (half floats, enums such as h5py booleans, compounds, ...),
    /// with a short description.
    case other(String)

    /// Size in bytes of one element of a numeric type, `nil` otherwise.
    var numericSize: Int? {
        switch self {
        case .int8, .uint8: 1
        case .int16, .uint16: 2
        case .float32, .int32, .uint32: 4
        case .float64, .int64, .uint64: 8
        case .string, .other: nil
        }
    }

    /// HDF5's native (in-memory) type for a numeric element type; a library
    /// constant, never closed.
    var nativeTypeID: hid_t? {
        switch self {
        case .float32: mp_H5T_NATIVE_FLOAT()
        case .float64: mp_H5T_NATIVE_DOUBLE()
        case .int8: mp_H5T_NATIVE_INT8()
        case .int16: mp_H5T_NATIVE_INT16()
        case .int32: mp_H5T_NATIVE_INT32()
        case .int64: mp_H5T_NATIVE_INT64()
        case .uint8: mp_H5T_NATIVE_UINT8()
        case .uint16: mp_H5T_NATIVE_UINT16()
        case .uint32: mp_H5T_NATIVE_UINT32()
        case .uint64: mp_H5T_NATIVE_UINT64()
        case .string, .other: nil
        }
    }

    /// Classifies an HDF5 datatype. Call with the lock held.
    static func classify(_ type: hid_t) -> HDF5ElementType {
        let size = H5Tget_size(type)
        switch H5Tget_class(type) {
        case H5T_FLOAT:
            switch size {
            case 4: return .float32
            case 8: return .float64
            default: return .other("float\(size * 8)")
            }
        case H5T_INTEGER:
            let signed = H5Tget_sign(type) != H5T_SGN_NONE
            switch (size, signed) {
            case (1, true): return .int8
            case (2, true): return .int16
            case (4, true): return .int32
            case (8, true): return .int64
            case (1, false): return .uint8
            case (2, false): return .uint16
            case (4, false): return .uint32
            case (8, false): return .uint64
            default: return .other("\(signed ? "int" : "uint")\(size * 8)")
            }
        case H5T_STRING: return .string
        case H5T_TIME: return .other("time")
        case H5T_BITFIELD: return .other("bitfield")
        case H5T_OPAQUE: return .other("opaque")
        case H5T_COMPOUND: return .other("compound")
        case H5T_REFERENCE: return .other("reference")
        case H5T_ENUM: return .other("enum")
        case H5T_VLEN: return .other("vlen")
        case H5T_ARRAY: return .other("array")
        default:
            clearHDF5ErrorStack()
            return .other("unknown")
        }
    }
}

internal import CHDF5
import Foundation

/// The elements of one open dataset or attribute: shape, type, reads and writes.
///
/// Attributes and datasets differ only in which C functions reach their type,
/// dataspace and data; everything else (limits, conversions, strings) is shared.
/// All methods take the HDF5 lock themselves.
struct HDF5Payload {
    enum Source {
        case dataset(HDF5Handle)
        case attribute(HDF5Handle)
    }

    let source: Source
    let site: HDF5Site
    /// What the payload is, for operation names: `dataset` or `attribute 'units'`.
    let noun: String

    /// The file datatype. Call with the lock held.
    func fileType(_ operation: String) throws(HDF5Error) -> HDF5Handle {
        switch source {
        case .dataset(let h): try site.own(H5Dget_type(h.id), .datatype, .corrupt, operation)
        case .attribute(let h): try site.own(H5Aget_type(h.id), .datatype, .corrupt, operation)
        }
    }

    /// The file dataspace. Call with the lock held.
    func space(_ operation: String) throws(HDF5Error) -> HDF5Handle {
        switch source {
        case .dataset(let h): try site.own(H5Dget_space(h.id), .dataspace, .corrupt, operation)
        case .attribute(let h): try site.own(H5Aget_space(h.id), .dataspace, .corrupt, operation)
        }
    }

    /// Reads every element, converted to `memType`, into `buffer`. Call with the lock held.
    private func rawRead(_ memType: hid_t, _ buffer: UnsafeMutableRawPointer) -> herr_t {
        switch source {
        case .dataset(let h): H5Dread(h.id, memType, mp_H5S_ALL(), mp_H5S_ALL(), mp_H5P_DEFAULT(), buffer)
        case .attribute(let h): H5Aread(h.id, memType, buffer)
        }
    }

    /// Writes every element, given as `memType`, from `buffer`. Call with the lock held.
    private func rawWrite(_ memType: hid_t, _ buffer: UnsafeRawPointer) -> herr_t {
        switch source {
        case .dataset(let h): H5Dwrite(h.id, memType, mp_H5S_ALL(), mp_H5S_ALL(), mp_H5P_DEFAULT(), buffer)
        case .attribute(let h): H5Awrite(h.id, memType, buffer)
        }
    }

    // MARK: - Shape and type

    /// The dimensions of a dataspace: `[]` for scalar, `[0]` for a null dataspace.
    ///
    /// Call with the lock held.
    /// - Throws: `HDF5Error` `.corrupt` for an unreadable or implausible dataspace.
    func dimensions(of space: HDF5Handle, _ operation: String) throws(HDF5Error) -> [UInt64] {
        switch H5Sget_simple_extent_type(space.id) {
        case H5S_SCALAR:
            return []
        case H5S_NULL:
            return [0]
        case H5S_SIMPLE:
            let rank = H5Sget_simple_extent_ndims(space.id)
            try site.check(rank, .corrupt, operation)
            guard rank <= HDF5Limits.maxRank else {
                throw site.error(.corrupt, operation, "dataspace has rank \(rank), more than HDF5's maximum of 32")
            }
            var dims = [hsize_t](repeating: 0, count: Int(rank))
            if rank > 0 {
                let got = H5Sget_simple_extent_dims(space.id, &dims, nil)
                try site.check(got, .corrupt, operation)
                guard got == rank else {
                    throw site.error(.corrupt, operation, "dataspace reported rank \(rank) but \(got) dimensions")
                }
            }
            return dims.map { UInt64($0) }
        default:
            throw site.failure(.corrupt, operation, "dataspace has no valid extent")
        }
    }

    /// The shape: `[]` for scalar.
    /// - Throws: `HDF5Error` `.corrupt` for implausible dimensions.
    func shape() throws(HDF5Error) -> [Int] {
        let operation = "read shape of \(noun)"
        return try withHDF5 { () throws(HDF5Error) -> [Int] in
            let space = try self.space(operation)
            let dims = try dimensions(of: space, operation)
            var shape: [Int] = []
            for dim in dims {
                guard dim <= UInt64(Int.max) else {
                    throw site.error(.corrupt, operation, "dimension \(dim) is not a valid size")
                }
                shape.append(Int(dim))
            }
            return shape
        }
    }

    /// The element type as stored.
    /// - Throws: `HDF5Error` `.corrupt` if the datatype cannot be read.
    func elementType() throws(HDF5Error) -> HDF5ElementType {
        try withHDF5 { () throws(HDF5Error) -> HDF5ElementType in
            let type = try fileType("read element type of \(noun)")
            return HDF5ElementType.classify(type.id)
        }
    }

    // MARK: - Reading

    /// Refuses a dataset whose data is not inside this file, or is not there
    /// at all, before anything is read. External storage (raw data in another
    /// file, `H5Pset_external`) and virtual datasets would make HDF5 read
    /// whatever file the dataset names (`/etc/passwd`, a FIFO, `/dev/zero`);
    /// a dataset declared but never written would read as gigabytes of fill
    /// values from a file of a few kilobytes. Call with the lock held.
    /// - Throws: `HDF5Error` `.refused` or `.corrupt`.
    func checkStorage(count: Int, elementSize: Int, _ operation: String) throws(HDF5Error) {
        guard case .dataset(let dataset) = source else { return }
        let plist = try site.own(H5Dget_create_plist(dataset.id), .propertyList, .corrupt, operation)
        let external = H5Pget_external_count(plist.id)
        try site.check(external, .corrupt, operation)
        guard external == 0 else {
            throw site.error(.refused, operation, "its data is kept in another file (HDF5 external storage); ModelPort reads only data stored inside the file")
        }
        let layout = H5Pget_layout(plist.id)
        guard layout != H5D_VIRTUAL else {
            throw site.error(.refused, operation, "it is a virtual dataset (its data comes from other files); ModelPort reads only data stored inside the file")
        }
        let stored = H5Dget_storage_size(dataset.id)
        let (declared, overflow) = count.multipliedReportingOverflow(by: elementSize)
        if layout == H5D_COMPACT {
            // Compact data lives in the object header; libhdf5 1.10 copies the
            // declared size out of it whatever the header holds (found by fuzzing).
            guard !overflow, stored >= UInt64(declared) else {
                throw site.error(.corrupt, operation, "declares \(count) elements but its header holds only \(stored) bytes")
            }
            return
        }
        guard layout == H5D_CONTIGUOUS || layout == H5D_CHUNKED else { return }
        var status = H5D_SPACE_STATUS_ERROR
        try site.check(H5Dget_space_status(dataset.id, &status), .corrupt, operation)
        guard status != H5D_SPACE_STATUS_NOT_ALLOCATED else {
            throw site.error(.corrupt, operation, "declares \(count) elements but stores none of them (its data was never written)")
        }
        // HDF5 1.10 calls a compressed chunked dataset "partly allocated", so
        // what is stored is compared with what is declared instead: deflate
        // compresses at most about 1:1032, so anything far beyond that holds
        // chunks that were never written (and would read as fill values).
        let enough = layout == H5D_CONTIGUOUS ? UInt64(declared) : UInt64(declared / 2048)
        guard !overflow, stored >= enough else {
            throw site.error(.corrupt, operation, "declares \(count) elements but stores only \(stored) bytes (parts of its data were never written)")
        }
    }

    /// Every element, converted by HDF5 to `T`, row-major.
    ///
    /// Enumerations over integers (h5py stores booleans that way) read as
    /// their integer values.
    /// - Throws: `HDF5Error` `.wrongType` for non-numeric data, `.tooLarge`
    ///   beyond `limit` elements, `.corrupt` if HDF5 cannot read the data.
    func readNumeric<T: HDF5Scalar>(_: T.Type, limit: Int) throws(HDF5Error) -> [T] {
        let operation = "read \(noun)"
        return try withHDF5 { () throws(HDF5Error) -> [T] in
            let memType = try T.nativeTypeID(site: site, operation: operation)
            let type = try fileType(operation)
            let typeClass = H5Tget_class(type.id)
            var integerEnum = false
            if typeClass == H5T_ENUM {
                let base = try site.own(H5Tget_super(type.id), .datatype, .corrupt, operation)
                integerEnum = H5Tget_class(base.id) == H5T_INTEGER
            }
            guard typeClass == H5T_INTEGER || typeClass == H5T_FLOAT || integerEnum else {
                let stored = HDF5ElementType.classify(type.id)
                throw site.error(.wrongType, operation, "holds \(describe(stored)) elements, not numbers")
            }
            let space = try self.space(operation)
            let count = try HDF5Limits.checkedElementCount(
                dimensions(of: space, operation), limit: limit, site: site, operation: operation)
            if count == 0 { return [] }
            try checkStorage(count: count, elementSize: H5Tget_size(type.id), operation)
            if integerEnum {
                return try readIntegerEnum(type, count: count, into: memType, operation)
            }
            var status: herr_t = 0
            let values = [T](unsafeUninitializedCapacity: count) { buffer, initialized in
                status = rawRead(memType, UnsafeMutableRawPointer(buffer.baseAddress!))
                initialized = status < 0 ? 0 : count
            }
            try site.check(status, .corrupt, operation)
            return values
        }
    }

    /// An enumeration over integers read as its integer values, converted to
    /// `memType`. HDF5 does not convert enumerations to numbers itself, so the
    /// raw values are read as the native enumeration and converted in place
    /// from its native integer base type. Call with the lock held.
    /// - Throws: `HDF5Error` `.corrupt` if HDF5 cannot read or convert them.
    private func readIntegerEnum<T: HDF5Scalar>(
        _ type: HDF5Handle, count: Int, into memType: hid_t, _ operation: String
    ) throws(HDF5Error) -> [T] {
        let nativeEnum = try site.own(H5Tget_native_type(type.id, H5T_DIR_ASCEND), .datatype, .corrupt, operation)
        let base = try site.own(H5Tget_super(nativeEnum.id), .datatype, .corrupt, operation)
        let baseSize = H5Tget_size(base.id)
        guard baseSize > 0, baseSize <= 8 else {
            throw site.error(.corrupt, operation, "enumeration of \(baseSize)-byte integers")
        }
        let elementBytes = max(baseSize, MemoryLayout<T>.size)
        let byteCount = try HDF5Limits.checkedByteCount(
            count, size: elementBytes, limit: Int.max, site: site, operation: operation)
        var raw = [UInt8](repeating: 0, count: byteCount)
        let readStatus = raw.withUnsafeMutableBytes { rawRead(nativeEnum.id, $0.baseAddress!) }
        try site.check(readStatus, .corrupt, operation)
        let convertStatus = raw.withUnsafeMutableBytes {
            H5Tconvert(base.id, memType, count, $0.baseAddress!, nil, mp_H5P_DEFAULT())
        }
        try site.check(convertStatus, .corrupt, operation)
        return [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            raw.withUnsafeBytes { bytes in
                UnsafeMutableRawBufferPointer(buffer).copyMemory(
                    from: UnsafeRawBufferPointer(rebasing: bytes[0..<(count * MemoryLayout<T>.stride)]))
            }
            initialized = count
        }
    }

    /// Every element of string data, fixed- or variable-length, row-major.
    ///
    /// Fixed-length strings lose their padding (everything from the first NUL,
    /// or trailing spaces for space-padded strings).
    /// - Throws: `HDF5Error` `.wrongType` for non-string data, `.tooLarge`
    ///   beyond `limit` strings (or bytes), `.corrupt` if HDF5 cannot read them.
    func readStrings(limit: Int) throws(HDF5Error) -> [String] {
        let operation = "read \(noun)"
        return try withHDF5 { () throws(HDF5Error) -> [String] in
            let type = try fileType(operation)
            let space = try self.space(operation)
            let count = try HDF5Limits.checkedElementCount(
                dimensions(of: space, operation), limit: limit, site: site, operation: operation)
            guard H5Tget_class(type.id) == H5T_STRING else {
                // Keras writes an empty name list as `np.array([])`, which
                // h5py stores as an empty float64 array: no strings either way.
                if count == 0 { return [] }
                throw site.error(
                    .wrongType, operation,
                    "holds \(describe(HDF5ElementType.classify(type.id))) elements, not strings")
            }
            let variable = H5Tis_variable_str(type.id)
            try site.check(variable, .corrupt, operation)
            let cset = H5Tget_cset(type.id)
            guard cset.rawValue >= 0 else { throw site.failure(.corrupt, operation, "unreadable character set") }
            if count == 0 { return [] }
            try checkStorage(count: count, elementSize: H5Tget_size(type.id), operation)

            let memType = try site.own(H5Tcopy(mp_H5T_C_S1()), .datatype, .io, operation)
            try site.check(H5Tset_cset(memType.id, cset), .corrupt, operation)

            if variable > 0 {
                try site.check(H5Tset_size(memType.id, mp_H5T_VARIABLE()), .io, operation)
                var pointers = [UnsafeMutablePointer<CChar>?](repeating: nil, count: count)
                let status = pointers.withUnsafeMutableBytes { rawRead(memType.id, $0.baseAddress!) }
                // On failure HDF5 may have freed what it allocated; leaking is
                // safer than freeing twice, so only reclaim after success.
                try site.check(status, .corrupt, operation)
                let strings = pointers.map { pointer -> String in
                    guard let pointer else { return "" }
                    return String(decoding: UnsafeRawBufferPointer(start: pointer, count: strlen(pointer)), as: UTF8.self)
                }
                _ = pointers.withUnsafeMutableBytes {
                    H5Dvlen_reclaim(memType.id, space.id, mp_H5P_DEFAULT(), $0.baseAddress!)
                }
                clearHDF5ErrorStack()
                return strings
            }

            let size = H5Tget_size(type.id)
            guard size > 0, size <= HDF5Limits.maxFixedStringLength else {
                throw site.error(.corrupt, operation, "fixed-length string size \(size) is implausible")
            }
            let length = Int(size)
            let bytes = try HDF5Limits.checkedByteCount(
                count, size: length, limit: limit, site: site, operation: operation)
            let strpad = H5Tget_strpad(type.id)
            guard strpad.rawValue >= 0 else { throw site.failure(.corrupt, operation, "unreadable string padding") }
            try site.check(H5Tset_size(memType.id, size), .io, operation)
            try site.check(H5Tset_strpad(memType.id, strpad), .corrupt, operation)
            var raw = [UInt8](repeating: 0, count: bytes)
            let status = raw.withUnsafeMutableBytes { rawRead(memType.id, $0.baseAddress!) }
            try site.check(status, .corrupt, operation)
            return (0..<count).map { index in
                var element = raw[(index * length)..<((index + 1) * length)]
                if let nul = element.firstIndex(of: 0) { element = element[..<nul] }
                if strpad == H5T_STR_SPACEPAD {
                    while let last = element.last, last == UInt8(ascii: " ") { element = element.dropLast() }
                }
                return String(decoding: element, as: UTF8.self)
            }
        }
    }

    // MARK: - Writing

    /// Writes numeric values (already checked against the dataspace). Call with the lock held.
    /// - Throws: `HDF5Error` `.io` if HDF5 cannot write them.
    func writeNumeric<T: HDF5Scalar>(_ values: [T], memType: hid_t, _ operation: String) throws(HDF5Error) {
        // HDF5 rejects a null buffer even for zero elements.
        var placeholder: UInt64 = 0
        let status: herr_t = values.withUnsafeBytes { bytes in
            if let base = bytes.baseAddress { return rawWrite(memType, base) }
            return withUnsafeBytes(of: &placeholder) { rawWrite(memType, $0.baseAddress!) }
        }
        try site.check(status, .io, operation)
    }

    /// Writes strings with `memType` (made by `HDF5StringType.make`). Call with the lock held.
    /// - Throws: `HDF5Error` `.io` if HDF5 cannot write them.
    func writeStrings(_ strings: [String], as stringType: HDF5StringType, _ operation: String) throws(HDF5Error) {
        let status: herr_t
        switch stringType.length {
        case nil:
            var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
            defer { pointers.forEach { free($0) } }
            guard !pointers.contains(where: { $0 == nil }) else {
                throw site.error(.io, operation, "out of memory copying strings")
            }
            if pointers.isEmpty { pointers.append(nil) }
            status = pointers.withUnsafeBytes { rawWrite(stringType.handle.id, $0.baseAddress!) }
        case let length?:
            var raw = [UInt8](repeating: 0, count: max(1, strings.count * length))
            for (index, string) in strings.enumerated() {
                let utf8 = Array(string.utf8.prefix(length))
                raw.replaceSubrange((index * length)..<(index * length + utf8.count), with: utf8)
            }
            status = raw.withUnsafeBytes { rawWrite(stringType.handle.id, $0.baseAddress!) }
        }
        try site.check(status, .io, operation)
    }
}

/// A string datatype made for writing, used both as file and memory type.
struct HDF5StringType {
    let handle: HDF5Handle
    /// Fixed length in bytes, or `nil` for variable-length.
    let length: Int?

    /// Variable-length UTF-8, or fixed-length (the longest string's UTF-8
    /// length, at least 1), NUL-padded, ASCII when every string is, like h5py.
    ///
    /// Call with the lock held.
    /// - Throws: `HDF5Error` `.io` if HDF5 cannot build the type.
    static func make(for strings: [String], variableLength: Bool, site: HDF5Site, operation: String)
        throws(HDF5Error) -> HDF5StringType
    {
        let type = try site.own(H5Tcopy(mp_H5T_C_S1()), .datatype, .io, operation)
        let ascii = strings.allSatisfy { $0.utf8.allSatisfy { $0 < 0x80 } }
        if variableLength {
            try site.check(H5Tset_size(type.id, mp_H5T_VARIABLE()), .io, operation)
            try site.check(H5Tset_cset(type.id, H5T_CSET_UTF8), .io, operation)
            return HDF5StringType(handle: type, length: nil)
        }
        let length = max(1, strings.map { $0.utf8.count }.max() ?? 1)
        try site.check(H5Tset_size(type.id, length), .io, operation)
        try site.check(H5Tset_strpad(type.id, H5T_STR_NULLPAD), .io, operation)
        try site.check(H5Tset_cset(type.id, ascii ? H5T_CSET_ASCII : H5T_CSET_UTF8), .io, operation)
        return HDF5StringType(handle: type, length: length)
    }
}

/// A dataspace made for writing.
enum HDF5Dataspace {
    /// Scalar for `[]`, simple otherwise. Call with the lock held.
    /// - Throws: `HDF5Error` `.invalidArgument` for negative dimensions or rank > 32.
    static func make(shape: [Int], site: HDF5Site, operation: String) throws(HDF5Error) -> HDF5Handle {
        if shape.isEmpty {
            return try site.own(H5Screate(H5S_SCALAR), .dataspace, .io, operation)
        }
        guard shape.count <= HDF5Limits.maxRank else {
            throw site.error(.invalidArgument, operation, "rank \(shape.count) exceeds HDF5's maximum of 32")
        }
        guard shape.allSatisfy({ $0 >= 0 }) else {
            throw site.error(.invalidArgument, operation, "shape \(shape) has a negative dimension")
        }
        let dims = shape.map { hsize_t($0) }
        return try site.own(H5Screate_simple(Int32(dims.count), dims, nil), .dataspace, .io, operation)
    }

    /// The number of elements in `shape`, which must equal `count`.
    /// - Throws: `HDF5Error` `.invalidArgument` on mismatch, overflow or a negative dimension.
    static func checkCount(shape: [Int], count: Int, site: HDF5Site, operation: String) throws(HDF5Error) {
        var product = 1
        for dim in shape {
            guard dim >= 0 else {
                throw site.error(.invalidArgument, operation, "shape \(shape) has a negative dimension")
            }
            let (next, overflow) = product.multipliedReportingOverflow(by: dim)
            guard !overflow else { throw site.error(.invalidArgument, operation, "shape \(shape) is too large") }
            product = next
        }
        guard product == count else {
            throw site.error(
                .invalidArgument, operation, "shape \(shape) holds \(product) elements but \(count) values were given")
        }
    }
}

/// A short description of an element type for messages.
func describe(_ type: HDF5ElementType) -> String {
    switch type {
    case .other(let name): name
    default: "\(type)"
    }
}

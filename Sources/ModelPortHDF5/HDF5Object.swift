internal import CHDF5

/// A group or dataset in an open file, and its attributes.
///
/// Holds the object open, and through `file` keeps the file open.
public class HDF5Object: @unchecked Sendable {
    /// The file the object lives in; kept open while the object exists.
    public let file: HDF5File
    /// The absolute path of the object, e.g. `/model_weights/conv2d`.
    public let path: String
    let handle: HDF5Handle

    init(file: HDF5File, path: String, handle: HDF5Handle) {
        self.file = file
        self.path = path
        self.handle = handle
    }

    /// The last component of `path` (`/` for the root group).
    public var name: String { HDF5Path.lastComponent(path) }

    var site: HDF5Site { HDF5Site(file: file.path, path: path) }

    /// Throws unless the file is writable. Needs no lock.
    func requireWritable(_ operation: String) throws(HDF5Error) {
        guard file.mode == .readWrite else {
            throw site.error(.invalidArgument, operation, "file is open read-only")
        }
    }

    // MARK: - Listing

    /// The names of the object's attributes, sorted by name.
    /// - Throws: `HDF5Error` `.corrupt` if HDF5 cannot list them.
    public func attributeNames() throws -> [String] {
        let site = site
        let operation = "list attributes"
        return try withHDF5 { () throws(HDF5Error) -> [String] in
            var info = H5O_info_t()
            try site.check(H5Oget_info2(handle.id, &info, UInt32(H5O_INFO_NUM_ATTRS)), .corrupt, operation)
            guard info.num_attrs <= UInt64(HDF5Limits.maxElements) else {
                throw site.error(.tooLarge, operation, "object claims \(info.num_attrs) attributes")
            }
            var names: [String] = []
            for index in 0..<info.num_attrs {
                let name = try HDF5Object.name(site: site, operation: operation) { buffer, size in
                    H5Aget_name_by_idx(
                        handle.id, ".", H5_INDEX_NAME, H5_ITER_INC, hsize_t(index), buffer, size, hdf5LinkAccess)
                }
                names.append(name)
            }
            return names
        }
    }

    /// Reads a name through HDF5's call-twice protocol (size, then text).
    ///
    /// Call with the lock held.
    /// - Throws: `HDF5Error` `.corrupt` if HDF5 cannot produce it or it is implausibly long.
    static func name(
        site: HDF5Site, operation: String, _ get: (UnsafeMutablePointer<CChar>?, Int) -> Int
    ) throws(HDF5Error) -> String {
        let length = get(nil, 0)
        try site.check(length, .corrupt, operation)
        guard length < 1 << 20 else { throw site.error(.corrupt, operation, "name of \(length) bytes") }
        var buffer = [CChar](repeating: 0, count: length + 1)
        let got = buffer.withUnsafeMutableBufferPointer { get($0.baseAddress, length + 1) }
        try site.check(got, .corrupt, operation)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Whether the object has an attribute named `name`.
    /// - Throws: `HDF5Error` `.corrupt` if HDF5 cannot tell.
    public func hasAttribute(_ name: String) throws -> Bool {
        let site = site
        return try withHDF5 { () throws(HDF5Error) -> Bool in
            let exists = H5Aexists(handle.id, name)
            try site.check(exists, .corrupt, "look up attribute '\(name)'")
            return exists > 0
        }
    }

    // MARK: - Reading

    /// Opens attribute `name` for `operation`. Call with the lock held.
    /// - Throws: `HDF5Error` `.notFound` if absent, `.corrupt` if unopenable.
    func openAttribute(_ name: String, _ operation: String) throws(HDF5Error) -> HDF5Payload {
        let exists = H5Aexists(handle.id, name)
        try site.check(exists, .corrupt, operation)
        guard exists > 0 else { throw site.error(.notFound, operation, "no attribute named '\(name)'") }
        let attribute = try site.own(H5Aopen(handle.id, name, mp_H5P_DEFAULT()), .attribute, .corrupt, operation)
        return HDF5Payload(source: .attribute(attribute), site: site, noun: "attribute '\(name)'")
    }

    /// The element type of attribute `name`.
    /// - Throws: `HDF5Error` `.notFound` if absent, `.corrupt` if unreadable.
    public func attributeType(_ name: String) throws -> HDF5ElementType {
        try withHDF5 { () throws(HDF5Error) -> HDF5ElementType in
            try openAttribute(name, "read type of attribute '\(name)'").elementType()
        }
    }

    /// The shape of attribute `name`: `[]` for a scalar.
    /// - Throws: `HDF5Error` `.notFound` if absent, `.corrupt` if unreadable.
    public func attributeShape(_ name: String) throws -> [Int] {
        try withHDF5 { () throws(HDF5Error) -> [Int] in
            try openAttribute(name, "read shape of attribute '\(name)'").shape()
        }
    }

    /// A string attribute holding one string (a scalar or a one-element array),
    /// fixed- or variable-length.
    /// - Throws: `HDF5Error` `.notFound` if absent, `.wrongType` if not one string.
    public func readStringAttribute(_ name: String) throws -> String {
        let strings = try readStringArrayAttribute(name)
        guard strings.count == 1 else {
            throw site.error(
                .wrongType, "read attribute '\(name)'", "holds \(strings.count) strings, expected exactly one")
        }
        return strings[0]
    }

    /// A string attribute as an array (a scalar gives one element), fixed- or
    /// variable-length; fixed-length strings lose their NUL or space padding.
    /// - Throws: `HDF5Error` `.notFound` if absent, `.wrongType` if not strings,
    ///   `.tooLarge` beyond `HDF5Limits.maxElements`.
    public func readStringArrayAttribute(_ name: String) throws -> [String] {
        try readStringArrayAttribute(name, limit: HDF5Limits.maxElements)
    }

    /// `readStringArrayAttribute(_:)` with an explicit element limit.
    func readStringArrayAttribute(_ name: String, limit: Int) throws(HDF5Error) -> [String] {
        try withHDF5 { () throws(HDF5Error) -> [String] in
            try openAttribute(name, "read attribute '\(name)'").readStrings(limit: limit)
        }
    }

    /// A numeric attribute's values, converted by HDF5 to `T` (row-major).
    /// - Throws: `HDF5Error` `.notFound` if absent, `.wrongType` for strings
    ///   and other non-numeric types, `.tooLarge` beyond `HDF5Limits.maxElements`.
    public func readNumericAttribute<T: HDF5Scalar>(_ name: String, as type: T.Type) throws -> [T] {
        try readNumericAttribute(name, as: type, limit: HDF5Limits.maxElements)
    }

    /// `readNumericAttribute(_:as:)` with an explicit element limit.
    func readNumericAttribute<T: HDF5Scalar>(_ name: String, as type: T.Type, limit: Int) throws(HDF5Error) -> [T] {
        try withHDF5 { () throws(HDF5Error) -> [T] in
            try openAttribute(name, "read attribute '\(name)'").readNumeric(type, limit: limit)
        }
    }

    // MARK: - Writing

    /// Creates attribute `name` (deleting any existing one) with `fileType` and
    /// `space`. Call with the lock held.
    /// - Throws: `HDF5Error` `.io` if HDF5 cannot create it.
    private func createAttribute(
        _ name: String, fileType: hid_t, space: HDF5Handle, _ operation: String
    ) throws(HDF5Error) -> HDF5Payload {
        guard !name.isEmpty else { throw site.error(.invalidArgument, operation, "attribute name is empty") }
        let exists = H5Aexists(handle.id, name)
        try site.check(exists, .corrupt, operation)
        if exists > 0 {
            try site.check(H5Adelete(handle.id, name), .io, operation)
        }
        let attribute = try site.own(
            H5Acreate2(handle.id, name, fileType, space.id, mp_H5P_DEFAULT(), mp_H5P_DEFAULT()),
            .attribute, .io, operation)
        return HDF5Payload(source: .attribute(attribute), site: site, noun: "attribute '\(name)'")
    }

    /// Writes a scalar string attribute, replacing any attribute of that name.
    /// - Throws: `HDF5Error` `.invalidArgument` for a read-only file, `.io` if HDF5 cannot write.
    public func writeAttribute(_ name: String, string: String, variableLength: Bool = true) throws {
        try writeStrings(name, [string], shape: [], variableLength: variableLength)
    }

    /// Writes a 1-D string array attribute, replacing any attribute of that name.
    ///
    /// Fixed-length strings are as long as the longest string's UTF-8 bytes,
    /// NUL-padded, ASCII-tagged when every string is ASCII (like h5py's `S` dtype).
    /// - Throws: `HDF5Error` `.invalidArgument` for a read-only file, `.io` if HDF5 cannot write.
    public func writeAttribute(_ name: String, strings: [String], variableLength: Bool = true) throws {
        try writeStrings(name, strings, shape: [strings.count], variableLength: variableLength)
    }

    private func writeStrings(
        _ name: String, _ strings: [String], shape: [Int], variableLength: Bool
    ) throws(HDF5Error) {
        let operation = "write attribute '\(name)'"
        try requireWritable(operation)
        let site = site
        try withHDF5 { () throws(HDF5Error) in
            let type = try HDF5StringType.make(
                for: strings, variableLength: variableLength, site: site, operation: operation)
            let space = try HDF5Dataspace.make(shape: shape, site: site, operation: operation)
            let payload = try createAttribute(name, fileType: type.handle.id, space: space, operation)
            try payload.writeStrings(strings, as: type, operation)
        }
    }

    /// Writes a numeric attribute, replacing any attribute of that name.
    ///
    /// - Parameter shape: `nil` for 1-D, `[]` for a scalar (one value), or any
    ///   shape whose element count equals `values.count`.
    /// - Throws: `HDF5Error` `.invalidArgument` for a bad shape or read-only
    ///   file, `.io` if HDF5 cannot write.
    public func writeAttribute<T: HDF5Scalar>(_ name: String, values: [T], shape: [Int]? = nil) throws {
        let operation = "write attribute '\(name)'"
        try requireWritable(operation)
        let site = site
        let shape = shape ?? [values.count]
        try HDF5Dataspace.checkCount(shape: shape, count: values.count, site: site, operation: operation)
        try withHDF5 { () throws(HDF5Error) in
            let memType = try T.nativeTypeID(site: site, operation: operation)
            let space = try HDF5Dataspace.make(shape: shape, site: site, operation: operation)
            let payload = try createAttribute(name, fileType: memType, space: space, operation)
            try payload.writeNumeric(values, memType: memType, operation)
        }
    }

    /// Deletes attribute `name`.
    /// - Throws: `HDF5Error` `.notFound` if absent, `.invalidArgument` for a
    ///   read-only file, `.io` if HDF5 cannot delete it.
    public func deleteAttribute(_ name: String) throws {
        let operation = "delete attribute '\(name)'"
        try requireWritable(operation)
        let site = site
        try withHDF5 { () throws(HDF5Error) in
            let exists = H5Aexists(handle.id, name)
            try site.check(exists, .corrupt, operation)
            guard exists > 0 else { throw site.error(.notFound, operation, "no attribute named '\(name)'") }
            try site.check(H5Adelete(handle.id, name), .io, operation)
        }
    }
}

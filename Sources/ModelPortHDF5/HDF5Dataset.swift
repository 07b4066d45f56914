internal import CHDF5
/// A dataset: an n-dimensional array of numbers or strings, plus attributes.
public final class HDF5Dataset: HDF5Object, @unchecked Sendable {
    private var payload: HDF5Payload {
        HDF5Payload(source: .dataset(handle), site: site, noun: "dataset")
    }

    /// The dimensions, `[]` for a scalar dataset.
    /// - Throws: `HDF5Error` `.corrupt` if the dataspace is unreadable or implausible.
    public func shape() throws -> [Int] {
        try payload.shape()
    }

    /// The element type as stored.
    /// - Throws: `HDF5Error` `.corrupt` if the datatype is unreadable.
    public func elementType() throws -> HDF5ElementType {
        try payload.elementType()
    }

    /// The whole dataset in row-major order, converted by HDF5 to `T`.
    /// - Throws: `HDF5Error` `.wrongType` for strings and other non-numeric
    ///   data, `.tooLarge` beyond `HDF5Limits.maxElements`, `.corrupt` if the
    ///   data cannot be read.
    public func read<T: HDF5Scalar>(as type: T.Type) throws -> [T] {
        try payload.readNumeric(type, limit: HDF5Limits.maxElements)
    }

    /// `read(as:)` with an explicit element limit.
    func read<T: HDF5Scalar>(as type: T.Type, limit: Int) throws(HDF5Error) -> [T] {
        try payload.readNumeric(type, limit: limit)
    }

    /// The whole string dataset in row-major order, fixed- or variable-length.
    /// - Throws: `HDF5Error` `.wrongType` for non-string data, `.tooLarge`
    ///   beyond `HDF5Limits.maxElements`, `.corrupt` if it cannot be read.
    public func readStrings() throws -> [String] {
        try payload.readStrings(limit: HDF5Limits.maxElements)
    }

    /// Overwrites every element, in row-major order; HDF5 converts from `T`
    /// to the stored type. The file must be open for writing.
    /// - Throws: `HDF5Error` `.invalidArgument` when `values.count` differs
    ///   from the dataset's element count or the file is read-only, `.io` if
    ///   HDF5 cannot write.
    public func write<T: HDF5Scalar>(_ values: [T]) throws {
        let operation = "write dataset"
        guard file.mode == .readWrite else {
            throw site.error(.invalidArgument, operation, "the file is open read-only")
        }
        try HDF5Dataspace.checkCount(shape: try shape(), count: values.count, site: site, operation: operation)
        try withHDF5 { () throws(HDF5Error) -> Void in
            let memType = try T.nativeTypeID(site: site, operation: operation)
            try payload.writeNumeric(values, memType: memType, operation)
        }
    }

    /// Throws unless the dataset's data is stored inside this file, whole
    /// (see `HDF5Group.checkDataStored`); reads nothing.
    /// - Throws: `HDF5Error` `.refused` (external storage, virtual dataset) or `.corrupt`.
    public func checkStored() throws {
        let count = try shape().reduce(1) { a, b in a.multipliedReportingOverflow(by: b).overflow ? Int.max : a * b }
        let payload = self.payload
        try withHDF5 { () throws(HDF5Error) in
            guard count > 0 else { return }
            let type = try payload.fileType("check dataset")
            try payload.checkStorage(count: count, elementSize: H5Tget_size(type.id), "check dataset")
        }
    }

    /// `readStrings()` with an explicit element limit.
    func readStrings(limit: Int) throws(HDF5Error) -> [String] {
        try payload.readStrings(limit: limit)
    }
}

internal import CHDF5

/// Owns one HDF5 identifier (`hid_t`) and closes it, under the lock, in `deinit`.
final class HDF5Handle: @unchecked Sendable {
    /// Which close function the identifier needs.
    enum Kind: Sendable {
        case file, object, attribute, dataspace, datatype, propertyList
    }

    let id: hid_t
    let kind: Kind

    /// Takes ownership of `id`, which must be valid (non-negative).
    init(_ id: hid_t, _ kind: Kind) {
        precondition(id >= 0, "HDF5Handle given an invalid identifier")
        self.id = id
        self.kind = kind
    }

    deinit {
        let id = id
        let kind = kind
        withHDF5 {
            let status: herr_t
            switch kind {
            case .file: status = H5Fclose(id)
            case .object: status = H5Oclose(id)
            case .attribute: status = H5Aclose(id)
            case .dataspace: status = H5Sclose(id)
            case .datatype: status = H5Tclose(id)
            case .propertyList: status = H5Pclose(id)
            }
            // A failed close has nobody to report to; do not leave its error
            // stack behind for the next operation to pick up.
            if status < 0 { clearHDF5ErrorStack() }
        }
    }
}

extension HDF5Site {
    /// Wraps a freshly returned identifier, or throws if HDF5 returned a negative one.
    ///
    /// Call with the lock held.
    /// - Throws: `HDF5Error` of `kind` carrying HDF5's message.
    func own(
        _ id: hid_t, _ handleKind: HDF5Handle.Kind, _ kind: HDF5Error.Kind, _ operation: String
    ) throws(HDF5Error) -> HDF5Handle {
        guard id >= 0 else { throw failure(kind, operation, "HDF5 returned an invalid identifier") }
        return HDF5Handle(id, handleKind)
    }

    /// Throws if a status (`herr_t`, `htri_t`, `ssize_t`, ...) is negative.
    ///
    /// Call with the lock held.
    /// - Throws: `HDF5Error` of `kind` carrying HDF5's message.
    func check<I: BinaryInteger>(_ status: I, _ kind: HDF5Error.Kind, _ operation: String) throws(HDF5Error) {
        guard status >= 0 else { throw failure(kind, operation, "HDF5 reported failure") }
    }
}

internal import CHDF5
import ModelPortFiles
import Foundation

/// An open HDF5 file; closed when the last file, group, dataset or attribute
/// reference to it goes away.
public final class HDF5File: @unchecked Sendable {
    /// How the file is opened.
    public enum Mode: Sendable {
        case readOnly, readWrite
    }

    /// The file path as given.
    public let path: String
    /// How the file was opened (`.readWrite` for files created here).
    public let mode: Mode
    let handle: HDF5Handle
    let rootHandle: HDF5Handle

    /// Opens an existing file.
    ///
    /// - Throws: `HDF5Error` `.notFound` if nothing exists at `path`; `.notHDF5`
    ///   for a directory, device or file without an HDF5 signature; `.io` if it
    ///   cannot be read (or written, for `.readWrite`) or is already open in
    ///   this process in the other mode; `.corrupt` if HDF5 finds it truncated
    ///   or damaged.
    public init(openingAt path: String, mode: Mode = .readOnly) throws {
        let site = HDF5Site(file: path, path: "/")
        let operation = "open file"
        try HDF5File.checkRegularFile(path, site: site, operation: operation)
        guard access(path, R_OK) == 0, mode == .readOnly || access(path, W_OK) == 0 else {
            throw site.error(
                .io, operation,
                "not \(mode == .readOnly ? "readable" : "writable"): \(String(cString: strerror(errno)))")
        }
        (handle, rootHandle) = try withHDF5 { () throws(HDF5Error) -> (HDF5Handle, HDF5Handle) in
            let signature = H5Fis_hdf5(path)
            try site.check(signature, .io, operation)
            guard signature > 0 else {
                throw site.error(.notHDF5, operation, "not an HDF5 file (no HDF5 signature found)")
            }
            let flags = mode == .readOnly ? mp_H5F_ACC_RDONLY() : mp_H5F_ACC_RDWR()
            let alreadyOpen = mp_H5E_FILEOPEN()
            let locked = mp_H5E_CANTLOCKFILE()
            // Readers take no file lock: HDF5 opens files without close-on-exec;
            // every file opened here is marked close-on-exec at once (see
            // mp_set_close_on_exec), but a child spawned in the moment between
            // HDF5's open and that mark would still keep a writer's lock alive,
            // and a later read would fail with "unable to lock file" although
            // nobody writes. ModelPort writes through temporary files renamed
            // into place, so a reader never sees a file being written.
            let fapl = try site.own(H5Pcreate(mp_H5P_FILE_ACCESS()), .propertyList, .io, operation)
            if mode == .readOnly {
                try site.check(H5Pset_file_locking(fapl.id, false, true), .io, operation)
            }
            let fileID = H5Fopen(path, flags, fapl.id)
            // Opening a file this process already has open in another mode,
            // or that another process holds locked, is not damage.
            if fileID < 0 {
                let busy = mp_error_stack_has_minor(alreadyOpen) != 0 || mp_error_stack_has_minor(locked) != 0
                let message = takeHDF5ErrorMessage()
                // 1.10 reports "file is already open for read-only" only in words.
                let inUse = busy || message.contains("already open")
                if inUse { throw site.error(.io, operation, message) }
                throw site.error(.corrupt, operation, message.hasPrefix("the file") ? message
                    : "the file is damaged (HDF5 cannot open it" + (message.isEmpty ? ")" : ": \(message))"))
            }
            let file = try site.own(fileID, .file, .corrupt, operation)
            try site.check(mp_set_close_on_exec(file.id), .io, "mark file close-on-exec")
            let root = try site.own(H5Oopen(file.id, "/", hdf5LinkAccess), .object, .corrupt, "open root group")
            return (file, root)
        }
        self.path = path
        self.mode = mode
    }

    /// Creates a new file, open for reading and writing.
    ///
    /// Files are written in the HDF5 1.8 format (readable by every current
    /// HDF5, h5py included), which also lifts the 64 KiB limit on attributes.
    /// - Throws: `HDF5Error` `.invalidArgument` if the file exists and
    ///   `overwrite` is false; `.io` if HDF5 cannot create it (missing
    ///   directory, no permission, file open elsewhere in this process).
    public init(creatingAt path: String, overwrite: Bool = true) throws {
        let site = HDF5Site(file: path, path: "/")
        let operation = "create file"
        if !overwrite, FileManager.default.fileExists(atPath: path) {
            throw site.error(.invalidArgument, operation, "file already exists and overwrite is false")
        }
        (handle, rootHandle) = try withHDF5 { () throws(HDF5Error) -> (HDF5Handle, HDF5Handle) in
            let fapl = try site.own(H5Pcreate(mp_H5P_FILE_ACCESS()), .propertyList, .io, operation)
            try site.check(H5Pset_libver_bounds(fapl.id, H5F_LIBVER_V18, H5F_LIBVER_V18), .io, operation)
            let flags = overwrite ? mp_H5F_ACC_TRUNC() : mp_H5F_ACC_EXCL()
            let file = try site.own(H5Fcreate(path, flags, mp_H5P_DEFAULT(), fapl.id), .file, .io, operation)
            try site.check(mp_set_close_on_exec(file.id), .io, "mark file close-on-exec")
            let root = try site.own(H5Oopen(file.id, "/", hdf5LinkAccess), .object, .io, "open root group")
            return (file, root)
        }
        self.path = path
        self.mode = .readWrite
    }

    /// The root group, `/`.
    public var root: HDF5Group {
        HDF5Group(file: self, path: "/", handle: rootHandle)
    }

    /// Writes everything buffered for this file to disk.
    /// - Throws: `HDF5Error` `.io` if HDF5 cannot write.
    public func flush() throws {
        let site = HDF5Site(file: path, path: "/")
        try withHDF5 { () throws(HDF5Error) in
            try site.check(H5Fflush(handle.id, H5F_SCOPE_GLOBAL), .io, "flush file")
        }
    }

    /// Whether `path` is a regular file with an HDF5 signature. Never throws.
    public static func isHDF5(_ path: String) -> Bool {
        let site = HDF5Site(file: path, path: "/")
        guard (try? checkRegularFile(path, site: site, operation: "check file")) != nil,
              access(path, R_OK) == 0
        else { return false }
        return withHDF5 {
            let result = H5Fis_hdf5(path)
            if result < 0 { clearHDF5ErrorStack() }
            return result > 0
        }
    }

    /// Refuses anything but an existing regular file (following symbolic
    /// links), through ModelPortFiles' `InputFile`, so HDF5 never blocks
    /// opening a FIFO or reads a device, and the file counts as an input
    /// that no output of this process may overwrite.
    /// - Throws: `HDF5Error` `.notFound`, `.notHDF5` or `.io`.
    static func checkRegularFile(_ path: String, site: HDF5Site, operation: String) throws(HDF5Error) {
        do {
            _ = try InputFile.check(path, maxBytes: Int.max)
        } catch {
            switch error.kind {
            case .notFound: throw site.error(.notFound, operation, error.message)
            case .notRegularFile: throw site.error(.notHDF5, operation, error.message)
            default: throw site.error(.io, operation, error.message)
            }
        }
    }
}

import Foundation
import Synchronization

/// The one way ModelPort opens a file it reads: regular files only (a FIFO,
/// device, socket or directory is refused without blocking on it), with the
/// size checked against the reader's cap before a byte is read.
///
/// Every file checked here is remembered as an input of this process, so
/// `AtomicFile` refuses to write an output over it.
public struct InputFile: Sendable {
    public let path: String
    /// Size in bytes when it was checked.
    public let size: Int

    /// Checks `path` without reading it (for libraries that open files by
    /// name themselves, like HDF5).
    /// - Parameter maxBytes: the largest file the caller accepts.
    /// - Throws: `FileError` naming the file: missing, not a regular file,
    ///   unreadable, or larger than `maxBytes`.
    public static func check(_ path: String, maxBytes: Int) throws(FileError) -> InputFile {
        let descriptor = try open(path)
        defer { close(descriptor) }
        return try checked(descriptor, path: path, maxBytes: maxBytes)
    }

    /// The whole file, at most `maxBytes`.
    /// - Throws: `FileError` as `check`, or when the file shrinks while read.
    public static func read(_ path: String, maxBytes: Int) throws(FileError) -> Data {
        let descriptor = try open(path)
        defer { close(descriptor) }
        let file = try checked(descriptor, path: path, maxBytes: maxBytes)
        return try readAll(descriptor, path: path, count: file.size)
    }

    /// The first `count` bytes (fewer if the file is shorter), for telling formats apart.
    /// - Throws: `FileError` as `check` (with no size cap).
    public static func prefix(_ path: String, count: Int) throws(FileError) -> Data {
        let descriptor = try open(path)
        defer { close(descriptor) }
        let file = try checked(descriptor, path: path, maxBytes: Int.max)
        return try readAll(descriptor, path: path, count: min(count, file.size), exact: false)
    }

    /// Whether `path` (following symbolic links) is a file this process read.
    public static func isInput(_ path: String) -> Bool {
        var info = stat()
        guard stat(path, &info) == 0 else { return false }
        return inputs.withLock { $0.contains(FileIdentity(info)) }
    }

    // MARK: - Implementation

    private static let inputs = Mutex<Set<FileIdentity>>([])

    /// Opens for reading without blocking (a FIFO with no writer would block
    /// a plain open forever) and without becoming a controlling terminal.
    private static func open(_ path: String) throws(FileError) -> Int32 {
        guard !path.isEmpty else { throw FileError(path, .notFound, "no such file (the path is empty)") }
        // stat first: opening some devices has effects of its own.
        var info = stat()
        guard stat(path, &info) == 0 else { throw FileError.system(path, errno, doing: "open it") }
        try requireRegular(info, path: path)
        let descriptor = Glibc.open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)
        guard descriptor >= 0 else { throw FileError.system(path, errno, doing: "open it") }
        return descriptor
    }

    private static func checked(_ descriptor: Int32, path: String, maxBytes: Int) throws(FileError) -> InputFile {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw FileError.system(path, errno, doing: "read it") }
        // Checked again on the open file: the path may have been swapped since stat.
        try requireRegular(info, path: path)
        let size = Int(info.st_size)
        guard size <= maxBytes else {
            throw FileError(path, .tooLarge, "the file is \(size) bytes, more than the \(maxBytes) this reader accepts")
        }
        // Reads block normally from here on.
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) & ~O_NONBLOCK)
        _ = inputs.withLock { $0.insert(FileIdentity(info)) }
        return InputFile(path: path, size: size)
    }

    private static func requireRegular(_ info: stat, path: String) throws(FileError) {
        switch info.st_mode & S_IFMT {
        case S_IFREG: return
        case S_IFDIR: throw FileError(path, .notRegularFile, "is a directory, not a file")
        case S_IFIFO: throw FileError(path, .notRegularFile, "is a FIFO (named pipe), not a regular file")
        case S_IFSOCK: throw FileError(path, .notRegularFile, "is a socket, not a regular file")
        case S_IFCHR, S_IFBLK: throw FileError(path, .notRegularFile, "is a device, not a regular file")
        default: throw FileError(path, .notRegularFile, "is not a regular file")
        }
    }

    private static func readAll(_ descriptor: Int32, path: String, count: Int, exact: Bool = true) throws(FileError) -> Data {
        var data = Data(count: count)
        var done = 0
        var failure: Int32 = 0
        data.withUnsafeMutableBytes { buffer in
            while done < count {
                let n = Glibc.read(descriptor, buffer.baseAddress! + done, count - done)
                if n < 0 { if errno == EINTR { continue }; failure = errno; return }
                if n == 0 { return }
                done += n
            }
        }
        if failure != 0 { throw FileError.system(path, failure, doing: "read it") }
        if done < count {
            guard !exact else { throw FileError(path, .inaccessible, "the file shrank while it was read (\(done) of \(count) bytes)") }
            data.removeLast(count - done)
        }
        return data
    }
}

/// A file's identity on this machine, the same through every path and link
/// that leads to it: device and inode, plus the modification time, since a
/// deleted input's inode number is soon reused by a new file (a temporary
/// file read and removed must not make a later output "an input").
struct FileIdentity: Hashable, Sendable {
    let device: UInt64
    let inode: UInt64
    let modified: Int
    let modifiedNanoseconds: Int
    init(_ info: stat) {
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
        modified = Int(info.st_mtim.tv_sec)
        modifiedNanoseconds = Int(info.st_mtim.tv_nsec)
    }
}

import Foundation

/// A file that cannot be read or written, and why, in words for the person
/// who named it.
public struct FileError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What went wrong, for callers that react to it (tests, the server's status codes).
    public enum Kind: Sendable, Equatable {
        /// Nothing exists at the path (or a directory on the way is missing).
        case notFound
        /// A directory, FIFO, socket or device where a file was expected.
        case notRegularFile
        /// Larger than the reader accepts.
        case tooLarge
        /// Permission denied, read-only file system, symbolic-link loop, path too long, I/O error.
        case inaccessible
        /// An output that would replace something it must not (a directory, an input of the command).
        case refusedOverwrite
    }

    public let path: String
    public let kind: Kind
    public let message: String

    public init(_ path: String, _ kind: Kind, _ message: String) {
        self.path = path
        self.kind = kind
        self.message = message
    }

    public var description: String { "\(DisplayPath(path)): \(message)" }

    /// The error for a failed system call on `path`, from `errno`.
    static func system(_ path: String, _ code: Int32, doing action: String) -> FileError {
        switch code {
        case ENOENT: return FileError(path, .notFound, "no such file")
        case ENOTDIR: return FileError(path, .notFound, "no such file (a part of the path is not a directory)")
        case ELOOP: return FileError(path, .inaccessible, "cannot \(action): too many levels of symbolic links (a symbolic-link loop?)")
        case ENAMETOOLONG: return FileError(path, .inaccessible, "cannot \(action): the path is too long")
        case EACCES, EPERM: return FileError(path, .inaccessible, "cannot \(action): permission denied")
        case EROFS: return FileError(path, .inaccessible, "cannot \(action): the file system is read-only")
        case ENOSPC: return FileError(path, .inaccessible, "cannot \(action): no space left on the device")
        case EDQUOT: return FileError(path, .inaccessible, "cannot \(action): disk quota exceeded")
        case EISDIR: return FileError(path, .notRegularFile, "is a directory")
        default: return FileError(path, .inaccessible, "cannot \(action): \(String(cString: strerror(code)))")
        }
    }
}

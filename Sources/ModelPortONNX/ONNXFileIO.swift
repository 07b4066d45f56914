import Foundation

/// Reading and writing whole files, bounded and atomic.
enum ONNXFileIO {
    /// Largest ONNX file ModelPort reads (protobuf itself cannot exceed 2 GiB).
    static let maxFileBytes = 1 << 30

    /// The file's bytes, after checking it is a regular file of a sane size.
    /// - Throws: `ONNXError` naming the file: missing, a directory, empty,
    ///   too large, unreadable.
    static func read(_ path: String) throws -> [UInt8] {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw ONNXError(file: path, message: errno == ENOENT ? "no such file" : "cannot be read: \(String(cString: strerror(errno)))")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw ONNXError(file: path, message: (info.st_mode & S_IFMT) == S_IFDIR ? "is a directory, not an ONNX file" : "is not a regular file")
        }
        guard info.st_size > 0 else { throw ONNXError(file: path, message: "the file is empty") }
        guard info.st_size <= maxFileBytes else {
            throw ONNXError(file: path, message: "the file is \(info.st_size) bytes; ModelPort reads ONNX files up to \(maxFileBytes) bytes")
        }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw ONNXError(file: path, message: "cannot be opened for reading")
        }
        defer { try? handle.close() }
        let data = (try? handle.read(upToCount: Int(info.st_size))) ?? Data()
        guard data.count == Int(info.st_size) else {
            throw ONNXError(file: path, message: "could read only \(data.count) of \(info.st_size) bytes")
        }
        return [UInt8](data)
    }

    /// Writes `bytes` to a temporary file beside `path` and renames it into
    /// place, so a failure never leaves a half-written file or touches an
    /// existing one.
    /// - Throws: `ONNXError` naming `path`.
    static func writeAtomically(_ bytes: [UInt8], to path: String) throws {
        let temporary = temporaryPath(for: path)
        guard FileManager.default.createFile(atPath: temporary, contents: Data(bytes)) else {
            throw ONNXError(file: path, message: "cannot write: \(writeFailureReason(for: path))")
        }
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw ONNXError(file: path, message: "cannot move the finished file into place: \(reason)")
        }
    }

    /// `<dir>/.<name>.tmp-<random>` beside the destination (same file system, so rename is atomic).
    static func temporaryPath(for path: String) -> String {
        let url = URL(fileURLWithPath: path)
        return url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(UInt32.random(in: 0...UInt32.max))").path
    }

    /// Why a file at `path` cannot be created, in words.
    static func writeFailureReason(for path: String) -> String {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        var isDirectory: ObjCBool = false
        if !FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) { return "directory '\(directory)' does not exist" }
        if !isDirectory.boolValue { return "'\(directory)' is not a directory" }
        if access(directory, W_OK) != 0 { return "directory '\(directory)' is not writable" }
        return "the file system refused it"
    }
}

import Foundation

/// The one file a file-based reader is pointed at, rewritten for every input.
///
/// libHDF5, the zip reader and the IDX reader open paths, not memory, so each
/// fuzz input is written to a per-process file, in /dev/shm when it exists
/// (tmpfs: no disk traffic at thousands of inputs a second). Reusing one path
/// keeps the file system from filling with inputs.
final class ScratchFile: @unchecked Sendable {
    let path: String

    private init(path: String) { self.path = path }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var files: [FuzzTarget: ScratchFile] = [:]

    /// The scratch file of `target` in this process, created on first use and
    /// removed at exit.
    static func shared(for target: FuzzTarget) -> ScratchFile {
        lock.lock()
        defer { lock.unlock() }
        if let file = files[target] { return file }
        let directory = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        let file = ScratchFile(path: "\(directory)/modelport-fuzz-\(getpid())-\(target.rawValue).\(target.fileExtension)")
        if files.isEmpty { atexit { ScratchFile.removeAll() } }
        files[target] = file
        return file
    }

    private static func removeAll() {
        for file in files.values { unlink(file.path) }
    }

    /// Replaces the file's contents with `bytes`.
    /// - Returns: the file's path.
    func write(_ bytes: [UInt8]) -> String {
        // A harness that cannot write its input (a full /dev/shm) would go on
        // fuzzing an empty file and report nothing: stop loudly instead.
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { fatalError("fuzz harness: cannot create \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
            guard n > 0 else { fatalError("fuzz harness: cannot write \(path): \(String(cString: strerror(errno)))") }
            offset += n
        }
        return path
    }
}

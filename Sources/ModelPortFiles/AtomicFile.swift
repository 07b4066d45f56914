import Foundation

/// The one way ModelPort writes a file: into a temporary file in the target's
/// directory, flushed to disk, then renamed over the target, so a reader (or
/// a crash, or Ctrl-C) sees the old file or the new one, never half of one.
///
/// It refuses to replace a directory, a FIFO or device, or any file this
/// process read as an input (`predict --dump-file model.h5` must not eat the
/// model); keeps an existing target's permissions; writes through a symbolic
/// link to the file it points at (the link stays); and removes its temporary
/// file on failure and on SIGINT/SIGTERM (`TemporaryFiles`).
public enum AtomicFile {
    /// Writes `data` to `path`.
    /// - Throws: `FileError` naming `path`.
    public static func write(_ data: Data, to path: String) throws {
        try write(to: path) { temporary in
            guard let handle = FileHandle(forWritingAtPath: temporary) else {
                throw FileError(path, .inaccessible, "cannot write it")
            }
            defer { try? handle.close() }
            do { try handle.write(contentsOf: data) } catch {
                throw FileError(path, .inaccessible, "cannot write it: \(error.localizedDescription)")
            }
        }
    }

    /// Runs `body` with the path of an empty temporary file beside the
    /// target (created 0600, given the target's permissions before the
    /// rename), then moves it into place.
    /// - Throws: `FileError` naming `path` when it cannot or must not be
    ///   written; whatever `body` throws (the temporary file is removed).
    public static func write(to path: String, _ body: (_ temporaryPath: String) throws -> Void) throws {
        let target = try resolvedTarget(path)
        let mode = try checkReplaceable(target, as: path)
        let directory = (target as NSString).deletingLastPathComponent
        let name = (target as NSString).lastPathComponent
        let temporary: String
        do {
            temporary = try TemporaryFiles.create(in: directory.isEmpty ? "." : directory, prefix: ".\(name).tmp-")
        } catch {
            throw FileError(path, .inaccessible, "cannot write: no new file can be made in directory '\(DisplayPath(directory.isEmpty ? "." : directory))' (\(error.message.replacingOccurrences(of: "cannot create a temporary file in it: ", with: "")))")
        }
        do {
            try body(temporary)
            guard chmod(temporary, mode) == 0 else { throw FileError.system(path, errno, doing: "set its permissions") }
            try flushToDisk(temporary, path: path)
            guard rename(temporary, target) == 0 else { throw FileError.system(path, errno, doing: "move the finished file into place") }
            TemporaryFiles.unregister(temporary)
            try? flushToDisk(directory.isEmpty ? "." : directory, path: path)
        } catch {
            TemporaryFiles.remove(temporary)
            throw error
        }
    }

    /// The file a write to `path` replaces: `path` itself, or where its
    /// symbolic links lead (a link that dangles is written through too).
    static func resolvedTarget(_ path: String) throws(FileError) -> String {
        guard !path.isEmpty else { throw FileError(path, .notFound, "cannot write to an empty path") }
        var current = path
        for _ in 0..<40 {
            var info = stat()
            guard lstat(current, &info) == 0, (info.st_mode & S_IFMT) == S_IFLNK else { return current }
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let length = readlink(current, &buffer, Int(PATH_MAX))
            guard length > 0 else { throw FileError.system(path, errno, doing: "follow its symbolic link") }
            let link = String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            current = link.hasPrefix("/") ? link : ((current as NSString).deletingLastPathComponent as NSString).appendingPathComponent(link)
        }
        throw FileError(path, .inaccessible, "cannot write it: too many levels of symbolic links (a symbolic-link loop?)")
    }

    /// Checks that `target` may be replaced and its directory written;
    /// returns the permissions the new file gets.
    static func checkReplaceable(_ target: String, as path: String) throws(FileError) -> mode_t {
        var info = stat()
        var mode: mode_t? = nil
        if stat(target, &info) == 0 {
            switch info.st_mode & S_IFMT {
            case S_IFREG: break
            case S_IFDIR: throw FileError(path, .refusedOverwrite, "is a directory; give the name of a file to write")
            default: throw FileError(path, .refusedOverwrite, "is not a regular file (a FIFO, socket or device); not replacing it")
            }
            if InputFile.isInput(target) {
                throw FileError(path, .refusedOverwrite, "is an input of this command; not overwriting it (write to another file)")
            }
            mode = info.st_mode & 0o7777
        } else if errno != ENOENT {
            throw FileError.system(path, errno, doing: "write it")
        }
        let directory = (target as NSString).deletingLastPathComponent
        let parent = directory.isEmpty ? "." : directory
        guard stat(parent, &info) == 0 else {
            throw FileError(path, .notFound, "cannot write: directory '\(DisplayPath(parent))' does not exist")
        }
        guard (info.st_mode & S_IFMT) == S_IFDIR else {
            throw FileError(path, .notFound, "cannot write: '\(DisplayPath(parent))' is not a directory")
        }
        guard access(parent, W_OK) == 0 else {
            throw FileError(path, .inaccessible, "cannot write: directory '\(DisplayPath(parent))' is not writable")
        }
        return mode ?? (0o666 & ~currentUmask())
    }

    /// The process's umask, read without changing it (`umask()` can only be
    /// read by setting it, which would race with other threads creating files).
    static func currentUmask() -> mode_t {
        if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
           let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Umask:") }),
           let value = mode_t(line.dropFirst("Umask:".count).trimmingCharacters(in: .whitespaces), radix: 8) {
            return value
        }
        return 0o022
    }

    /// `fsync` of a file or directory.
    static func flushToDisk(_ file: String, path: String) throws(FileError) {
        let descriptor = open(file, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw FileError.system(path, errno, doing: "flush it to disk") }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 || errno == EINVAL else { throw FileError.system(path, errno, doing: "flush it to disk") }
    }
}

import Foundation

/// Renames `source` over `destination` atomically (POSIX rename), so readers
/// see either the old file or the complete new one.
func renameReplacing(_ source: String, _ destination: String) throws {
    if rename(source, destination) != 0 {
        let reason = String(cString: strerror(errno))
        unlinkQuietly(source)
        throw ReferenceError("\(destination): cannot move the finished file into place: \(reason)")
    }
}

func unlinkQuietly(_ path: String) { _ = unlink(path) }

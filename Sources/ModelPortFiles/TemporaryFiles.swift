import Foundation
import Synchronization

/// Temporary files that must not outlive the process: removed by their owner
/// when done, and by a SIGINT/SIGTERM/SIGHUP handler when the process is
/// interrupted (a killed `convert` must not leave gigabytes behind).
///
/// The handler only walks a fixed table of C strings and calls `unlink`, both
/// safe inside a signal handler, then lets the signal take its default course.
public enum TemporaryFiles {
    /// Most temporary files tracked at once; beyond that files are still
    /// removed by their owners, only not on a signal.
    static let capacity = 256

    /// Remembers `path` for removal on a signal.
    public static func register(_ path: String) {
        installHandlers()
        lock.withLock { _ in
            for slot in 0..<capacity where slots[slot] == nil {
                slots[slot] = strdup(path)
                return
            }
        }
    }

    /// Forgets `path` (after it was renamed into place or removed).
    public static func unregister(_ path: String) {
        lock.withLock { _ in
            for slot in 0..<capacity {
                guard let entry = slots[slot], String(cString: entry) == path else { continue }
                slots[slot] = nil
                free(entry)
                return
            }
        }
    }

    /// Removes `path` and forgets it.
    public static func remove(_ path: String) {
        unlink(path)
        unregister(path)
    }

    /// A new, empty, private (0600) file in `directory` whose name starts with `prefix`, registered.
    /// The name is registered before the file is created, so a signal can never
    /// leave behind a file the handler does not know.
    /// - Throws: `FileError` naming the directory.
    public static func create(in directory: String, prefix: String, suffix: String = "") throws(FileError) -> String {
        let letters = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        for _ in 0..<100 {
            let name = String((0..<10).map { _ in letters.randomElement()! })
            let path = directory + "/" + prefix + name + suffix
            register(path)
            let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            if descriptor >= 0 {
                close(descriptor)
                return path
            }
            let code = errno
            unregister(path)
            guard code == EEXIST else { throw FileError.system(directory, code, doing: "create a temporary file in it") }
        }
        throw FileError(directory, .inaccessible, "cannot create a temporary file in it: every name tried exists")
    }

    /// The directory for scratch files: `TMPDIR`, else `/tmp`.
    public static var directory: String {
        let value = ProcessInfo.processInfo.environment["TMPDIR"] ?? ""
        return value.isEmpty ? "/tmp" : value
    }

    // MARK: - Implementation

    private static let lock = Mutex<Void>(())
    nonisolated(unsafe) private static let slots: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?> = {
        let table = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: capacity)
        table.initialize(repeating: nil, count: capacity)
        return table
    }()

    /// Installs the handler for each signal still at its default action (a
    /// signal the process ignores, as under nohup, or handles itself, as
    /// training does for Ctrl-C, is left alone). Checked on every
    /// registration, since such a handler may have been removed since.
    private static func installHandlers() {
        _ = slots  // initialised before any handler can read it
        for signal in [SIGINT, SIGTERM, SIGHUP] {
            var current = sigaction()
            sigaction(signal, nil, &current)
            guard current.__sigaction_handler.sa_handler == nil else { continue }  // nil is SIG_DFL
            var action = sigaction()
            action.__sigaction_handler.sa_handler = removeAndReraise
            sigemptyset(&action.sa_mask)
            action.sa_flags = Int32(truncatingIfNeeded: SA_RESETHAND)
            sigaction(signal, &action, nil)
        }
    }

    /// Removes what is registered (from `slots`, with no locking or
    /// allocation), then raises the signal again with its default action.
    private static let removeAndReraise: @convention(c) (Int32) -> Void = { signal in
        let table = TemporaryFiles.slots
        for slot in 0..<TemporaryFiles.capacity {
            if let path = table[slot] { unlink(path) }
        }
        raise(signal)
    }
}

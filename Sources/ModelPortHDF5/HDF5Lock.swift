internal import CHDF5
import Foundation

/// The one lock that serialises every call into libhdf5.
///
/// A serial build of HDF5 is not thread-safe, so nothing may enter the
/// library concurrently: not reads, not opens, not the closes in `deinit`.
/// Debian's 1.10 package is in fact built thread-safe (with its own global
/// lock and per-thread error stacks: see `withHDF5`), but nothing here relies
/// on that lock. The lock is recursive so that helpers holding it may call each other.
private let hdf5Lock = NSRecursiveLock()

/// Library-wide state set up once, before first use.
private struct HDF5Runtime: Sendable {
    /// Link-access property list used for every path lookup: external links
    /// (to other files, devices, FIFOs) are refused rather than followed.
    let linkAccess: hid_t
}

/// Initialises the library once, before first use, and silences its
/// automatic printing of error stacks to stderr.
private let hdf5Runtime: HDF5Runtime = {
    hdf5Lock.lock()
    defer { hdf5Lock.unlock() }
    _ = H5open()
    mp_silence_errors()
    if mp_disable_plugins() < 0 { clearHDF5ErrorStack() }
    var lapl = mp_make_no_external_links_lapl()
    if lapl < 0 {
        clearHDF5ErrorStack()
        lapl = mp_H5P_DEFAULT()
    }
    return HDF5Runtime(linkAccess: lapl)
}()

/// The link-access property list for path lookups (never closed).
var hdf5LinkAccess: hid_t { hdf5Runtime.linkAccess }

/// Runs `body` with the library initialised, silenced and locked.
///
/// Every call into libhdf5 in this module goes through here.
/// - Throws: whatever `body` throws.
@inline(__always)
func withHDF5<R, E: Error>(_ body: () throws(E) -> R) throws(E) -> R {
    _ = hdf5Runtime
    hdf5Lock.lock()
    defer { hdf5Lock.unlock() }
    // The Debian build is in fact compiled thread-safe, so each thread has
    // its own error stack and printing switch: silence every thread we use.
    mp_silence_errors_on_this_thread()
    return try body()
}

/// HDF5's current error stack as one line (most specific first), then clears it.
///
/// Call with the lock held.
func takeHDF5ErrorMessage() -> String {
    var buffer = [CChar](repeating: 0, count: 1100)
    buffer.withUnsafeMutableBufferPointer { mp_take_error_message($0.baseAddress!) }
    return describeHDF5Failure(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
}

/// HDF5's error stack ("truncated file: eof = 5000, sblock->base_addr = 0, ...;
/// unable to open file") in words for the person who gave the file: the
/// failures it recognises named plainly, library internals (function names,
/// struct fields) left out, repeats dropped (a failure deep in a chain of
/// links repeats the same words once per level).
func describeHDF5Failure(_ stack: String) -> String {
    let lower = stack.lowercased()
    if lower.contains("truncated file") {
        return "the file is truncated (shorter than its HDF5 header says: damaged, or not copied completely)"
    }
    if lower.contains("too many links") || lower.contains("link traversal") {
        return "a link inside the file leads in a loop (too many soft links)"
    }
    if lower.contains("filter") && (lower.contains("not available") || lower.contains("can't open") || lower.contains("plugin")) {
        return "its data needs an HDF5 compression filter that is not available (filter plugins are never loaded)"
    }
    var seen = Set<Substring>()
    let plain = stack.split(separator: "; ").filter { part in
        !part.contains("->") && part.range(of: #"\bH5[A-Z]{1,2}_|\b[a-z]+_[a-z_]+\b|=\s*\d"#, options: .regularExpression) == nil
    }.filter { seen.insert($0).inserted }
    return plain.isEmpty ? (stack.isEmpty ? "" : "HDF5 cannot read its internal structure (the file is damaged)")
        : plain.joined(separator: "; ")
}

/// Discards HDF5's current error stack (after a probe whose failure is an answer).
///
/// Call with the lock held.
func clearHDF5ErrorStack() {
    _ = H5Eclear2(mp_H5E_DEFAULT())
}

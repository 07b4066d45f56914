import Foundation
import ModelPortFiles
import Synchronization

/// Private directories for uploaded and converted files, each removed as
/// soon as its request is answered, and a bound on how many uploads are
/// parsed at once (each one starts a resource-limited child process).
final class UploadArea: Sendable {
    private let active = Mutex(0)
    let maxConcurrent: Int

    init(maxConcurrent: Int = 2) { self.maxConcurrent = maxConcurrent }

    /// A new empty directory only this process can read (0700).
    func makeDirectory() throws -> String {
        var template = Array((TemporaryFiles.directory + "/modelport-serve-XXXXXX").utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw APIError(.internalServerError, "no_scratch_space", "cannot create a private directory for the upload: \(String(cString: strerror(errno)))")
        }
        return String(cString: made)
    }

    func remove(_ directory: String) {
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Runs `body` if fewer than `maxConcurrent` uploads are being worked on, else answers 503.
    func admit<T>(_ body: () async throws -> T) async throws -> T {
        let admitted = active.withLock { count -> Bool in
            guard count < maxConcurrent else { return false }
            count += 1
            return true
        }
        guard admitted else {
            throw APIError(.serviceUnavailable, "busy", "\(maxConcurrent) uploads are being checked already; try again in a moment")
        }
        defer { active.withLock { $0 -= 1 } }
        return try await body()
    }
}

/// Runs blocking work (waiting for a child process) on a thread of its own,
/// never on Swift's cooperative pool.
func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try body() }) }
    }
}

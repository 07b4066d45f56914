import CLandlock
import Foundation

/// Runs this program (`/proc/self/exe`) again as a child under
/// `ResourceLimits`, for work on files from strangers: a crash, a runaway
/// allocation or a hang there becomes an error here, and this process goes on.
public enum IsolatedProcess {
    /// The environment variable that hands the limits to the child.
    public static let limitsVariable = "MODELPORT_ISOLATION_LIMITS"

    /// How the child ended.
    public struct Outcome: Sendable {
        /// Exit status, when it exited.
        public let status: Int32?
        /// The signal that ended it, when one did (`SIGKILL` after the wall time too).
        public let signal: Int32?
        public let timedOut: Bool
        /// What it wrote to standard error.
        public let errorOutput: String
    }

    /// Runs `arguments` in a child and waits at most `limits.wallSeconds`.
    /// - Throws: `IsolationError` when the child cannot be started.
    public static func run(_ arguments: [String], limits: ResourceLimits) throws -> Outcome {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment[limitsVariable] = limits.encoded
        process.environment = environment
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        let finished = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in finished.signal() }
        do { try process.run() } catch {
            throw IsolationError("cannot start an isolated process (\(executable)): \(error.localizedDescription)")
        }
        nonisolated(unsafe) var output = Data()
        let reader = DispatchGroup()
        reader.enter()
        DispatchQueue.global().async {
            output = errors.fileHandleForReading.readDataToEndOfFile()
            reader.leave()
        }
        var timedOut = false
        if finished.wait(timeout: .now() + limits.wallSeconds) == .timedOut {
            timedOut = true
            kill(process.processIdentifier, SIGKILL)
            finished.wait()
        }
        reader.wait()
        let text = String(decoding: output.prefix(64 << 10), as: UTF8.self)
        if process.terminationReason == .uncaughtSignal {
            return Outcome(status: nil, signal: process.terminationStatus, timedOut: timedOut, errorOutput: text)
        }
        return Outcome(status: process.terminationStatus, signal: nil, timedOut: timedOut, errorOutput: text)
    }

    /// In the child: the limits the parent handed over, applied to this
    /// process. Call first thing, before any untrusted file is opened.
    /// - Throws: `IsolationError` when this process was not started by
    ///   `run` or a limit cannot be set.
    public static func enterChild() throws {
        guard let text = ProcessInfo.processInfo.environment[limitsVariable], let limits = ResourceLimits(encoded: text) else {
            throw IsolationError("this command is run by ModelPort itself for --untrusted files, not by hand")
        }
        try limits.apply()
    }

    /// In the child: from now on this process may create, change or delete
    /// files only beneath `directory` (Linux Landlock; reading stays allowed).
    /// - Returns: false when the kernel has no Landlock (nothing is confined then).
    /// - Throws: `IsolationError` when Landlock exists but refuses the rules.
    @discardableResult
    public static func confineWrites(to directory: String) throws -> Bool {
        guard modelport_landlock_writes_only_beneath(directory) != 0 else { return true }
        if errno == ENOSYS || errno == EOPNOTSUPP { return false }
        throw IsolationError("cannot confine the isolated process's writes to \(directory): \(String(cString: strerror(errno)))")
    }

    /// A signal's name (`SIGSEGV`).
    public static func signalName(_ signal: Int32) -> String {
        let names: [Int32: String] = [SIGSEGV: "SIGSEGV", SIGBUS: "SIGBUS", SIGABRT: "SIGABRT", SIGILL: "SIGILL",
                                      SIGFPE: "SIGFPE", SIGKILL: "SIGKILL", SIGXCPU: "SIGXCPU", SIGXFSZ: "SIGXFSZ",
                                      SIGTRAP: "SIGTRAP", SIGTERM: "SIGTERM"]
        return names[signal] ?? "signal \(signal)"
    }

    static var executable: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }
}

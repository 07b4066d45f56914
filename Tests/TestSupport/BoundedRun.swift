import Foundation

/// How a `modelport` run bounded in time (and optionally address space) ended.
public struct BoundedRun {
    public let status: Int32
    /// Killed by a signal (a trap, an abort, or the timeout's kill).
    public let signaled: Bool
    public let timedOut: Bool
    public let stdout: String
    public let stderr: String
    public let seconds: Double

    /// Exited normally with `status`, in time.
    public func exited(_ expected: Int32) -> Bool { !signaled && !timedOut && status == expected }
    public var summary: String { "status \(status)\(signaled ? " (signal)" : "")\(timedOut ? " (timed out)" : ""), \(String(format: "%.1f", seconds)) s; stderr: \(stderr.prefix(600))" }
}

/// Runs `modelport` like `TestPaths.runModelPort`, but kills it after
/// `timeout` seconds, so a hang fails the test instead of stalling the suite;
/// with `addressSpace` (bytes) it runs under `ulimit -v`, so a runaway
/// allocation fails fast instead of taking the machine's memory.
public func runModelPortBounded(_ arguments: [String], timeout: Double = 60, addressSpace: Int? = nil,
                         environment: [String: String] = [:], in directory: URL? = nil) throws -> BoundedRun {
    let process = Process()
    let executable = TestPaths.modelportExecutable.path
    if let addressSpace {
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "ulimit -v \(addressSpace / 1024) && exec \"$0\" \"$@\"", executable] + arguments
    } else {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
    }
    process.currentDirectoryURL = directory ?? TestPaths.repoRoot
    var env = ProcessInfo.processInfo.environment
    for (k, v) in environment { env[k] = v }
    process.environment = env
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    let ended = DispatchSemaphore(value: 0)
    process.terminationHandler = { _ in ended.signal() }
    let start = Date()
    try process.run()
    // Read both pipes while the child runs, so a full pipe cannot block it.
    nonisolated(unsafe) var outData = Data(), errData = Data()
    let readers = DispatchGroup()
    DispatchQueue.global().async(group: readers) { outData = out.fileHandleForReading.readDataToEndOfFile() }
    DispatchQueue.global().async(group: readers) { errData = err.fileHandleForReading.readDataToEndOfFile() }
    var timedOut = false
    if ended.wait(timeout: .now() + timeout) == .timedOut {
        timedOut = true
        kill(process.processIdentifier, SIGKILL)
        ended.wait()
    }
    readers.wait()
    return BoundedRun(status: process.terminationStatus, signaled: process.terminationReason == .uncaughtSignal,
                      timedOut: timedOut, stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData, as: UTF8.self), seconds: Date().timeIntervalSince(start))
}

import Foundation

/// Runs `script` with the project's Python (the virtualenv tools/setup.sh
/// makes, or `MODELPORT_VENV`) and returns its standard output.
/// - Throws: `PythonFailure` when it exits non-zero.
public func python(_ script: String, _ arguments: [String] = []) throws -> Data {
    let venv = ProcessInfo.processInfo.environment["MODELPORT_VENV"].map { URL(fileURLWithPath: $0) }
        ?? TestPaths.repoRoot.appendingPathComponent(".venv")
    let process = Process()
    process.executableURL = venv.appendingPathComponent("bin/python")
    process.arguments = ["-c", script] + arguments
    let out = Pipe()
    process.standardOutput = out
    try process.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { throw PythonFailure(status: process.terminationStatus) }
    return data
}

public struct PythonFailure: Error, CustomStringConvertible {
    public let status: Int32
    public var description: String { "python exited \(status)" }
}

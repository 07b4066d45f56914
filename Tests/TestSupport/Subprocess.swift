import Foundation

/// Runs the built `modelport` executable, as a user would.
public struct CommandResult: Sendable {
    public let status: Int32
    public let stdout: String
    public let stderr: String
}

extension TestPaths {
    /// The `modelport` binary next to the test bundle in the build directory.
    public static var modelportExecutable: URL {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var dir = URL(fileURLWithPath: exe).deletingLastPathComponent()
        // macOS bundles: .../debug/X.xctest/Contents/MacOS/X
        for _ in 0..<4 where !FileManager.default.fileExists(atPath: dir.appendingPathComponent("modelport").path) {
            dir.deleteLastPathComponent()
        }
        return dir.appendingPathComponent("modelport")
    }

    /// Runs `modelport` with `arguments` in `directory` (default: the repo root).
    public static func runModelPort(_ arguments: [String], in directory: URL? = nil,
                                    environment: [String: String] = [:]) throws -> CommandResult {
        let process = Process()
        process.executableURL = modelportExecutable
        process.arguments = arguments
        process.currentDirectoryURL = directory ?? repoRoot
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        process.environment = env
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read both pipes before waiting so a full pipe cannot block the child.
        nonisolated(unsafe) var errData = Data()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            errData = err.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return CommandResult(status: process.terminationStatus,
                             stdout: String(decoding: outData, as: UTF8.self),
                             stderr: String(decoding: errData, as: UTF8.self))
    }
}

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

    /// Runs `modelport` with `arguments` in `directory` (default: the repo
    /// root); a run that hangs is killed after ten minutes (the test then fails).
    public static func runModelPort(_ arguments: [String], in directory: URL? = nil,
                                    environment: [String: String] = [:]) throws -> CommandResult {
        let run = try runModelPortBounded(arguments, timeout: 600, environment: environment, in: directory)
        return CommandResult(status: run.status, stdout: run.stdout, stderr: run.stderr)
    }
}

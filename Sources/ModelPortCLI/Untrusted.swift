import ArgumentParser
import Foundation
import ModelPortFormats

/// `--untrusted`, shared by every command that reads model or reference
/// files: they are then parsed in a resource-limited child (`Untrusted`).
struct TrustOptions: ParsableArguments {
    @Flag(help: ArgumentHelp(
        "Parse model and reference files in an isolated, resource-limited process (for files from strangers).",
        discussion: "Limits: MODELPORT_UNTRUSTED_MEMORY (default 4G of address space), MODELPORT_UNTRUSTED_SECONDS (default 120 s)."))
    var untrusted = false

    /// Routes this command's model and reference loading through the child process when asked.
    func apply() { Untrusted.enabled = untrusted || ProcessInfo.processInfo.environment["MODELPORT_UNTRUSTED"] == "1" }
}

/// The child's side of `--untrusted` (hidden): reads one file under the
/// limits its parent set and writes it again, as ModelPort writes files, into
/// the parent's private directory.
struct IsolatedLoad: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "isolated-load", abstract: "Internal: read an untrusted file for --untrusted.", shouldDisplay: false)

    @Option var kind: String
    @Option(name: .customLong("output-directory")) var outputDirectory: String
    @Option var config: String?
    @Argument var path: String

    func run() throws {
        try runReportingErrors {
            try Untrusted.childMain(kind: kind, path: path, config: config, outputDirectory: outputDirectory)
        }
    }
}

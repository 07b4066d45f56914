import Foundation
import ModelPortFiles
import ModelPortIsolation
import ModelPortKeras
import ModelPortONNX
import ModelPortRuntime
import ModelPortValidation

/// `--untrusted`: model and reference files are parsed in a resource-limited
/// child process (`modelport isolated-load`), which writes what it read as a
/// fresh file of ModelPort's own making into a private directory; only that
/// file is opened here. Debian's libhdf5 1.10 can crash on crafted metadata
/// before any check of ModelPort's runs: in the child, that crash is an error.
public enum Untrusted {
    /// Whether model and reference files are read in the isolated process.
    nonisolated(unsafe) public static var enabled = false

    /// The private directory the child writes into; removed when the last file read from it is gone.
    public final class Scratch: @unchecked Sendable {
        public let path: String
        init() throws {
            var template = Array((TemporaryFiles.directory + "/modelport-untrusted-XXXXXX").utf8CString)
            guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
                throw UntrustedFileError("cannot create a private directory for reading an untrusted file: \(String(cString: strerror(errno)))")
            }
            path = String(cString: made)
        }
        deinit { try? FileManager.default.removeItem(atPath: path) }
    }

    /// What the child says about the file it read.
    struct Summary: Codable {
        var format: String
        var file: String
    }

    /// `path` (a model file of any format) read in the child, then loaded here from the child's copy.
    public static func loadModel(_ path: String, configPath: String?) throws -> AnyModelFile {
        let scratch = try Scratch()
        try runChild(kind: "model", path: path, config: configPath, into: scratch)
        let summary = try JSONDecoder().decode(Summary.self, from: InputFile.read(scratch.path + "/summary.json", maxBytes: 1 << 20))
        var file = try AnyModelFile.loadTrusted(scratch.path + "/" + summary.file)
        file.origin = (path: path, format: summary.format, scratch: scratch)
        return file
    }

    /// A reference file read in the child, then loaded here from the child's copy.
    public static func readReference(_ path: String) throws -> ReferenceData {
        let scratch = try Scratch()
        try runChild(kind: "reference", path: path, config: nil, into: scratch)
        let copy = try ReferenceData.read(scratch.path + "/reference.h5")
        return ReferenceData(path: path, inputTensors: copy.inputTensors, outputTensors: copy.outputTensors, labels: copy.labels,
                             layerOutputs: copy.layerOutputs)
    }

    static func runChild(kind: String, path: String, config: String?, into scratch: Scratch) throws {
        let limits = ResourceLimits.default
        let absolute = { (p: String) in p.hasPrefix("/") ? p : FileManager.default.currentDirectoryPath + "/" + p }
        var arguments = ["isolated-load", "--kind", kind, "--output-directory", scratch.path, absolute(path)]
        if let config { arguments += ["--config", absolute(config)] }
        let outcome = try IsolatedProcess.run(arguments, limits: limits)
        if outcome.status == 0 { return }
        if outcome.timedOut {
            throw UntrustedFileError("\(path): reading it took longer than \(Int(limits.wallSeconds)) s in the isolated process and was stopped (MODELPORT_UNTRUSTED_SECONDS)")
        }
        if let signal = outcome.signal {
            let why = signal == SIGXCPU ? "it used more than \(limits.cpuSeconds) s of CPU time"
                : "the reader crashed (\(IsolatedProcess.signalName(signal))) on it"
            throw UntrustedFileError("\(path): \(why) in the isolated process; the file is damaged or hostile (or needs more than the \(limits.memoryBytes >> 20) MB that process may use: MODELPORT_UNTRUSTED_MEMORY), and nothing here was affected")
        }
        // The child's own error message, already naming the file.
        let message = outcome.errorOutput.split(separator: "\n").first.map(String.init) ?? ""
        if message.hasPrefix("error: ") {
            // The child was given absolute paths; name the file as the user did.
            let text = String(message.dropFirst("error: ".count)).replacingOccurrences(of: absolute(path), with: path)
            throw UntrustedFileError(text)
        }
        if message.contains("Fatal error") || message.contains("memory") || message.contains("alloc") {
            throw UntrustedFileError("\(path): reading it needed more than the isolated process's \(limits.memoryBytes >> 20) MB (MODELPORT_UNTRUSTED_MEMORY)")
        }
        throw UntrustedFileError("\(path): the isolated process failed reading it (exit \(outcome.status ?? -1))")
    }

    /// The child's side (`modelport isolated-load`): applies the limits its
    /// parent set, reads one file of `kind` ("model" or "reference") and writes
    /// it again, as ModelPort writes files, into `outputDirectory`.
    public static func childMain(kind: String, path: String, config: String?, outputDirectory: String) throws {
        try IsolatedProcess.enterChild()
        FileManager.default.changeCurrentDirectoryPath(outputDirectory)
        // Scratch files (a .keras archive's extracted weights) go where the
        // child may write: nowhere but the parent's private directory.
        setenv("TMPDIR", outputDirectory, 1)
        try IsolatedProcess.confineWrites(to: outputDirectory)
        switch kind {
        case "reference":
            try ReferenceData.read(path).write(to: outputDirectory + "/reference.h5")
        case "model":
            let file = try AnyModelFile.loadTrusted(path, configPath: config)
            let name: String
            if let keras = file.keras {
                let generation = KerasGeneration(kerasVersion: keras.kerasVersion) ?? .keras3
                let container: KerasWriter.Container = keras.format == .legacyH5 ? .legacyH5 : .archive
                name = container == .legacyH5 ? "model.h5" : "model.keras"
                try KerasWriter.write(file.model, to: outputDirectory + "/" + name,
                                      options: try .preserving(keras, for: generation, container: container))
            } else {
                // ONNX is parsed by ModelPort's own checked code: the bytes the child
                // read without harm are handed over unchanged.
                name = "model.onnx"
                try AtomicFile.write(try InputFile.read(path, maxBytes: 1 << 30), to: outputDirectory + "/" + name)
            }
            let summary = Untrusted.Summary(format: file.format.rawValue, file: name)
            try AtomicFile.write(try JSONEncoder().encode(summary), to: outputDirectory + "/summary.json")
        default:
            throw UntrustedFileError("unknown kind '\(kind)'")
        }
    }
}

/// A file read with `--untrusted` that could not be read, in words.
public struct UntrustedFileError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}

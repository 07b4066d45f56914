import Foundation
import ModelPortFiles

/// Reading and writing whole ONNX files, through ModelPortFiles: bounded
/// reads of regular files, atomic writes.
enum ONNXFileIO {
    /// Largest ONNX file ModelPort reads (protobuf itself cannot exceed 2 GiB).
    static let maxFileBytes = 1 << 30

    /// The file's bytes, after checking it is a regular file of a sane size.
    /// - Throws: `ONNXError` naming the file: missing, not a regular file,
    ///   empty, too large, unreadable.
    static func read(_ path: String) throws -> [UInt8] {
        let data: Data
        do { data = try InputFile.read(path, maxBytes: maxFileBytes) } catch {
            throw ONNXError(file: path, message: error.message)
        }
        guard !data.isEmpty else { throw ONNXError(file: path, message: "the file is empty") }
        return [UInt8](data)
    }

    /// Writes `bytes` to `path` atomically: a failure never leaves a
    /// half-written file or touches an existing one.
    /// - Throws: `ONNXError` naming `path`.
    static func writeAtomically(_ bytes: [UInt8], to path: String) throws {
        do { try AtomicFile.write(Data(bytes), to: path) } catch let error as FileError {
            throw ONNXError(file: path, message: error.message)
        }
    }
}

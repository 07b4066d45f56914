import Foundation

/// Opens any model file ModelPort understands, choosing the reader by the
/// file's first bytes (not its name), so a misnamed file still gets a clear
/// answer.
public enum ModelLoader {
    public static func load(_ path: String) throws -> KerasModelFile {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw KerasImportError(file: path, message: "no such file")
        }
        guard !isDirectory.boolValue else {
            throw KerasImportError(file: path, message: "is a directory, not a model file")
        }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw KerasImportError(file: path, message: "cannot be opened for reading")
        }
        let head = (try? handle.read(upToCount: 8)) ?? Data()
        try? handle.close()
        if head.starts(with: [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A]) {
            return try KerasH5Reader.load(path)
        }
        if head.starts(with: [0x50, 0x4B, 0x03, 0x04]) {
            throw KerasImportError(file: path, message: "this is a zip archive (a Keras 3 .keras file?); .keras archives are not supported yet — save with model.save(\"model.h5\")")
        }
        if head.isEmpty {
            throw KerasImportError(file: path, message: "the file is empty")
        }
        throw KerasImportError(file: path, message: "not a Keras model file (expected an HDF5 .h5 file; the file does not start with the HDF5 signature)")
    }
}

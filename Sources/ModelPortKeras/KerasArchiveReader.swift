import Foundation
import ModelPortFiles
import ModelPortHDF5
import ModelPortRuntime
import ZIPFoundation

/// Reads a Keras 3 `.keras` archive: a zip of `metadata.json`, `config.json`
/// (the model config) and `model.weights.h5` (the weights store).
enum KerasArchiveReader {
    /// Largest JSON member read into memory.
    static let maxJSONBytes: UInt64 = 64 << 20
    /// Largest weights member extracted.
    static let maxWeightsBytes: UInt64 = 8 << 30

    static func load(_ path: String) throws -> KerasModelFile {
        let archive = try open(path)
        let configText = try text(of: "config.json", in: archive, file: path)
        let config: JSONValue
        config = try JSONValue.parse(configText, file: path, what: "config.json")
        var version: String? = nil
        if archive["metadata.json"] != nil {
            version = (try? JSONValue.parse(try text(of: "metadata.json", in: archive, file: path)))?["keras_version"]?.string
        }
        // The weights are extracted and checked to be in the file before the model allocates room for them.
        let model = try withWeightsStore(in: archive, path: path) { weights in
            try weights.root.checkDataStored()
            let model = try KerasModelConfig.buildModel(config, file: path,
                                                        kerasMajorVersion: KerasH5Reader.majorVersion(version))
            try KerasWeightsStore.load(into: model, config: config, from: weights.root, file: path)
            return model
        }
        return KerasModelFile(path: path, format: .kerasArchive, kerasVersion: version, backend: nil,
                              modelConfig: config, trainingConfig: config["compile_config"], model: model)
    }

    /// Runs `body` on the archive's `model.weights.h5` (layer weights and,
    /// when saved compiled, `optimizer/vars/<i>`), extracted to a private
    /// temporary file that is removed afterwards.
    /// - Throws: `KerasImportError` when the archive or the member cannot be read.
    static func withWeightsStore<R>(_ path: String, _ body: (HDF5File) throws -> R) throws -> R {
        try withWeightsStore(in: try open(path), path: path, body)
    }

    /// The archive at `path`, a regular file (checked without blocking on a
    /// FIFO) whose member names are unique: Python's zipfile, which Keras
    /// uses, takes the last of several members of one name and ZIPFoundation
    /// the first, so two readers would see two different models.
    static func open(_ path: String) throws -> Archive {
        do { _ = try InputFile.check(path, maxBytes: Int.max) } catch {
            throw KerasImportError(file: path, message: error.message)
        }
        let archive: Archive
        do {
            archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .read)
        } catch {
            throw KerasImportError(file: path, message: "not a readable zip archive (its central directory cannot be read)")
        }
        var seen = Set<String>()
        for entry in archive {
            guard seen.insert(entry.path).inserted else {
                throw KerasImportError(file: path, message: "the archive holds duplicate members named '\(DisplayPath(entry.path))'; a .keras file has one of each")
            }
            // Keras never writes such names; an archive that has one was made to escape a careless extractor.
            if entry.path.hasPrefix("/") || entry.path.split(separator: "/").contains("..") || entry.path.contains("\\") {
                throw KerasImportError(file: path, message: "the archive holds a member named '\(DisplayPath(entry.path))', which points outside the archive (an unsafe archive)")
            }
        }
        return archive
    }

    /// `withWeightsStore(_:_:)` for an archive already open.
    static func withWeightsStore<R>(in archive: Archive, path: String, _ body: (HDF5File) throws -> R) throws -> R {
        guard let weightsEntry = archive["model.weights.h5"] else {
            throw KerasImportError(file: path, message: "the archive has no model.weights.h5")
        }
        guard weightsEntry.uncompressedSize <= maxWeightsBytes else {
            throw KerasImportError(file: path, message: "model.weights.h5 would be \(weightsEntry.uncompressedSize) bytes, more than ModelPort extracts")
        }
        // HDF5 reads from a file: extract the weights to a private temporary
        // file, removed afterwards (and on SIGINT/SIGTERM).
        let temporary: String
        do {
            temporary = try TemporaryFiles.create(in: TemporaryFiles.directory, prefix: "modelport-", suffix: ".weights.h5")
        } catch {
            throw KerasImportError(file: path, message: "cannot extract model.weights.h5: \(error)")
        }
        defer { TemporaryFiles.remove(temporary) }
        guard let handle = FileHandle(forWritingAtPath: temporary) else {
            throw KerasImportError(file: path, message: "cannot open a temporary file to extract model.weights.h5 into")
        }
        defer { try? handle.close() }
        try extract(weightsEntry, named: "model.weights.h5", limit: maxWeightsBytes, from: archive, file: path) { chunk in
            try handle.write(contentsOf: chunk)
        }
        do {
            return try body(try HDF5File(openingAt: temporary))
        } catch let e as HDF5Error {
            throw KerasImportError(file: path, message: "model.weights.h5: \(e.message) at '\(e.objectPath)'")
        }
    }

    /// A small member of the archive as UTF-8 text, size-checked before reading.
    static func text(of name: String, in archive: Archive, file: String) throws -> String {
        guard let entry = archive[name] else { throw KerasImportError(file: file, message: "the archive has no \(name)") }
        guard entry.uncompressedSize <= maxJSONBytes else {
            throw KerasImportError(file: file, message: "\(name) is \(entry.uncompressedSize) bytes, more than ModelPort reads")
        }
        var data = Data()
        try extract(entry, named: name, limit: maxJSONBytes, from: archive, file: file) { data.append($0) }
        guard let text = String(data: data, encoding: .utf8) else {
            throw KerasImportError(file: file, message: "\(name) is not UTF-8 text")
        }
        return text
    }

    /// Streams one member through `consume`, stopping with an error as soon
    /// as more comes out than the member declares (a zip's declared sizes can
    /// lie: a bomb declares little and inflates to gigabytes), and checking
    /// its CRC-32 at the end, as Python's zipfile does.
    static func extract(_ entry: Entry, named name: String, limit: UInt64, from archive: Archive, file: String,
                        _ consume: (Data) throws -> Void) throws {
        guard entry.type == .file else {
            throw KerasImportError(file: file, message: "\(name) in the archive is a \(entry.type == .symlink ? "symbolic link" : "directory"), not a file")
        }
        let declared = min(entry.uncompressedSize, limit)
        var produced: UInt64 = 0
        let checksum: CRC32
        do {
            checksum = try archive.extract(entry) { chunk in
                produced += UInt64(chunk.count)
                guard produced <= declared else {
                    throw KerasImportError(file: file, message: produced > limit
                        ? "\(name) expands beyond \(limit) bytes"
                        : "\(name) inflates to more than the \(entry.uncompressedSize) bytes the archive declares for it (a damaged or hostile archive)")
                }
                try consume(chunk)
            }
        } catch let e as KerasImportError {
            throw e
        } catch {
            throw KerasImportError(file: file, message: "cannot extract \(name) from the archive: it is damaged or truncated")
        }
        guard produced == entry.uncompressedSize else {
            throw KerasImportError(file: file, message: "\(name) holds \(produced) bytes, not the \(entry.uncompressedSize) the archive declares (a damaged archive)")
        }
        guard checksum == entry.checksum else {
            throw KerasImportError(file: file, message: "\(name) fails its CRC-32 check (the archive is damaged)")
        }
    }
}

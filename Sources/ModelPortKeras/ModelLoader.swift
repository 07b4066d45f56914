import Foundation
import ModelPortFiles
import ModelPortHDF5
import ModelPortRuntime

/// Opens any model file ModelPort understands, choosing the reader by the
/// file's first bytes (not its name), so a misnamed file still gets a clear
/// answer.
public enum ModelLoader {
    /// - Parameter configPath: a model config JSON (`config.json` from a
    ///   `.keras` archive, or `model.to_json()`), needed for a weights-only file.
    public static func load(_ path: String, configPath: String? = nil) throws -> KerasModelFile {
        let head: Data
        do { head = try InputFile.prefix(path, count: 8) } catch {
            throw KerasImportError(file: path, message: error.message)
        }
        if head.starts(with: [0x50, 0x4B, 0x03, 0x04]) {
            return try KerasArchiveReader.load(path)
        }
        if head.starts(with: [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A]) || HDF5File.isHDF5(path) {
            if let configPath { return try loadWeightsFile(path, configPath: configPath) }
            return try KerasH5Reader.load(path)
        }
        if head.isEmpty {
            throw KerasImportError(file: path, message: "the file is empty")
        }
        throw KerasImportError(file: path, message: "not a Keras model file (expected HDF5 .h5/.weights.h5 or a .keras zip archive)")
    }

    /// A weights file (Keras 3 `.weights.h5` store, or a legacy `save_weights`
    /// `.h5` with `layer_names`) plus the model config from a JSON file.
    static func loadWeightsFile(_ path: String, configPath: String) throws -> KerasModelFile {
        let data = try readConfigFile(configPath)
        guard let text = String(data: data, encoding: .utf8) else {
            throw KerasImportError(file: configPath, message: "not a JSON model config")
        }
        let config = try JSONValue.parse(text, file: configPath, what: "the model config", invalid: "not a JSON model config")
        let file = try HDF5File(openingAt: path)
        let version = try file.root.hasAttribute("keras_version") ? try file.root.readStringAttribute("keras_version") : nil
        try file.root.checkDataStored()
        let model = try KerasModelConfig.buildModel(config, file: configPath, kerasMajorVersion: KerasH5Reader.majorVersion(version))
        if file.root.isGroup("layers") {
            try KerasWeightsStore.load(into: model, config: config, from: file.root, file: path)
        } else {
            let weights = file.root.isGroup("model_weights") ? try file.root.group("model_weights") : file.root
            try KerasH5Reader.loadWeights(into: model, from: weights, file: path)
        }
        return KerasModelFile(path: path, format: .weightsH5, kerasVersion: version, backend: nil,
                              modelConfig: config, trainingConfig: nil, model: model)
    }

    /// A model built from a Keras model config alone — `model.to_json()`, a
    /// `.keras` archive's `config.json`, or a `.h5` file's `model_config`
    /// attribute — with no weights file: every weight is at the layer's
    /// construction value (zeros, ones for scales and variances), so call
    /// `Initializers.initialize(_:seed:)` before training it from scratch.
    /// The Keras generation (for `hard_sigmoid`) is the config's
    /// `keras_version` when it has one, else Keras 3.
    /// - Parameter file: the config's path, for error messages.
    /// - Throws: `KerasImportError` naming the file, and the layer for an
    ///   unsupported layer or argument.
    public static func model(fromConfig json: String, file: String) throws -> any Model {
        let config = try JSONValue.parse(json, file: file, what: "the model config", invalid: "not a JSON model config")
        return try KerasModelConfig.buildModel(config, file: file,
                                               kerasMajorVersion: KerasH5Reader.majorVersion(config["keras_version"]?.string))
    }

    /// `model(fromConfig:file:)` for a config JSON file.
    /// - Throws: `KerasImportError` when the file cannot be read, is larger
    ///   than 64 MiB or is not a model config.
    public static func model(fromConfigFile path: String) throws -> any Model {
        guard let text = String(data: try readConfigFile(path), encoding: .utf8) else {
            throw KerasImportError(file: path, message: "not a JSON model config")
        }
        return try model(fromConfig: text, file: path)
    }

    /// A model config JSON file's bytes, at most 64 MiB.
    static func readConfigFile(_ path: String) throws -> Data {
        do { return try InputFile.read(path, maxBytes: 64 << 20) } catch {
            throw KerasImportError(file: path, message: error.kind == .tooLarge ? "\(error.message); not a model config" : error.message)
        }
    }
}

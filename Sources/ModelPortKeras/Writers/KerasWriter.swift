import Foundation
import ModelPortFiles
import ModelPortHDF5
import ModelPortRuntime

/// Writes runtime models as Keras files: legacy `.h5` (Keras 2 or Keras 3
/// layout), `.keras` archives and `.weights.h5` weight stores.
///
/// Every write goes to a temporary file beside the destination that is
/// renamed into place only when complete, so a failure (an unwritable
/// directory, a layer Keras cannot describe) never leaves a half-written
/// file and never touches an existing one.
///
/// ```swift
/// // A model built or trained in Swift, saved compiled with its Adam state:
/// var options = KerasSaveOptions(generation: .keras3)
/// options.trainingConfig = trainingConfig          // loss, metrics, optimizer_config
/// options.optimizerWeights = adamState              // [KerasOptimizerWeight], Keras 3 names and order
/// try KerasWriter.write(model, to: "model.h5", options: options)
///
/// // A Keras file written back in the other generation's layout:
/// let file = try ModelLoader.load("model_keras2.h5")
/// try KerasWriter.write(file.model, to: "model_k3.h5", options: .preserving(file, for: .keras3))
/// ```
public enum KerasWriter {
    /// The container a path's extension asks for.
    public enum Container: String, Sendable {
        case legacyH5 = ".h5", archive = ".keras", weights = ".weights.h5"

        /// `.weights.h5` (checked first), `.h5`/`.hdf5`, `.keras`; nil otherwise.
        public init?(path: String) {
            let lower = path.lowercased()
            if lower.hasSuffix(".weights.h5") { self = .weights }
            else if lower.hasSuffix(".h5") || lower.hasSuffix(".hdf5") { self = .legacyH5 }
            else if lower.hasSuffix(".keras") { self = .archive }
            else { return nil }
        }
    }

    /// Writes `model` in the container `path`'s extension names.
    /// - Throws: `KerasExportError` naming the file (and the layer, for a
    ///   layer Keras cannot describe); `HDF5Error` for HDF5 failures.
    public static func write(_ model: any Model, to path: String, options: KerasSaveOptions = KerasSaveOptions()) throws {
        guard let container = Container(path: path) else {
            throw KerasExportError(file: path, message: "unknown Keras file extension (use .h5, .keras or .weights.h5)")
        }
        // A generated config spells a Sequential model holding operations as the functional model it is.
        let model = options.modelConfig == nil ? try functionalIfNeeded(model, generation: options.generation) : model
        switch container {
        case .legacyH5: try writeLegacyH5(model, to: path, options: options)
        case .archive: try writeArchive(model, to: path, options: options)
        case .weights: try writeWeights(model, to: path, options: options)
        }
    }

    /// Keras has no Sequential layer for an operation (`x / 255.0`, `ops.negative`): a Sequential
    /// model holding one (an ONNX chain with a constant divisor) is written as the equivalent
    /// functional model, input, then each layer on the one before.
    static func functionalIfNeeded(_ model: any Model, generation: KerasGeneration) throws -> any Model {
        guard let s = model as? Sequential else { return model }
        let dialect: KerasConfigDialect = generation == .keras2 ? .legacyKeras2 : .archive
        let holdsOperation = s.layers.contains { layer in
            if case .operation? = try? KerasCodecs.operationWriting(layer, dialect: dialect) { return true }
            return false
        }
        guard holdsOperation else { return model }
        var nodes = [Functional.Node(layer: InputLayer(name: KerasModelConfigWriter.sequentialInputName(generation), sampleShape: s.inputShape), inputs: [])]
        for layer in s.layers where !(layer is InputLayer) { nodes.append(Functional.Node(layer: layer, inputs: [nodes.count - 1])) }
        return try Functional(name: s.name, nodes: nodes, inputNodes: [0], outputNodes: [nodes.count - 1])
    }

    /// A legacy HDF5 model file, in `options.generation`'s layout.
    public static func writeLegacyH5(_ model: any Model, to path: String, options: KerasSaveOptions = KerasSaveOptions()) throws {
        // Generate (and so validate) the config before creating any file.
        var options = options
        if options.modelConfig == nil {
            options.modelConfig = try KerasModelConfigWriter.config(for: model, dialect: options.generation == .keras3 ? .legacyKeras3 : .legacyKeras2, file: path)
        }
        let written = options
        try replaceAtomically(path) { temporary in
            let file = try HDF5File(creatingAt: temporary)
            try KerasH5Writer.write(model, to: file, options: written, path: path)
            try file.flush()
        }
    }

    /// A Keras 3 `.keras` archive (always the Keras 3 layout).
    public static func writeArchive(_ model: any Model, to path: String, options: KerasSaveOptions = KerasSaveOptions()) throws {
        var options = options
        if options.modelConfig?["module"] == nil {
            options.modelConfig = try KerasModelConfigWriter.config(for: model, dialect: .archive, file: path)
        }
        let written = options
        try replaceAtomically(path) { temporary in
            try KerasArchiveWriter.writeArchive(model, to: temporary, options: written, destination: path)
        }
    }

    /// The weights alone, as `model.save_weights("x.weights.h5")` writes them
    /// (load them into a model of the same architecture with `load_weights`).
    /// When `options.kerasVersion` is set it is recorded as a root
    /// `keras_version` attribute (Keras ignores it), so a reader pairing the
    /// weights with a Keras 2 config knows which activations it means.
    public static func writeWeights(_ model: any Model, to path: String, options: KerasSaveOptions = KerasSaveOptions()) throws {
        try replaceAtomically(path) { temporary in
            let file = try HDF5File(creatingAt: temporary)
            try KerasArchiveWriter.writeWeightsStore(model, to: file, optimizer: nil, optimizerName: "optimizer", path: path)
            if let version = options.kerasVersion { try file.root.writeAttribute("keras_version", string: version) }
            try file.flush()
        }
    }

    /// The `.keras`-style model config (`config.json`) of `model`: what
    /// `ModelLoader.load(_:configPath:)` needs beside a `.weights.h5` file.
    /// - Throws: `KerasExportError` naming a layer Keras cannot describe.
    public static func archiveConfig(for model: any Model) throws -> JSONValue {
        try KerasModelConfigWriter.config(for: model, dialect: .archive, file: model.name)
    }

    /// JSON text of a config, as Keras's own `json.dumps` output reads back.
    public static func jsonText(_ value: JSONValue) throws -> String { try KerasAttributeWriter.json(value) }

    /// Runs `write` on a temporary path beside `path`, then renames it into
    /// place (`AtomicFile`); errors about the temporary file name `path`.
    static func replaceAtomically(_ path: String, _ write: (String) throws -> Void) throws {
        do {
            try AtomicFile.write(to: path) { temporary in
                do {
                    try write(temporary)
                } catch let e as KerasExportError where e.file.isEmpty || e.file == temporary {
                    throw KerasExportError(file: path, layer: e.layer, className: e.className, message: e.message)
                } catch let e as HDF5Error where e.file == temporary {
                    throw KerasExportError(file: path, message: "cannot write it: \(e.message)")
                }
            }
        } catch let e as FileError {
            throw KerasExportError(file: path, message: e.message)
        }
    }
}

extension KerasSaveOptions {
    /// Options that keep what a Keras file says about itself when its model
    /// is written back: its model config and `keras_version` when they are in
    /// the dialect being written (else the config is generated from the
    /// runtime model), and — in every layout — its compile settings and
    /// optimizer state (`KerasCompileState`), so the written model continues
    /// training in Keras.
    ///
    /// - Parameters:
    ///   - container: the kind of file being written (`.keras` archives
    ///     always use the Keras 3 archive config dialect).
    ///   - keepCompileState: false writes the model only (uncompiled).
    public static func preserving(_ file: KerasModelFile, for generation: KerasGeneration,
                                  container: KerasWriter.Container = .legacyH5, keepCompileState: Bool = true) throws -> KerasSaveOptions {
        var options = KerasSaveOptions(generation: container == .archive ? .keras3 : generation)
        let source = KerasGeneration(kerasVersion: file.kerasVersion)
        let sourceIsArchive = file.modelConfig["module"] != nil
        let sameGeneration = source == options.generation
        switch container {
        // A legacy config with operation layers is generated instead: Keras 3 cannot load op layers from a
        // legacy .h5 (the writer writes exact Rescalings or refuses), and a tf-keras constant first operand
        // `1.0` would come back through JSON numbers as the integer 1, which TensorFlow will not subtract a float from.
        case .legacyH5:
            if sameGeneration && !sourceIsArchive && !KerasOperationCall.configHasOperations(file.modelConfig) {
                options.modelConfig = file.modelConfig
            }
        case .archive: if sourceIsArchive { options.modelConfig = file.modelConfig }
        case .weights: break
        }
        if sameGeneration { options.kerasVersion = file.kerasVersion }
        if keepCompileState {
            let state = KerasCompileState.carried(from: file, to: options.generation, container: container)
            options.trainingConfig = state.trainingConfig
            options.optimizerWeights = state.optimizerWeights
        }
        if let backend = file.backend { options.backend = backend }
        return options
    }
}

/// Reading optimizer state back from a legacy `.h5`, to write it again.
public enum KerasOptimizerWeights {
    /// The `/optimizer_weights` variables of a legacy `.h5`, in stored order,
    /// or nil when the file has none.
    public static func read(legacyH5 path: String) throws -> [KerasOptimizerWeight]? {
        let file = try HDF5File(openingAt: path)
        guard file.root.isGroup("optimizer_weights") else { return nil }
        let group = try file.root.group("optimizer_weights")
        guard let names = try KerasH5Reader.readChunkedStrings(group, "weight_names") else { return nil }
        return try names.map { name in
            let dataset = try group.dataset(name)
            let shape = try dataset.shape()
            switch try dataset.elementType() {
            case .int64, .int32, .uint64, .uint32, .int16, .int8, .uint8, .uint16:
                return KerasOptimizerWeight(name: name, shape: shape, values: .int64(try dataset.read(as: Int64.self)))
            default:
                return KerasOptimizerWeight(name: name, shape: shape, values: .float32(try dataset.read(as: Float.self)))
            }
        }
    }
}

import ModelPortHDF5
import ModelPortRuntime

/// Reads a legacy Keras HDF5 model (`model.save("x.h5")`, Keras 2 or 3).
///
/// Driven entirely by what the file declares: the `model_config` attribute
/// builds the model, `/model_weights`'s `layer_names` and each layer group's
/// `weight_names` say where every weight lives (`conv2d/kernel:0` from
/// Keras 2, `sequential/conv2d/kernel` from Keras 3). Paths are never guessed.
public enum KerasH5Reader {
    public static func load(_ path: String) throws -> KerasModelFile {
        let file = try HDF5File(openingAt: path)
        let root = file.root
        guard try root.hasAttribute("model_config") else {
            let hint = (try? root.hasAttribute("layer_names")) == true || root.exists("layers")
                ? " (it looks like a weights-only file)" : ""
            throw KerasImportError(file: path, message: "no 'model_config' attribute: not a Keras model saved with model.save()\(hint)")
        }
        let configText = try root.readStringAttribute("model_config")
        let config: JSONValue
        config = try JSONValue.parse(configText, file: path, what: "the 'model_config' attribute")
        var training: JSONValue? = nil
        if try root.hasAttribute("training_config") {
            training = try? JSONValue.parse(try root.readStringAttribute("training_config"))
        }
        let weights = root.isGroup("model_weights") ? try root.group("model_weights") : root
        let version = try optionalString(root, "keras_version") ?? optionalString(weights, "keras_version")
        let backend = try optionalString(root, "backend") ?? optionalString(weights, "backend")
        // Every weight must be in the file before the model allocates room for it.
        try weights.checkDataStored()
        let model = try KerasModelConfig.buildModel(config, file: path, kerasMajorVersion: majorVersion(version))
        try loadWeights(into: model, from: weights, file: path)
        return KerasModelFile(path: path, format: .legacyH5, kerasVersion: version, backend: backend,
                              modelConfig: config, trainingConfig: training, model: model)
    }

    /// Fills every layer's parameters from an HDF5 weights group laid out by
    /// Keras's `save_weights_to_hdf5_group`.
    /// - Throws: `KerasImportError` when a layer's weights are missing, extra,
    ///   or of the wrong shape.
    static func loadWeights(into model: any Model, from group: HDF5Group, file: String) throws {
        guard let layerNames = try readChunkedStrings(group, "layer_names") else {
            throw KerasImportError(file: file, message: "'\(group.path)' has no 'layer_names' attribute: no Keras weights here")
        }
        let byName = Dictionary(model.layers.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var loaded = Set<String>()
        for layerName in layerNames {
            let layerGroup: HDF5Group
            do { layerGroup = try group.group(layerName) } catch let error as HDF5Error {
                // Missing, a dangling or looping link, not a group: HDF5's lookup says which.
                throw KerasImportError(file: file, layer: layerName, message: "listed in layer_names but '\(group.path)/\(layerName)' cannot be opened: \(error.message)")
            }
            let weightNames = try readChunkedStrings(layerGroup, "weight_names") ?? []
            guard let layer = byName[layerName] else {
                if weightNames.isEmpty { continue }
                throw KerasImportError(file: file, layer: layerName,
                                       message: "the file has \(weightNames.count) weights for this layer, but the model config has no layer of that name")
            }
            let parameters = (layer as? ModelLayer).flatMap { nestedParameters($0, weightNames: weightNames) } ?? layer.parameters
            guard weightNames.count == parameters.count else {
                throw KerasImportError(file: file, layer: layerName, className: layer.typeName,
                                       message: "the file has \(weightNames.count) weights (\(weightNames.joined(separator: ", "))), the layer needs \(parameters.count) (\(parameters.map(\.name).joined(separator: ", ")))")
            }
            for (weightName, parameter) in zip(weightNames, parameters) {
                // "sequential/conv2d/kernel" or "conv2d/kernel:0" -> "kernel"
                let base = unnumbered(weightName.split(separator: "/").last.map { String($0.split(separator: ":").first ?? $0) } ?? weightName)
                guard base == parameter.name || weightNameAliases[parameter.name]?.contains(base) == true else {
                    throw KerasImportError(file: file, layer: layerName, className: layer.typeName,
                                           message: "weight '\(weightName)' is where the layer expects '\(parameter.name)'")
                }
                let dataset = try layerGroup.dataset(weightName)
                let shape = try dataset.shape()
                guard shape == parameter.shape else {
                    throw KerasImportError(file: file, layer: layerName, className: layer.typeName,
                                           message: "weight '\(weightName)' has shape \(shape), the layer needs \(parameter.shape)")
                }
                parameter.value = Tensor(shape: shape, scalars: try dataset.read(as: Float.self))
            }
            loaded.insert(layerName)
        }
        for layer in model.layers where !layer.parameters.isEmpty && !loaded.contains(layer.name) {
            throw KerasImportError(file: file, layer: layer.name, className: layer.typeName,
                                   message: "the file has no weights for this layer (not in layer_names)")
        }
    }

    /// A nested model's parameters in the order its group lists them. Keras
    /// writes a model's trainable weights first, then the rest (BatchNorm
    /// statistics, frozen layers' weights), so a fine-tuned base model is not
    /// in layer order: each `<inner layer>/<weight>` name is matched instead.
    /// Nil when the names do not pick one parameter each (the caller then
    /// reports the first mismatch in layer order).
    static func nestedParameters(_ layer: ModelLayer, weightNames: [String]) -> [Parameter]? {
        var byName: [String: Parameter] = [:]
        var ambiguous = Set<String>()
        for (_, owner, parameter) in KerasWeightNaming.owned(layer, path: "") {
            let key = owner.name + "/" + parameter.name
            if byName.updateValue(parameter, forKey: key) != nil { ambiguous.insert(key) }
        }
        var used = Set<ObjectIdentifier>()
        var result: [Parameter] = []
        for weightName in weightNames {
            let parts = weightName.split(separator: "/")
            guard parts.count >= 2 else { return nil }
            let owner = String(parts[parts.count - 2])
            let base = unnumbered(String(parts[parts.count - 1].split(separator: ":").first ?? ""))
            let names = [base] + weightNameAliases.filter { $0.value.contains(base) }.map(\.key)
            guard let key = names.map({ owner + "/" + $0 }).first(where: { byName[$0] != nil }), !ambiguous.contains(key),
                  let parameter = byName[key], used.insert(ObjectIdentifier(parameter)).inserted else { return nil }
            result.append(parameter)
        }
        return result
    }

    /// Names other Keras versions give the same weight (Keras 2's
    /// DepthwiseConv2D calls its kernel `depthwise_kernel`; Keras 3 calls a
    /// weight made without a name, as ConvNeXt's LayerScale gamma, `variable`).
    static let weightNameAliases: [String: Set<String>] = ["kernel": ["depthwise_kernel"], "gamma": ["variable"]]

    /// Keras 3 numbers the unnamed weights of a model `variable`, `variable_1`, ...: all are `variable`.
    static func unnumbered(_ base: String) -> String {
        guard base.hasPrefix("variable_"), base.dropFirst("variable_".count).allSatisfy(\.isNumber) else { return base }
        return "variable"
    }

    /// 3 for "3.15.1", 2 for "2.21.0"; 3 when unknown.
    static func majorVersion(_ version: String?) -> Int {
        version.flatMap { $0.split(separator: ".").first }.flatMap { Int($0) } ?? 3
    }

    /// Reads a string-array attribute that Keras may have split into
    /// `name0`, `name1`, ... because it exceeded HDF5's 64 KB header limit.
    /// Returns nil when neither form is present.
    static func readChunkedStrings(_ object: HDF5Object, _ name: String) throws -> [String]? {
        if try object.hasAttribute(name) {
            return try readStrings(object, name)
        }
        var result: [String] = []
        var index = 0
        while try object.hasAttribute("\(name)\(index)") {
            result += try readStrings(object, "\(name)\(index)")
            index += 1
        }
        return index == 0 ? nil : result
    }

    /// A string array; h5py stores an empty list (a layer with no weights) as
    /// an empty float64 array, which is read as no strings.
    private static func readStrings(_ object: HDF5Object, _ name: String) throws -> [String] {
        if try object.attributeShape(name) == [0] { return [] }
        return try object.readStringArrayAttribute(name)
    }

    private static func optionalString(_ object: HDF5Object, _ name: String) throws -> String? {
        try object.hasAttribute(name) ? object.readStringAttribute(name) : nil
    }
}

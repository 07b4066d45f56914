import Foundation
import ModelPortFiles
import ModelPortHDF5
import ModelPortRuntime
import ZIPFoundation

/// Writes Keras 3 `.keras` archives and `.weights.h5` weight stores.
///
/// A `.keras` file is a zip (entries stored, not compressed, as Keras writes
/// them) of `metadata.json`, `config.json` and `model.weights.h5`. The
/// weights store keys layers by snake_case class name, deduplicated in order
/// within each model (`conv2d`, `conv2d_1`, ...): `/layers/<key>/vars/<i>`,
/// plus `/optimizer/vars/<i>` for optimizer state.
enum KerasArchiveWriter {
    /// Writes the weights store (`model.save_weights("x.weights.h5")`'s layout).
    static func writeWeightsStore(_ model: any Model, to file: HDF5File, optimizer: [KerasOptimizerWeight]?, optimizerName: String, path: String) throws {
        let root = file.root
        try writeContainer(model, into: root)
        let vars = try root.createGroup("vars")
        try vars.writeAttribute("name", string: model.name)
        if let optimizer, !optimizer.isEmpty {
            let group = try root.createGroup("optimizer/vars")
            try group.writeAttribute("name", string: optimizerName)
            for (i, weight) in optimizer.enumerated() {
                try KerasH5Writer.writeOptimizerWeight(KerasOptimizerWeight(name: "\(i)", shape: weight.shape, values: weight.values), in: group, path: path)
            }
        }
    }

    /// `/layers/<key>/...` for every layer of `model` (Sequential models list no InputLayer).
    private static func writeContainer(_ model: any Model, into group: HDF5Group) throws {
        var used: [String: Int] = [:]
        for layer in KerasLayerOrder.layers(of: model) where !(model is Sequential && layer is InputLayer) {
            // Keras keys a layer's weights by the snake-cased class name its config gives, counted in its layer order.
            let className = (layer as? ModelLayer)?.typeName ?? KerasCodecs.writtenClassName(layer, generation: .keras3)
            var key = snakeCase(className)
            if let n = used[key] { used[key] = n + 1; key += "_\(n + 1)" } else { used[key] = 0 }
            let layerGroup = try group.createGroup("layers/\(key)")
            if let nested = layer as? ModelLayer {
                try writeContainer(nested.model, into: layerGroup)
            }
            let vars = try layerGroup.createGroup("vars")
            try vars.writeAttribute("name", string: layer.name)
            if layer is ModelLayer { continue }
            for (i, (_, owner, parameter)) in KerasWeightNaming.owned(layer, path: "").enumerated() {
                try vars.createWeight("\(i)", KerasWeightNaming.Weight(name: "\(i)", parameter: parameter, owner: owner))
            }
        }
    }

    /// Zips the archive to `path` (the caller's temporary file).
    static func writeArchive(_ model: any Model, to path: String, options: KerasSaveOptions, destination: String) throws {
        var config: JSONValue
        if let given = options.modelConfig, given["module"] != nil { config = given }
        else { config = try KerasModelConfigWriter.config(for: model, dialect: .archive, file: destination) }
        // The compile settings are the options' (a kept config's own are replaced: --model-only drops them).
        if case .object(var top) = config {
            if let training = options.trainingConfig { top["compile_config"] = compileConfig(training) } else { top.removeValue(forKey: "compile_config") }
            config = .object(top)
        }
        let version = options.kerasVersion.flatMap { KerasGeneration(kerasVersion: $0) == .keras3 ? $0 : nil } ?? KerasGeneration.keras3.formatVersion
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyy-MM-dd@HH:mm:ss"
        let metadata: JSONValue = .object(["keras_version": .string(version), "date_saved": .string(formatter.string(from: Date()))])

        let weightsPath = path + ".weights.h5"
        TemporaryFiles.register(weightsPath)
        defer { TemporaryFiles.remove(weightsPath) }
        do {
            let file = try HDF5File(creatingAt: weightsPath)
            let optimizer = options.trainingConfig != nil ? options.optimizerWeights : nil
            try writeWeightsStore(model, to: file, optimizer: optimizer, optimizerName: optimizerName(options.trainingConfig), path: destination)
            try file.flush()
        }
        let weights = try Data(contentsOf: URL(fileURLWithPath: weightsPath))
        unlink(path)  // the caller's empty temporary file: ZIPFoundation creates its own
        let archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .create)
        for (name, data) in [("metadata.json", Data(try KerasAttributeWriter.json(metadata).utf8)),
                             ("config.json", Data(try KerasAttributeWriter.json(config).utf8)),
                             ("model.weights.h5", weights)] {
            try archive.addEntry(with: name, type: .file, uncompressedSize: Int64(data.count), compressionMethod: .none) { position, size in
                data.subdata(in: Int(position)..<(Int(position) + size))
            }
        }
    }

    /// A legacy `training_config` as Keras 3's `compile_config`: the optimizer
    /// serialised under `optimizer`, and losses and metrics a legacy file
    /// serialises without a module (`{"class_name": "CategoricalCrossentropy", ...}`)
    /// given theirs, which the archive loader needs to find the class.
    static func compileConfig(_ training: JSONValue) -> JSONValue {
        var out: [String: JSONValue] = ["run_eagerly": .bool(false), "steps_per_execution": .number(1), "jit_compile": .bool(false)]
        for key in ["run_eagerly", "steps_per_execution", "jit_compile"] { if let v = training[key] { out[key] = v } }
        for key in ["loss", "loss_weights"] { out[key] = withModule(training[key] ?? .null, "keras.losses") }
        for key in ["metrics", "weighted_metrics"] { out[key] = withModule(training[key] ?? .null, "keras.metrics") }
        if let optimizer = training["optimizer_config"], let className = optimizer["class_name"]?.string {
            out["optimizer"] = .object(["module": .string("keras.optimizers"), "class_name": .string(className),
                                        "config": optimizer["config"] ?? .object([:]), "registered_name": .null])
        }
        return .object(out)
    }

    /// Serialised Keras objects (anywhere in lists and dicts) given `module` when they have none.
    static func withModule(_ value: JSONValue, _ module: String) -> JSONValue {
        switch value {
        case .array(let items): return .array(items.map { withModule($0, module) })
        case .object(var dict):
            guard dict["class_name"] != nil else { return .object(dict.mapValues { withModule($0, module) }) }
            if dict["module"] == nil {
                dict["module"] = .string(module)
                dict["registered_name"] = .null
            }
            return .object(dict)
        default: return value
        }
    }

    static func optimizerName(_ training: JSONValue?) -> String {
        training?["optimizer_config"]?["config"]?["name"]?.string
            ?? training?["optimizer_config"]?["class_name"]?.string?.lowercased() ?? "optimizer"
    }
}

/// Keras's `to_snake_case` of a class name: `MaxPooling2D` -> `max_pooling2d`, `ReLU` -> `re_lu`.
func snakeCase(_ name: String) -> String {
    func sub(_ s: String, _ pattern: String) -> String {
        let re = try! NSRegularExpression(pattern: pattern)
        return re.stringByReplacingMatches(in: s, range: NSRange(s.startIndex..., in: s), withTemplate: "$1_$2")
    }
    return sub(sub(name, "(.)([A-Z][a-z0-9]+)"), "([a-z])([A-Z])").lowercased()
}

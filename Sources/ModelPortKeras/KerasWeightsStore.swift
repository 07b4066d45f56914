import Foundation
import ModelPortHDF5
import ModelPortRuntime

/// Reads weights from a Keras 3 weights store — `model.weights.h5` inside a
/// `.keras` archive, or a standalone `.weights.h5` — into a runtime model.
///
/// The store keeps each layer's variables at `layers/<key>/vars/0, 1, ...`
/// where `<key>` is not the layer's name but its class name in snake_case,
/// numbered in the order Keras lists the model's layers (`conv2d`, `conv2d_1`,
/// `dense`, ...; see `KerasLayerOrder`); a nested model's layers are under
/// `layers/<key>/layers/`. So weights are mapped by walking the layers in that order.
enum KerasWeightsStore {
    static func load(into model: any Model, config: JSONValue, from root: HDF5Group, file: String) throws {
        guard root.isGroup("layers") else {
            throw KerasImportError(file: file, message: "no 'layers' group: not a Keras 3 weights file")
        }
        try load(model: model, config: config, group: try root.group("layers"), file: file)
    }

    private static func load(model: any Model, config: JSONValue, group: HDF5Group, file: String) throws {
        guard let entries = config["config"]?["layers"]?.array, let className = config["class_name"]?.string else {
            throw KerasImportError(file: file, message: "model config has no layers list")
        }
        let byName = Dictionary(model.layers.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        func entryName(_ entry: JSONValue) -> String { entry["name"]?.string ?? entry["config"]?["name"]?.string ?? "" }
        // Keras counts the keys along its own layer order (the config's, in a file Keras wrote), and
        // counts layers only: a Keras 3 operation (`keras.src.ops...`) holds no weights and takes no key.
        var ordered = entries.enumerated().filter { !($0.element["module"]?.string ?? "").hasPrefix("keras.src.ops") }
        if className != "Sequential" {
            var position: [String: Int] = [:]
            for (k, layer) in KerasLayerOrder.layers(of: model).enumerated() where position[layer.name] == nil { position[layer.name] = k }
            ordered = ordered.enumerated().sorted { a, b in
                let (pa, pb) = (position[entryName(a.element.element)] ?? Int.max, position[entryName(b.element.element)] ?? Int.max)
                return pa != pb ? pa < pb : a.offset < b.offset
            }.map(\.element)
        }
        var used: [String: Int] = [:]
        for (index, entry) in ordered {
            let layerClass = entry["class_name"]?.string ?? ""
            // A Sequential model does not list its InputLayer among its layers.
            if layerClass == "InputLayer" && className == "Sequential" { continue }
            var key = snakeCase(layerClass)
            if let n = used[key] { used[key] = n + 1; key += "_\(n + 1)" } else { used[key] = 0 }
            let name = entryName(entry)
            guard layerClass != "InputLayer" else { continue }
            guard let layer = byName[name] else {
                throw KerasImportError(file: file, layer: name, className: layerClass,
                                       message: "layer #\(index) of the config is not in the built model")
            }
            if let nested = layer as? ModelLayer {
                let path = "\(key)/layers"
                guard group.isGroup(path) else {
                    throw KerasImportError(file: file, layer: name, className: layerClass,
                                           message: "the weights file has no '\(group.path)/\(path)' for this nested model")
                }
                try load(model: nested.model, config: entry, group: try group.group(path), file: file)
                continue
            }
            let parameters = layer.parameters
            guard !parameters.isEmpty else { continue }
            let varsPath = "\(key)/vars"
            let stored = group.isGroup(varsPath) ? try group.group(varsPath).childNames().count : 0
            guard stored == parameters.count else {
                throw KerasImportError(file: file, layer: name, className: layerClass,
                                       message: "'\(group.path)/\(varsPath)' holds \(stored) variables, the layer needs \(parameters.count) (\(parameters.map(\.name).joined(separator: ", ")))")
            }
            for (i, parameter) in parameters.enumerated() {
                let dataset = try group.dataset("\(varsPath)/\(i)")
                let shape = try dataset.shape()
                guard shape == parameter.shape else {
                    throw KerasImportError(file: file, layer: name, className: layerClass,
                                           message: "variable \(i) ('\(parameter.name)') at '\(dataset.path)' has shape \(shape), the layer needs \(parameter.shape)")
                }
                parameter.value = Tensor(shape: shape, scalars: try dataset.read(as: Float.self))
            }
        }
    }

    /// Keras's `naming.to_snake_case`: "Conv2DTranspose" -> "conv2d_transpose",
    /// "PReLU" -> "p_re_lu", "BatchNormalization" -> "batch_normalization".
    static func snakeCase(_ name: String) -> String {
        var s = name.replacingOccurrences(of: "\\W+", with: "", options: .regularExpression)
        s = s.replacingOccurrences(of: "(.)([A-Z][a-z]+)", with: "$1_$2", options: .regularExpression)
        s = s.replacingOccurrences(of: "([a-z])([A-Z])", with: "$1_$2", options: .regularExpression)
        return s.lowercased()
    }
}

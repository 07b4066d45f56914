import Foundation
import ModelPortRuntime

/// Input names Keras accepts. ONNX names graph inputs freely (the model zoo's
/// `gpu_0/data_0`); Keras refuses a layer name with `/` (Keras 3 raises, and
/// in a legacy `.h5` it would split the layer's HDF5 group). A model converted
/// to Keras has such inputs renamed, `/` becoming `_`.
enum KerasInputNames {
    /// `model` with its InputLayers renamed where needed, and each renaming
    /// (old name, new name); nil when every name is already valid.
    static func valid(_ model: any Model) throws -> (model: any Model, renamed: [(String, String)])? {
        guard let f = model as? Functional else { return nil }
        var taken = Set(f.layers.map(\.name))
        var renamed: [(String, String)] = []
        var nodes = f.nodes
        for i in f.inputNodes {
            guard let input = nodes[i].layer as? InputLayer, input.name.contains("/") else { continue }
            let base = input.name.replacingOccurrences(of: "/", with: "_")
            var name = base
            var k = 1
            while taken.contains(name) { name = "\(base)_\(k)"; k += 1 }
            taken.insert(name)
            renamed.append((input.name, name))
            nodes[i] = Functional.Node(layer: InputLayer(name: name, sampleShape: input.sampleShape), inputs: [])
        }
        guard !renamed.isEmpty else { return nil }
        return (try Functional(name: f.name, nodes: nodes, inputNodes: f.inputNodes, outputNodes: f.outputNodes), renamed)
    }
}

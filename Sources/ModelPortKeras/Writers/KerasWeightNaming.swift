import ModelPortHDF5
import ModelPortRuntime

/// Every weight of a top-level layer with the name Keras gives it in a
/// legacy `.h5` (`weight_names`): Keras 2 `conv2d/kernel:0`; Keras 3
/// `<model>/conv2d/kernel` in a Sequential model, `conv2d/kernel` in a
/// functional one. Nested models list their inner layers' weights.
enum KerasWeightNaming {
    struct Weight {
        let name: String
        let parameter: Parameter
        /// The layer that owns it (the inner layer, for a nested model).
        let owner: any Layer
        /// Keras keeps a few counters as int64 (Normalization's `count`);
        /// they are written back in that type so files stay bit-identical.
        var isInt64: Bool { owner is Normalization && parameter.name == "count" }
    }

    static func weights(of layer: any Layer, in model: any Model, generation: KerasGeneration) -> [Weight] {
        let prefix = generation == .keras3 && model is Sequential ? model.name + "/" : ""
        var weights = owned(layer, path: "")
        if layer is ModelLayer {
            // Keras lists a model's weights as trainable_weights + non_trainable_weights.
            weights = weights.filter { $0.2.isUpdated } + weights.filter { !$0.2.isUpdated }
        }
        return weights.map { path, owner, parameter in
            Weight(name: generation == .keras2 ? path + owner.name + "/" + parameter.name + ":0"
                                               : prefix + path + owner.name + "/" + parameter.name,
                   parameter: parameter, owner: owner)
        }
    }

    /// (path of enclosing nested models, owning layer, parameter) in the layer's weight order.
    static func owned(_ layer: any Layer, path: String) -> [(String, any Layer, Parameter)] {
        if let nested = layer as? ModelLayer {
            return KerasLayerOrder.layers(of: nested.model).flatMap { owned($0, path: path + nested.model.name + "/") }
        }
        return layer.parameters.map { (path, layer, $0) }
    }
}

extension HDF5Group {
    /// A weight dataset in the type Keras stores it in.
    func createWeight(_ name: String, _ weight: KerasWeightNaming.Weight) throws {
        if weight.isInt64 {
            _ = try createDataset(name, shape: weight.parameter.shape, values: weight.parameter.value.scalars.map { Int64($0) })
        } else {
            _ = try createDataset(name, shape: weight.parameter.shape, values: weight.parameter.value.scalars)
        }
    }
}

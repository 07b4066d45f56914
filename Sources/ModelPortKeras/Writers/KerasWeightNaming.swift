import ModelPortRuntime

/// Every weight of a top-level layer with the name Keras gives it in a
/// legacy `.h5` (`weight_names`): Keras 2 `conv2d/kernel:0`; Keras 3
/// `<model>/conv2d/kernel` in a Sequential model, `conv2d/kernel` in a
/// functional one. Nested models list their inner layers' weights.
enum KerasWeightNaming {
    static func weights(of layer: any Layer, in model: any Model, generation: KerasGeneration) -> [(name: String, parameter: Parameter)] {
        let prefix = generation == .keras3 && model is Sequential ? model.name + "/" : ""
        return owned(layer).map { owner, parameter in
            generation == .keras2 ? (owner + "/" + parameter.name + ":0", parameter) : (prefix + owner + "/" + parameter.name, parameter)
        }
    }

    /// (innermost owning layer name, parameter) in the layer's weight order.
    private static func owned(_ layer: any Layer) -> [(String, Parameter)] {
        if let nested = layer as? ModelLayer {
            return nested.model.layers.flatMap { owned($0) }.map { (nested.model.name + "/" + $0.0, $0.1) }
        }
        return layer.parameters.map { (layer.name, $0) }
    }
}

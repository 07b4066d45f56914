import Foundation
import ModelPortHDF5
import ModelPortRuntime

/// Writes legacy Keras HDF5 models (`model.save("x.h5")`'s layout) in the
/// Keras 2 or Keras 3 spelling.
///
/// Layout (see docs KERAS-FORMATS.md): root attributes `keras_version`,
/// `backend`, `model_config` and (compiled models) `training_config`;
/// `/model_weights` with `layer_names` and one group per layer holding
/// `weight_names` and the weights at those paths; `/optimizer_weights` with
/// its own `weight_names` when optimizer state is given.
enum KerasH5Writer {
    static func write(_ model: any Model, to file: HDF5File, options: KerasSaveOptions, path: String) throws {
        let generation = options.generation
        let dialect: KerasConfigDialect = generation == .keras3 ? .legacyKeras3 : .legacyKeras2
        let config = try options.modelConfig ?? KerasModelConfigWriter.config(for: model, dialect: dialect, file: path)
        let version = options.kerasVersion ?? generation.formatVersion
        let root = file.root
        try root.writeAttribute("keras_version", string: version)
        try root.writeAttribute("backend", string: options.backend)
        try root.writeAttribute("model_config", string: try KerasAttributeWriter.json(config))
        if let training = options.trainingConfig {
            try root.writeAttribute("training_config", string: try KerasAttributeWriter.json(training))
        }
        try writeModelWeights(model, into: try root.createGroup("model_weights"), generation: generation, version: version, backend: options.backend)
        if options.trainingConfig != nil, let optimizer = options.optimizerWeights, !optimizer.isEmpty {
            let group = try root.createGroup("optimizer_weights")
            try KerasAttributeWriter.writeStrings(group, "weight_names", optimizer.map(\.name))
            for weight in optimizer { try writeOptimizerWeight(weight, in: group, path: path) }
        }
    }

    /// `save_weights_to_hdf5_group`: `layer_names`, then one group per layer.
    static func writeModelWeights(_ model: any Model, into group: HDF5Group, generation: KerasGeneration, version: String, backend: String) throws {
        // Keras matches them to its layers by position.
        let layers = KerasLayerOrder.layers(of: model)
        try KerasAttributeWriter.writeStrings(group, "layer_names", layers.map(\.name))
        try group.writeAttribute("backend", string: backend)
        try group.writeAttribute("keras_version", string: version)
        for layer in layers {
            let layerGroup = try group.createGroup(layer.name)
            let weights = KerasWeightNaming.weights(of: layer, in: model, generation: generation)
            try KerasAttributeWriter.writeStrings(layerGroup, "weight_names", weights.map(\.name))
            for weight in weights { try layerGroup.createWeight(weight.name, weight) }
        }
        let top = try group.createGroup("top_level_model_weights")
        try KerasAttributeWriter.writeStrings(top, "weight_names", [])
    }

    static func writeOptimizerWeight(_ weight: KerasOptimizerWeight, in group: HDF5Group, path: String) throws {
        guard weight.shape.reduce(1, *) == weight.count else {
            throw KerasExportError(file: path, message: "optimizer weight '\(weight.name)' has \(weight.count) values for shape \(weight.shape)")
        }
        switch weight.values {
        case .float32(let v): _ = try group.createDataset(weight.name, shape: weight.shape, values: v)
        case .int64(let v): _ = try group.createDataset(weight.name, shape: weight.shape, values: v)
        }
    }
}

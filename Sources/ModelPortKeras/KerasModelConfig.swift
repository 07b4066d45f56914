import ModelPortRuntime

/// Turns a Keras model config (`model_config` in `.h5`, `config.json` in
/// `.keras`) into a runtime model with zero weights.
///
/// Understands both generations' spellings: Keras 2 `batch_input_shape`,
/// Keras 3 `batch_shape`, and Keras 3's `{module, class_name, config,
/// registered_name}` wrappers.
enum KerasModelConfig {
    /// Largest input sample ModelPort accepts from a config, in elements.
    static let maxInputElements = 1 << 26
    /// Largest sample (elements) any layer may produce: far beyond real
    /// models, and small enough that no layer's shape arithmetic on it (times
    /// a kernel size, stride or upsampling factor) can overflow.
    static let maxSampleElements = 1 << 32
    /// Deepest nesting of models used as layers (the top model is depth 1).
    static let maxModelDepth = 16

    /// Builds the model, checking its declared weights against `MemoryBudget.limit`.
    static func buildModel(_ top: JSONValue, file: String, kerasMajorVersion: Int = 3) throws -> any Model {
        var weights = WeightBudget()
        return try buildModel(top, file: file, kerasMajorVersion: kerasMajorVersion, weights: &weights, depth: 1)
    }

    /// Builds a model at nesting `depth`, adding every weight it declares to
    /// `weights` before the layer holding it is allocated.
    static func buildModel(_ top: JSONValue, file: String, kerasMajorVersion: Int, weights: inout WeightBudget,
                           depth: Int) throws -> any Model {
        guard let className = top["class_name"]?.string, let config = top["config"] else {
            throw KerasImportError(file: file, message: "model config has no 'class_name'/'config' (not a Keras model config?)")
        }
        guard depth <= maxModelDepth else {
            throw KerasImportError(file: file, layer: config["name"]?.string, className: className,
                                   message: "models are nested more than \(maxModelDepth) deep")
        }
        switch className {
        case "Sequential":
            return try buildSequential(config, file: file, kerasMajorVersion: kerasMajorVersion, weights: &weights, depth: depth)
        case "Functional", "Model":
            return try KerasFunctionalConfig.build(config, file: file, kerasMajorVersion: kerasMajorVersion, weights: &weights,
                                                   depth: depth)
        default:
            throw KerasImportError(file: file, className: className,
                                   message: "top-level model class '\(className)' is not supported (supported: Sequential, Functional)")
        }
    }

    /// Whether a layer entry is itself a model (nested Sequential/Functional).
    static func isModelClass(_ className: String) -> Bool {
        ["Sequential", "Functional", "Model"].contains(className)
    }

    /// Builds one layer of a model from its config entry: a registered layer
    /// kind, or a nested model wrapped as a layer.
    static func buildLayer(_ entry: JSONValue, className: String, name: String, config: [String: JSONValue],
                           inputShape: [Int], file: String, kerasMajorVersion: Int, weights: inout WeightBudget,
                           depth: Int, operation: KerasOperationCall? = nil) throws -> any Layer {
        if isModelClass(className) {
            let inner = try buildModel(entry, file: file, kerasMajorVersion: kerasMajorVersion, weights: &weights, depth: depth + 1)
            guard inner.inputShapes.count == 1, inner.outputShapes.count == 1 else {
                throw KerasImportError(file: file, layer: name, className: className,
                                       message: "a nested model used as a layer must have one input and one output")
            }
            guard inner.inputShape == inputShape else {
                throw KerasImportError(file: file, layer: name, className: className,
                                       message: "nested model expects input \(inner.inputShape), gets \(inputShape)")
            }
            let layer = ModelLayer(model: inner, typeName: className == "Model" ? "Functional" : className)
            freezeIfNotTrainable(layer, config)
            return layer
        }
        var inner = config
        inner["batch_shape"] = nil
        inner["batch_input_shape"] = nil
        var args = try LayerArguments(file: file, className: className, name: name, config: inner,
                                      kerasMajorVersion: kerasMajorVersion, weights: weights)
        args.operation = operation
        let layer = try KerasCodecs.decode(&args, inputShape: inputShape)
        weights = args.weights
        freezeIfNotTrainable(layer, config)
        return layer
    }

    /// Keras `trainable: false` (a frozen layer, or a whole frozen base
    /// model): its weights are kept by training and listed by Keras among
    /// the non-trainable ones.
    private static func freezeIfNotTrainable(_ layer: any Layer, _ config: [String: JSONValue]) {
        guard config["trainable"] == .bool(false) else { return }
        for parameter in layer.parameters { parameter.frozen = true }
    }

    /// Refuses a layer output with an empty axis, more than
    /// `maxSampleElements` elements, or one sample larger than the memory limit.
    static func checkOutput(_ shape: [Int], file: String, layer: String, className: String) throws {
        func refuse(_ message: String) -> KerasImportError {
            KerasImportError(file: file, layer: layer, className: className, message: message)
        }
        guard shape.allSatisfy({ $0 >= 1 }) else { throw refuse("would produce an empty output of shape \(shape)") }
        let bytes: Int
        do {
            bytes = try MemoryBudget.bytes(ofShape: shape)
        } catch {
            throw refuse("would produce an output of shape \(shape), too large to address")
        }
        guard bytes / MemoryLayout<Float>.size <= maxSampleElements else {
            throw refuse("would produce \(shape) (\(bytes / MemoryLayout<Float>.size) elements per sample), larger than ModelPort accepts (\(maxSampleElements))")
        }
        do {
            try MemoryBudget.check(bytes, for: "one sample of its output (\(shape))")
        } catch let e as RuntimeError {
            throw refuse(e.message)
        }
    }

    static func buildSequential(_ config: JSONValue, file: String, kerasMajorVersion: Int, weights: inout WeightBudget,
                                depth: Int) throws -> Sequential {
        let modelName = config["name"]?.string ?? "sequential"
        guard let entries = config["layers"]?.array else {
            throw KerasImportError(file: file, className: "Sequential", message: "Sequential config has no 'layers' list")
        }
        var inputShape: [Int]? = nil
        var shape: [Int]? = nil
        var layers: [any Layer] = []
        for (index, entry) in entries.enumerated() {
            guard let layerClass = entry["class_name"]?.string, let layerConfig = entry["config"]?.object else {
                throw KerasImportError(file: file, message: "layer #\(index) of the Sequential config has no class_name/config")
            }
            let layerName = layerConfig["name"]?.string ?? "\(layerClass.lowercased())_\(index)"
            // The input shape comes from an InputLayer, or from the first
            // layer's batch shape (Keras 2 models built without InputLayer).
            let batchShape = layerConfig["batch_shape"] ?? layerConfig["batch_input_shape"]
            if layerClass == "InputLayer" {
                guard layers.isEmpty, shape == nil else {
                    throw KerasImportError(file: file, layer: layerName, className: layerClass,
                                           message: "an InputLayer may only come first in a Sequential model")
                }
                guard let batchShape, !batchShape.isNull else {
                    throw KerasImportError(file: file, layer: layerName, className: layerClass, argument: "batch_shape",
                                           message: "InputLayer has no batch_shape/batch_input_shape")
                }
                shape = try sampleShape(batchShape, file: file, layer: layerName)
                inputShape = shape
                try checkInputLayer(layerConfig, file: file, name: layerName)
                continue
            }
            if shape == nil {
                if let batchShape, !batchShape.isNull {
                    shape = try sampleShape(batchShape, file: file, layer: layerName)
                } else if let built = config["build_input_shape"], !built.isNull {
                    shape = try sampleShape(built, file: file, layer: modelName)
                } else {
                    throw KerasImportError(file: file, layer: layerName, className: layerClass,
                                           message: "the model config does not say its input shape (no InputLayer, batch_input_shape or build_input_shape)")
                }
                inputShape = shape
            }
            let layer = try buildLayer(entry, className: layerClass, name: layerName, config: layerConfig,
                                       inputShape: shape!, file: file, kerasMajorVersion: kerasMajorVersion,
                                       weights: &weights, depth: depth)
            do {
                shape = try layer.outputShape(for: shape!)
            } catch let e as RuntimeError {
                throw KerasImportError(file: file, layer: layerName, className: layerClass, message: e.message)
            }
            try checkOutput(shape!, file: file, layer: layerName, className: layerClass)
            layers.append(layer)
        }
        guard let inputShape, !layers.isEmpty else {
            throw KerasImportError(file: file, className: "Sequential", message: "the Sequential model has no layers")
        }
        do {
            return try Sequential(name: modelName, inputShape: inputShape, layers: layers)
        } catch let e as RuntimeError {
            throw KerasImportError(file: file, className: "Sequential", message: e.message)
        }
    }

    /// `[null, 28, 28, 1]` -> `[28, 28, 1]`, refusing unknown or absurd sizes.
    static func sampleShape(_ value: JSONValue, file: String, layer: String) throws -> [Int] {
        guard let dims = value.array, dims.count >= 2 else {
            throw KerasImportError(file: file, layer: layer, argument: "batch_shape",
                                   message: "expected [batch, dims...], found \(value.compactText)")
        }
        var shape: [Int] = []
        var total = 1
        for d in dims.dropFirst() {
            guard let i = d.int else {
                throw KerasImportError(file: file, layer: layer, argument: "batch_shape",
                                       message: "input shape \(value.compactText) has an unknown dimension; ModelPort needs fixed sample shapes")
            }
            guard i >= 1, i <= maxInputElements else {
                throw KerasImportError(file: file, layer: layer, argument: "batch_shape",
                                       message: "input dimension \(i) in \(value.compactText) is out of range")
            }
            total *= i
            guard total <= maxInputElements else {
                throw KerasImportError(file: file, layer: layer, argument: "batch_shape",
                                       message: "input shape \(value.compactText) is larger than ModelPort accepts (\(maxInputElements) elements per sample)")
            }
            shape.append(i)
        }
        return shape
    }

    static func checkInputLayer(_ config: [String: JSONValue], file: String, name: String) throws {
        var args = try LayerArguments(file: file, className: "InputLayer", name: name, config: config)
        args.ignore("batch_shape", "batch_input_shape", "optional", "input_tensor")
        try args.require("sparse", oneOf: [.bool(false)])
        try args.require("ragged", oneOf: [.bool(false)])
        try args.checkAllUnderstood()
    }
}

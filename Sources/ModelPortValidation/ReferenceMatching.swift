import ModelPortRuntime

/// How a reference file's datasets are matched to a model's inputs and
/// outputs (README, "Several inputs or outputs"):
///
/// - a model with one input takes the `inputs` dataset, or an `inputs` group
///   holding exactly one dataset, whatever it is named (a Sequential model
///   keeps no input name); the same for one output;
/// - a model with several takes `inputs/<name>` for each input, named as
///   `Model.inputNames` (Keras input layer names), and `outputs/<name>` for
///   each output, named as `Model.outputNames` (Keras's `model.output_names`);
///   a name the model does not have is an error, not ignored.
extension ReferenceData {
    /// This file's inputs in the order `model` takes them.
    /// - Throws: `ReferenceError` naming this file (and `modelPath`) when an
    ///   input has no dataset, a dataset names no input, or shapes differ.
    public func inputs(for model: any Model, modelPath: String) throws -> [Tensor] {
        try matched(inputTensors, group: "inputs", names: model.inputNames, shapes: model.inputShapes, modelPath: modelPath)
    }

    /// This file's outputs in the order `model` produces them.
    /// - Throws: `ReferenceError` as `inputs(for:modelPath:)`.
    public func outputs(for model: any Model, modelPath: String) throws -> [Tensor] {
        try matched(outputTensors, group: "outputs", names: model.outputNames, shapes: model.outputShapes, modelPath: modelPath)
    }

    /// Throws unless every model input and output has a dataset of its shape
    /// (before anything is run).
    public func check(against model: any Model, modelPath: String) throws {
        _ = try inputs(for: model, modelPath: modelPath)
        _ = try outputs(for: model, modelPath: modelPath)
    }

    private func matched(_ tensors: [ReferenceTensor], group: String, names: [String], shapes: [[Int]],
                         modelPath: String) throws -> [Tensor] {
        // "input", "output": what one dataset of the group is, for messages.
        let kind = String(group.dropLast())
        let verb = group == "inputs" ? "takes" : "produces"
        if names.count == 1, tensors.count == 1 {
            let t = tensors[0]
            guard t.values.sampleShape == shapes[0] else {
                if t.name == nil {
                    // The single-input wording of `checkShapes`, unchanged.
                    throw ReferenceError("\(path): the reference \(group) have shape \(t.values.sampleShape) per sample, but \(modelPath) \(verb) \(group) of shape \(shapes[0])")
                }
                throw ReferenceError("\(path): '\(t.datasetPath(in: group))' has shape \(t.values.sampleShape) per sample, but \(modelPath) \(verb) \(group) of shape \(shapes[0])")
            }
            return [t.values]
        }
        let listed = names.map { "\(group)/\($0)" }.joined(separator: ", ")
        if tensors.count == 1, tensors[0].name == nil {
            throw ReferenceError("\(path): '\(group)' is one dataset, but \(modelPath) \(verb) \(names.count) \(group) (\(names.joined(separator: ", "))); "
                                 + "write one dataset per \(kind): \(listed)")
        }
        let byName = Dictionary(tensors.compactMap { t in t.name.map { ($0, t) } }, uniquingKeysWith: { a, _ in a })
        let missing = names.filter { byName[$0] == nil }
        let unknown = tensors.compactMap(\.name).filter { !names.contains($0) }
        if !missing.isEmpty || !unknown.isEmpty {
            var problems: [String] = []
            if !missing.isEmpty {
                problems.append("no dataset for \(kind)\(missing.count == 1 ? "" : "s") \(missing.map { "'\(group)/\($0)'" }.joined(separator: ", "))")
            }
            if !unknown.isEmpty {
                problems.append("\(unknown.map { "'\(group)/\($0)'" }.joined(separator: ", ")) name\(unknown.count == 1 ? "s" : "") no \(kind) of \(modelPath)")
            }
            throw ReferenceError("\(path): \(problems.joined(separator: "; ")) (\(modelPath) \(verb) \(listed))")
        }
        return try zip(names, shapes).map { name, shape in
            // Present: `missing` is empty.
            guard let t = byName[name] else { throw ReferenceError("\(path): no dataset '\(group)/\(name)'") }
            guard t.values.sampleShape == shape else {
                throw ReferenceError("\(path): '\(group)/\(name)' has shape \(t.values.sampleShape) per sample, but \(kind) '\(name)' of \(modelPath) has shape \(shape)")
            }
            return t.values
        }
    }
}

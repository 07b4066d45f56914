import ModelPortRuntime

/// `modelport validate`: a model run on a reference file's inputs, every
/// element of every output compared with the reference outputs and,
/// optionally, every layer's output with the reference's per-layer outputs.
public struct ReferenceValidation: Sendable {
    /// One per model output, in the model's order.
    public let outputs: [OutputComparison]
    /// The per-layer comparison, when asked for.
    public let layers: LayerComparison?

    /// The first (for most models the only) output's comparison.
    public var comparison: Comparison { outputs[0].comparison }

    /// Every element of every output within tolerance, every predicted class
    /// agreeing, and (per layer) no layer diverging.
    public var passed: Bool { outputs.allSatisfy(\.comparison.passed) && layers?.firstDivergence == nil }

    /// - Parameters:
    ///   - modelPath: the model's file, for messages.
    ///   - perLayer: also compare each layer's output (`validate --layers`).
    /// - Throws: `ReferenceError` when the reference does not fit the model
    ///   (a missing or unknown `inputs/<name>`/`outputs/<name>` dataset, other
    ///   shapes; or no per-layer outputs when `perLayer`); `RuntimeError` from
    ///   the model.
    public init(model: any Model, reference: ReferenceData, modelPath: String,
                atol: Float = 1e-5, rtol: Float = 0, perLayer: Bool = false) throws {
        let inputs = try reference.inputs(for: model, modelPath: modelPath)
        let expected = try reference.outputs(for: model, modelPath: modelPath)
        let actual = try model.predict(inputs: inputs)
        // Labels are classes of the one output; with several, which head they belong to is unknown.
        let labels = expected.count == 1 ? reference.labels : nil
        outputs = try zip(model.outputNames, zip(actual, expected)).map { name, pair in
            OutputComparison(name: name, comparison: try Comparison(actual: pair.0, expected: pair.1, labels: labels, atol: atol, rtol: rtol))
        }
        layers = perLayer ? try LayerComparison(model: model, reference: reference, modelPath: modelPath, atol: atol, rtol: rtol) : nil
    }

    /// The result as `validate --json` prints it (JSONSerialization types):
    /// for one output, its comparison's fields at the top level (as before
    /// several outputs were supported) and `outputs` listing it; for several,
    /// `passed` and `samples` for all and the fields per output in `outputs`.
    public func jsonObject(modelPath: String, referencePath: String) -> [String: Any] {
        let r = comparison
        var object: [String: Any] = [
            "model": modelPath, "reference": referencePath, "passed": passed,
            "samples": r.samples, "atol": Double(r.atol), "rtol": Double(r.rtol),
            "outputs": outputs.map(\.jsonObject),
        ]
        if outputs.count == 1 {
            for (key, value) in outputs[0].jsonObject where key != "name" && key != "passed" { object[key] = value }
            object["passed"] = r.passed
        }
        if let layers {
            object["layers"] = layers.rows.map { row -> [String: Any] in
                ["name": row.layer, "type": row.typeName, "shape": row.shape, "passed": row.passed,
                 "max_abs_error": row.maxAbsoluteError.map { Double($0) } as Any,
                 "elements_outside_tolerance": row.elementsOutsideTolerance]
            }
            object["layer_samples"] = layers.samples
            object["first_divergence"] = layers.firstDivergence?.layer as Any
        }
        return object
    }
}

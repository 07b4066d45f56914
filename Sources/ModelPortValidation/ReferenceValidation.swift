import ModelPortRuntime

/// `modelport validate`: a model run on a reference file's inputs, every
/// output element compared with the reference outputs and, optionally, every
/// layer's output with the reference's per-layer outputs.
public struct ReferenceValidation: Sendable {
    public let comparison: Comparison
    /// The per-layer comparison, when asked for.
    public let layers: LayerComparison?

    /// Every output element within tolerance, every predicted class agreeing,
    /// and (per layer) no layer diverging.
    public var passed: Bool { comparison.passed && layers?.firstDivergence == nil }

    /// - Parameters:
    ///   - modelPath: the model's file, for messages.
    ///   - perLayer: also compare each layer's output (`validate --layers`).
    /// - Throws: `ReferenceError` when the reference does not fit the model
    ///   (or holds no per-layer outputs when `perLayer`); `RuntimeError` from
    ///   the model.
    public init(model: any Model, reference: ReferenceData, modelPath: String,
                atol: Float = 1e-5, rtol: Float = 0, perLayer: Bool = false) throws {
        if model.inputShapes.count == 1, model.outputShapes.count == 1 {
            try reference.checkShapes(modelInput: model.inputShape, modelOutput: model.outputShape, modelPath: modelPath)
        }
        let outputs = try model.predict(reference.inputs)
        comparison = try Comparison(actual: outputs, expected: reference.outputs, labels: reference.labels, atol: atol, rtol: rtol)
        layers = perLayer ? try LayerComparison(model: model, reference: reference, atol: atol, rtol: rtol) : nil
    }

    /// The result as `validate --json` prints it (JSONSerialization types).
    public func jsonObject(modelPath: String, referencePath: String) -> [String: Any] {
        let r = comparison
        var object: [String: Any] = [
            "model": modelPath, "reference": referencePath, "passed": r.passed,
            "samples": r.samples, "elements": r.elements, "atol": Double(r.atol), "rtol": Double(r.rtol),
            "max_abs_error": Double(r.maxAbsoluteError), "max_rel_error": Double(r.maxRelativeError),
            "elements_outside_tolerance": r.elementsOutsideTolerance,
            "argmax_agreement": r.argmaxAgreements,
            "worst": ["sample": r.worstSample, "element": r.worstElement,
                      "modelport": Double(r.worstActual), "reference": Double(r.worstExpected)],
        ]
        if let m = r.labelMatches { object["accuracy"] = Double(m) / Double(max(1, r.samples)) }
        if let m = r.referenceLabelMatches { object["reference_accuracy"] = Double(m) / Double(max(1, r.samples)) }
        if let layers {
            object["layers"] = layers.rows.map { row -> [String: Any] in
                ["name": row.layer, "type": row.typeName, "shape": row.shape, "passed": row.passed,
                 "max_abs_error": row.maxAbsoluteError.map { Double($0) } as Any,
                 "max_abs_reference": Double(row.magnitude), "tolerance": Double(row.tolerance),
                 "elements_outside_tolerance": row.elementsOutsideTolerance]
            }
            object["layer_samples"] = layers.samples
            object["first_divergence"] = layers.firstDivergence?.layer as Any
        }
        return object
    }
}

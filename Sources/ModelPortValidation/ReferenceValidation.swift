import ModelPortRuntime

/// `modelport validate`: a model run on a reference file's inputs, every
/// output element compared with the reference outputs and, optionally, every
/// layer's output with the reference's per-layer outputs.
public struct ReferenceValidation: Sendable {
    /// How the outputs are judged.
    public enum Rule: Sendable, Equatable {
        /// Every element within `atol + rtol·|reference|` and every predicted class agreeing.
        case tolerance
        /// ModelPort's and the reference's float32 errors against a float64
        /// run of the model within a small factor of each other
        /// (`RoundingVerdict`), on the first `samples` samples.
        case rounding(samples: Int)
    }

    public let comparison: Comparison
    /// The per-layer comparison, when asked for.
    public let layers: LayerComparison?
    /// The float64 verdict, when the rule is `.rounding` and the model can be run in float64.
    public let rounding: RoundingVerdict?
    /// Why the rounding rule was asked for but the tolerance rule decided.
    public let roundingUnavailable: String?

    /// The outputs pass the rule that decided, and (per layer) no layer diverges.
    public var passed: Bool { (rounding?.passed ?? comparison.passed) && layers?.firstDivergence == nil }

    /// - Parameters:
    ///   - modelPath: the model's file, for messages.
    ///   - perLayer: also compare each layer's output (`validate --layers`).
    /// - Throws: `ReferenceError` when the reference does not fit the model
    ///   (or holds no per-layer outputs when `perLayer`); `RuntimeError` from
    ///   the model.
    public init(model: any Model, reference: ReferenceData, modelPath: String,
                atol: Float = 1e-5, rtol: Float = 0, perLayer: Bool = false, rule: Rule = .tolerance) throws {
        if model.inputShapes.count == 1, model.outputShapes.count == 1 {
            try reference.checkShapes(modelInput: model.inputShape, modelOutput: model.outputShape, modelPath: modelPath)
        }
        let outputs = try model.predict(reference.inputs)
        comparison = try Comparison(actual: outputs, expected: reference.outputs, labels: reference.labels, atol: atol, rtol: rtol)
        layers = perLayer ? try LayerComparison(model: model, reference: reference, atol: atol, rtol: rtol) : nil
        guard case .rounding(let samples) = rule else {
            (rounding, roundingUnavailable) = (nil, nil)
            return
        }
        do {
            guard model.inputShapes.count == 1, model.outputShapes.count == 1 else {
                throw RuntimeError("the float64 run handles models with one input and one output")
            }
            let m = min(max(samples, 1), reference.inputs.batchCount)
            let truth = try Float64Run.outputs(model, inputs: [reference.inputs.batch(0..<m)])[0]
            rounding = try RoundingVerdict(actual: outputs, expected: reference.outputs, truth: truth)
            roundingUnavailable = nil
        } catch let e as RuntimeError {
            (rounding, roundingUnavailable) = (nil, e.message)
        }
    }

    /// Which rule decided the outputs' verdict, in words.
    public var decidingRule: String {
        if let rounding { return rounding.explanation }
        let tolerance = "tolerance: every element within atol + rtol x |reference| and every predicted class agreeing"
        return roundingUnavailable.map { "\(tolerance) (the float64 rounding rule could not run: \($0))" } ?? tolerance
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
        object["passed"] = passed
        object["rule"] = rounding == nil ? "tolerance" : "rounding"
        object["decided_by"] = decidingRule
        if let v = rounding {
            object["rounding"] = [
                "passed": v.passed, "samples": v.samples, "reference_factor": v.referenceFactor,
                "modelport_factor": v.modelportFactor, "floor": v.floor, "derived_tolerance": v.derivedTolerance,
                "max_difference": v.maxDifference, "elements_outside_derived_tolerance": v.elementsOutsideDerivedTolerance,
                "modelport_error": v.modelportError, "reference_error": v.referenceError,
                "worst": v.worst.map { ["sample": $0.sample, "element": $0.index, "modelport": Double($0.modelport),
                                        "reference": Double($0.reference), "float64": $0.float64] as [String: Any] },
            ] as [String: Any]
        }
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

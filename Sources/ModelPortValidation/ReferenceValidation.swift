import ModelPortRuntime

/// `modelport validate`: a model run on a reference file's inputs, every
/// element of every output compared with the reference outputs and,
/// optionally, every layer's output with the reference's per-layer outputs.
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

    /// One per model output, in the model's order.
    public let outputs: [OutputComparison]
    /// The per-layer comparison, when asked for.
    public let layers: LayerComparison?
    /// Why the rounding rule was asked for but the tolerance rule decided.
    public let roundingUnavailable: String?

    /// The first (for most models the only) output's comparison.
    public var comparison: Comparison { outputs[0].comparison }
    /// The first output's float64 verdict, when the rounding rule decided.
    public var rounding: RoundingVerdict? { outputs[0].rounding }

    /// Every output passes the rule that decided, and (per layer) no layer diverges.
    public var passed: Bool { outputs.allSatisfy(\.passed) && layers?.firstDivergence == nil }

    /// - Parameters:
    ///   - modelPath: the model's file, for messages.
    ///   - perLayer: also compare each layer's output (`validate --layers`).
    ///   - rule: `.rounding` runs the model again in float64 (`Float64Run`);
    ///     when it cannot (a layer without a float64 definition), the
    ///     tolerance decides and `roundingUnavailable` says why.
    /// - Throws: `ReferenceError` when the reference does not fit the model
    ///   (a missing or unknown `inputs/<name>`/`outputs/<name>` dataset, other
    ///   shapes; or no per-layer outputs when `perLayer`); `RuntimeError` from
    ///   the model.
    public init(model: any Model, reference: ReferenceData, modelPath: String,
                atol: Float = 1e-5, rtol: Float = 0, perLayer: Bool = false, rule: Rule = .tolerance) throws {
        let inputs = try reference.inputs(for: model, modelPath: modelPath)
        let expected = try reference.outputs(for: model, modelPath: modelPath)
        let actual = try model.predict(inputs: inputs)
        // Labels are classes of the one output; with several, which head they belong to is unknown.
        let labels = expected.count == 1 ? reference.labels : nil
        var truths: [Float64Run.Values]? = nil
        var unavailable: String? = nil
        if case .rounding(let samples) = rule {
            do {
                let m = min(max(samples, 1), inputs[0].batchCount)
                truths = try Float64Run.outputs(model, inputs: inputs.map { $0.batch(0..<m) })
            } catch let e as RuntimeError {
                unavailable = e.message
            }
        }
        outputs = try model.outputNames.indices.map { k in
            OutputComparison(name: model.outputNames[k],
                             comparison: try Comparison(actual: actual[k], expected: expected[k], labels: labels, atol: atol, rtol: rtol),
                             rounding: try truths.map { try RoundingVerdict(actual: actual[k], expected: expected[k], truth: $0[k]) })
        }
        roundingUnavailable = unavailable
        layers = perLayer ? try LayerComparison(model: model, reference: reference, modelPath: modelPath, atol: atol, rtol: rtol) : nil
    }

    /// Which rule decided the outputs' verdict, in words (the first failing output's, else the first's).
    public var decidingRule: String {
        if let rounding = (outputs.first { !$0.passed } ?? outputs[0]).rounding {
            return outputs.count == 1 ? rounding.explanation : "output '\((outputs.first { !$0.passed } ?? outputs[0]).name)': \(rounding.explanation)"
        }
        let tolerance = "tolerance: every element within atol + rtol x |reference| and every predicted class agreeing"
        return roundingUnavailable.map { "\(tolerance) (the float64 rounding rule could not run: \($0))" } ?? tolerance
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
            "rule": rounding == nil ? "tolerance" : "rounding", "decided_by": decidingRule,
        ]
        if outputs.count == 1 {
            for (key, value) in outputs[0].jsonObject where key != "name" && key != "passed" { object[key] = value }
            object["passed"] = outputs[0].passed
        }
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

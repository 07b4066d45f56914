/// One model output compared with its reference dataset.
public struct OutputComparison: Sendable {
    /// The output's name (`Model.outputNames`), as its `outputs/<name>` dataset.
    public let name: String
    public let comparison: Comparison
    /// The float64 verdict, when the rounding rule decides.
    public let rounding: RoundingVerdict?

    /// The rounding verdict when there is one, else the tolerance comparison.
    public var passed: Bool { rounding?.passed ?? comparison.passed }

    public init(name: String, comparison: Comparison, rounding: RoundingVerdict? = nil) {
        self.name = name
        self.comparison = comparison
        self.rounding = rounding
    }

    /// What `validate --json` lists per output (JSONSerialization types).
    public var jsonObject: [String: Any] {
        let r = comparison
        var object: [String: Any] = [
            "name": name, "passed": passed, "samples": r.samples, "elements": r.elements,
            "max_abs_error": Double(r.maxAbsoluteError), "max_rel_error": Double(r.maxRelativeError),
            "elements_outside_tolerance": r.elementsOutsideTolerance,
            "argmax_agreement": r.argmaxAgreements,
            "worst": ["sample": r.worstSample, "element": r.worstElement,
                      "modelport": Double(r.worstActual), "reference": Double(r.worstExpected)],
        ]
        if let v = rounding {
            object["rounding"] = [
                "passed": v.passed, "samples": v.samples, "reference_factor": v.referenceFactor,
                "modelport_factor": v.modelportFactor, "floor": v.floor, "derived_tolerance": v.derivedTolerance,
                "max_difference": v.maxDifference, "elements_outside_derived_tolerance": v.elementsOutsideDerivedTolerance,
                "modelport_error": v.modelportError, "reference_error": v.referenceError, "explanation": v.explanation,
                "worst": v.worst.map { ["sample": $0.sample, "element": $0.index, "modelport": Double($0.modelport),
                                        "reference": Double($0.reference), "float64": $0.float64] as [String: Any] },
            ] as [String: Any]
        }
        if let m = r.labelMatches { object["accuracy"] = Double(m) / Double(max(1, r.samples)) }
        if let m = r.referenceLabelMatches { object["reference_accuracy"] = Double(m) / Double(max(1, r.samples)) }
        return object
    }
}

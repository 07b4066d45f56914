/// One model output compared with its reference dataset.
public struct OutputComparison: Sendable {
    /// The output's name (`Model.outputNames`), as its `outputs/<name>` dataset.
    public let name: String
    public let comparison: Comparison

    public init(name: String, comparison: Comparison) {
        self.name = name
        self.comparison = comparison
    }

    /// What `validate --json` lists per output (JSONSerialization types).
    public var jsonObject: [String: Any] {
        let r = comparison
        var object: [String: Any] = [
            "name": name, "passed": r.passed, "samples": r.samples, "elements": r.elements,
            "max_abs_error": Double(r.maxAbsoluteError), "max_rel_error": Double(r.maxRelativeError),
            "elements_outside_tolerance": r.elementsOutsideTolerance,
            "argmax_agreement": r.argmaxAgreements,
            "worst": ["sample": r.worstSample, "element": r.worstElement,
                      "modelport": Double(r.worstActual), "reference": Double(r.worstExpected)],
        ]
        if let m = r.labelMatches { object["accuracy"] = Double(m) / Double(max(1, r.samples)) }
        if let m = r.referenceLabelMatches { object["reference_accuracy"] = Double(m) / Double(max(1, r.samples)) }
        return object
    }
}

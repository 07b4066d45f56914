import ArgumentParser
import Foundation
import ModelPortReports
import ModelPortFormats
import ModelPortKeras
import ModelPortRuntime
import ModelPortValidation

struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a model on reference inputs and compare every output element with the reference outputs.",
        discussion: """
            A reference file is HDF5 with datasets:
              inputs   float32, N x input shape (e.g. N x 28 x 28 x 1)
              outputs  float32, N x output shape: what the reference framework (Keras) predicted
              labels   integers, N (optional): true classes, to report accuracy
            tools/make_fixtures.py writes them with Keras; any h5py script can too.

            A model with several inputs or outputs has one dataset per input in a group \
            'inputs' and one per output in a group 'outputs', named after them: \
            inputs/<input layer name> (Keras: [t.name for t in model.inputs]) and \
            outputs/<output layer name> (Keras: model.output_names); 'modelport inspect' lists \
            the names. Either side may stay a single dataset when the model has one input \
            (or one output). Every output is compared; labels apply to a single output only.

            By default the verdict tells float32 rounding from a real difference: ModelPort runs \
            the model a second time in float64 (on the first --float64-samples samples) and \
            measures its own float32 error and the reference's against that run. It passes \
            when the reference's error is within 8x ModelPort's and ModelPort's within 32x the \
            reference's, and every other sample is within 32x that measured rounding (a deep \
            network's rounding passes); a model that differs from the one that made the \
            reference (a changed weight, a layer computed differently) fails however small \
            the difference. --explain shows the \
            worst elements. With --atol or --rtol the tolerance rule decides instead: an \
            element passes when |modelport - reference| <= atol + rtol * |reference| (numpy's \
            allclose rule), and every sample's predicted class (arg-max) must agree; it also \
            decides (atol 1e-5) when a layer has no float64 definition. Under both rules NaN \
            matches NaN where both have it, and an infinity the same infinity. Exit status 1 on failure.

            With --layers, each layer is judged against its own values: atol is scaled by \
            max(1, the layer's largest |reference|), as float32 rounding grows with the values summed.

            --json prints: passed, rule, decided_by, rounding (passed, samples, reference_factor, \
            modelport_factor, floor, modelport_error, reference_error, derived_tolerance, \
            max_difference, elements_outside_derived_tolerance, worst), samples, elements, atol, rtol, max_abs_error, max_rel_error, \
            elements_outside_tolerance, argmax_agreement, worst (sample, element, modelport, \
            reference), accuracy and reference_accuracy with labels, and with --layers: layers \
            (name, type, shape, passed, max_abs_error, max_abs_reference, tolerance, \
            elements_outside_tolerance), \
            layer_samples and first_divergence. 'outputs' lists the same per-output fields with \
            each output's name (and its rounding verdict); for a model with several outputs only \
            model, reference, passed, rule, decided_by, samples, atol, rtol, outputs (and the \
            --layers fields) are at the top level.

            Example:
              modelport validate fixtures/mnist_digit_model.h5 --reference fixtures/mnist_digit_model.reference.h5
            """)

    @OptionGroup var modelFile: ModelFileArgument
    var model: String { modelFile.model }

    @Option(name: .shortAndLong, help: "The reference file (HDF5 with inputs, outputs, optional labels; inputs/<name>, outputs/<name> for several).")
    var reference: String

    @Option(help: "Absolute tolerance per element: judge by tolerance instead of the float64 rounding rule (default rule: rounding; tolerance 1e-5 when the model cannot run in float64).")
    var atol: Float?

    @Option(help: "Relative tolerance per element (times |reference|); like --atol, selects the tolerance rule.")
    var rtol: Float?

    @Option(help: "Samples the float64 run of the rounding rule uses (the first ones).")
    var float64Samples = 8

    @Flag(help: "Print the worst elements with ModelPort's, the reference's and the float64 values and each float32 error.")
    var explain = false

    @Flag(help: "Also compare every layer's output with the reference's 'layers/<name>' datasets (a name with '/' is a nested group) and name the first layer that diverges.")
    var layers = false

    @OptionGroup var format: OutputFormatOptions
    var json: Bool { format.json }

    func validate() throws {
        for v in [atol, rtol].compactMap({ $0 }) where v < 0 || !v.isFinite {
            throw ValidationError("--atol and --rtol must be finite and non-negative")
        }
        guard float64Samples >= 1 else { throw ValidationError("--float64-samples must be at least 1") }
    }

    @OptionGroup var trust: TrustOptions

    func run() throws {
        trust.apply()
        var passed = false
        try runReportingErrors {
            let file = try modelFile.load()
            // Tolerances given: they decide. Otherwise the float64 rounding rule does.
            let rule: ReferenceValidation.Rule = atol == nil && rtol == nil ? .rounding(samples: float64Samples) : .tolerance
            let result = try ReferenceValidation(model: file.model, reference: try readReference(reference), modelPath: model,
                                                 atol: atol ?? 1e-5, rtol: rtol ?? 0, perLayer: layers, rule: rule)
            passed = result.passed
            if json {
                // NaN or infinite errors (a reference holding NaN) are written as the strings "nan", "inf", "-inf": JSON has no such numbers.
                let object = jsonWithNonFiniteAsStrings(result.jsonObject(modelPath: model, referencePath: reference))
                let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted])
                print(String(decoding: data, as: UTF8.self))
            } else {
                print(result.outputs.count == 1
                      ? ComparisonReport.text(result.comparison, modelPath: model, referencePath: reference, decidedBy: result)
                      : ComparisonReport.text(result.outputs, modelPath: model, referencePath: reference))
                if result.outputs.count > 1 { print("  decided by \(result.decidingRule)") }
                if explain {
                    for o in result.outputs { if let rounding = o.rounding { print(ComparisonReport.worst(rounding, output: result.outputs.count > 1 ? o.name : nil)) } }
                }
                if let perLayer = result.layers { print(ComparisonReport.layers(perLayer)) }
            }
        }
        if !passed { throw ExitCode(1) }
    }
}

/// The human-readable validation report, shared by `validate` and `demo`.
enum ComparisonReport {
    /// - Parameter decidedBy: the validation whose rule gives the verdict
    ///   (the float64 rounding rule); nil: the tolerance decides.
    static func text(_ r: Comparison, modelPath: String, referencePath: String, decidedBy result: ReferenceValidation? = nil) -> String {
        var lines = [
            "Compared \(r.samples) samples (\(grouped(r.elements)) output elements) of \(modelPath)",
            "  against \(referencePath)",
            "  max |modelport - reference|: \(sci(r.maxAbsoluteError))   (atol \(sci(r.atol)), rtol \(sci(r.rtol)))",
            "  max relative error:          \(sci(r.maxRelativeError))",
            "  worst: sample \(r.worstSample), element \(r.worstElement): modelport \(r.worstActual), reference \(r.worstExpected)",
            "  elements outside tolerance:  \(r.elementsOutsideTolerance)",
            "  predicted class agrees:      \(r.argmaxAgreements)/\(r.samples) (\(percent(r.argmaxAgreements, r.samples)))",
        ]
        if let m = r.labelMatches, let k = r.referenceLabelMatches {
            lines.append("  accuracy vs labels:          modelport \(percent(m, r.samples)), reference \(percent(k, r.samples))")
        }
        guard let result, result.rounding != nil || result.roundingUnavailable != nil else {
            lines.append(r.passed ? "PASSED" : "FAILED: outputs differ from the reference beyond the tolerance")
            return lines.joined(separator: "\n")
        }
        if let v = result.rounding {
            lines.append("  float64 run (\(v.samples) samples): ModelPort's float32 error \(sci(Float(v.modelportError))), the reference's \(sci(Float(v.referenceError)))")
            lines.append("  every sample within \(sci(Float(v.derivedTolerance))) (\(Int(v.modelportFactor))x that rounding): \(v.elementsOutsideDerivedTolerance) elements outside")
        }
        lines.append("  decided by \(result.decidingRule)")
        let outputsPassed = result.rounding?.passed ?? r.passed
        lines.append(outputsPassed ? "PASSED" : "FAILED: outputs differ from the reference beyond " + (result.rounding == nil ? "the tolerance" : "float32 rounding"))
        return lines.joined(separator: "\n")
    }

    /// `validate --explain`: the elements where ModelPort and the reference differ most.
    static func worst(_ v: RoundingVerdict, output: String? = nil) -> String {
        var table = TextTable(headers: ["sample", "element", "modelport", "reference", "float64", "|modelport - float64|", "|reference - float64|"],
                              rightAligned: [0, 1, 2, 3, 4, 5, 6])
        for e in v.worst {
            table.rows.append(["\(e.sample)", "\(e.index)", "\(e.modelport)", "\(e.reference)", String(format: "%.9g", e.float64),
                               sci(Float(e.modelportError)), sci(Float(e.referenceError))])
        }
        let title = "Worst elements" + (output.map { " of output '\($0)'" } ?? "") + " (float32 errors measured against a float64 run of the model):"
        return (["", title, table.render()]).joined(separator: "\n")
    }

    /// The report for a model with several outputs: one block per output, by name.
    static func text(_ outputs: [OutputComparison], modelPath: String, referencePath: String) -> String {
        let samples = outputs.first?.comparison.samples ?? 0
        let elements = outputs.reduce(0) { $0 + $1.comparison.elements }
        var lines = [
            "Compared \(samples) samples (\(grouped(elements)) output elements, \(outputs.count) outputs) of \(modelPath)",
            "  against \(referencePath)",
        ]
        for o in outputs {
            let r = o.comparison
            lines += [
                "  output '\(o.name)' (\(grouped(r.elements)) elements): \(o.passed ? "passed" : "FAILED")",
                "    max |modelport - reference|: \(sci(r.maxAbsoluteError))   (atol \(sci(r.atol)), rtol \(sci(r.rtol)))",
                "    max relative error:          \(sci(r.maxRelativeError))",
                "    worst: sample \(r.worstSample), element \(r.worstElement): modelport \(r.worstActual), reference \(r.worstExpected)",
                "    elements outside tolerance:  \(r.elementsOutsideTolerance)",
            ]
            // A one-element output (a regression head) has no class to agree on.
            if r.elements > r.samples {
                lines.append("    predicted class agrees:      \(r.argmaxAgreements)/\(r.samples) (\(percent(r.argmaxAgreements, r.samples)))")
            }
        }
        let failed = outputs.filter { !$0.passed }.map { "'\($0.name)'" }
        lines.append(failed.isEmpty ? "PASSED"
                     : "FAILED: output\(failed.count == 1 ? "" : "s") \(failed.joined(separator: ", ")) differ\(failed.count == 1 ? "s" : "") from the reference beyond " + (outputs.contains { $0.rounding != nil } ? "float32 rounding" : "the tolerance"))
        return lines.joined(separator: "\n")
    }

    /// The per-layer table and verdict of `validate --layers`.
    static func layers(_ c: LayerComparison) -> String {
        var table = TextTable(headers: ["Layer (type)", "Output Shape", "max |ref|", "max |diff|", "tolerance", ""], rightAligned: [2, 3, 4])
        for row in c.rows {
            let status = row.maxAbsoluteError == nil ? "no reference" : row.passed ? "ok" : "DIVERGES"
            let checked = row.maxAbsoluteError != nil
            table.rows.append(["\(row.layer) (\(row.typeName))", kerasShape(row.shape), checked ? sci(row.magnitude) : "-",
                               row.maxAbsoluteError.map(sci) ?? "-", checked ? sci(row.tolerance) : "-", status])
        }
        var lines = ["", "Per-layer comparison on the first \(c.samples) samples "
                     + "(each layer within atol x max(1, max |ref|) + rtol x |ref|: rounding grows with the values):", table.render()]
        if let first = c.firstDivergence {
            lines.append("First divergence: layer '\(first.layer)' (\(first.typeName)), max |diff| \(first.maxAbsoluteError.map(sci) ?? "?") "
                         + "with \(first.elementsOutsideTolerance) elements outside tolerance; every layer before it matches.")
        } else {
            lines.append("Every layer with a reference output matches within tolerance.")
        }
        if !c.unchecked.isEmpty { lines.append("Not in the reference: \(c.unchecked.joined(separator: ", "))") }
        return lines.joined(separator: "\n")
    }
}

/// `value` with every NaN or infinite number replaced by "nan", "inf" or "-inf",
/// which JSONSerialization would otherwise refuse to write.
func jsonWithNonFiniteAsStrings(_ value: Any) -> Any {
    if let dictionary = value as? [String: Any] {
        var out: [String: Any] = [:]
        for (key, element) in dictionary { out[key] = jsonWithNonFiniteAsStrings(element) }
        return out
    }
    if let array = value as? [Any] { return array.map { jsonWithNonFiniteAsStrings($0) } }
    let number: Double?
    if let f = value as? Float { number = Double(f) } else if let d = value as? Double { number = d } else { number = nil }
    guard let number, !number.isFinite else { return value }
    return number.isNaN ? "nan" : (number > 0 ? "inf" : "-inf")
}

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

            An element passes when |modelport - reference| <= atol + rtol * |reference| (numpy's \
            allclose rule). Validation passes when every element passes and every sample's \
            predicted class (arg-max) agrees. Exit status 1 when it does not.

            --json prints: passed, samples, elements, atol, rtol, max_abs_error, max_rel_error, \
            elements_outside_tolerance, argmax_agreement, worst (sample, element, modelport, \
            reference), accuracy and reference_accuracy with labels, and with --layers: layers \
            (name, type, shape, passed, max_abs_error, elements_outside_tolerance), \
            layer_samples and first_divergence. 'outputs' lists the same per-output fields with \
            each output's name; for a model with several outputs only model, reference, passed, \
            samples, atol, rtol, outputs (and the --layers fields) are at the top level.

            Example:
              modelport validate fixtures/mnist_digit_model.h5 --reference fixtures/mnist_digit_model.reference.h5
            """)

    @OptionGroup var modelFile: ModelFileArgument
    var model: String { modelFile.model }

    @Option(name: .shortAndLong, help: "The reference file (HDF5 with inputs, outputs, optional labels; inputs/<name>, outputs/<name> for several).")
    var reference: String

    @Option(help: "Absolute tolerance per element.")
    var atol: Float = 1e-5

    @Option(help: "Relative tolerance per element (times |reference|).")
    var rtol: Float = 0

    @Flag(help: "Also compare every layer's output with the reference's 'layers/<name>' datasets and name the first layer that diverges.")
    var layers = false

    @OptionGroup var format: OutputFormatOptions
    var json: Bool { format.json }

    func validate() throws {
        guard atol >= 0, rtol >= 0, atol.isFinite, rtol.isFinite else {
            throw ValidationError("--atol and --rtol must be finite and non-negative")
        }
    }

    @OptionGroup var trust: TrustOptions

    func run() throws {
        trust.apply()
        var passed = false
        try runReportingErrors {
            let file = try modelFile.load()
            let result = try ReferenceValidation(model: file.model, reference: try readReference(reference), modelPath: model,
                                                 atol: atol, rtol: rtol, perLayer: layers)
            passed = result.passed
            if json {
                let object = result.jsonObject(modelPath: model, referencePath: reference)
                let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted])
                print(String(decoding: data, as: UTF8.self))
            } else {
                print(result.outputs.count == 1
                      ? ComparisonReport.text(result.comparison, modelPath: model, referencePath: reference)
                      : ComparisonReport.text(result.outputs, modelPath: model, referencePath: reference))
                if let perLayer = result.layers { print(ComparisonReport.layers(perLayer)) }
            }
        }
        if !passed { throw ExitCode(1) }
    }
}

/// The human-readable validation report, shared by `validate` and `demo`.
enum ComparisonReport {
    static func text(_ r: Comparison, modelPath: String, referencePath: String) -> String {
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
        lines.append(r.passed ? "PASSED" : "FAILED: outputs differ from the reference beyond the tolerance")
        return lines.joined(separator: "\n")
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
                "  output '\(o.name)' (\(grouped(r.elements)) elements): \(r.passed ? "passed" : "FAILED")",
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
        let failed = outputs.filter { !$0.comparison.passed }.map { "'\($0.name)'" }
        lines.append(failed.isEmpty ? "PASSED"
                     : "FAILED: output\(failed.count == 1 ? "" : "s") \(failed.joined(separator: ", ")) differ\(failed.count == 1 ? "s" : "") from the reference beyond the tolerance")
        return lines.joined(separator: "\n")
    }

    /// The per-layer table and verdict of `validate --layers`.
    static func layers(_ c: LayerComparison) -> String {
        var table = TextTable(headers: ["Layer (type)", "Output Shape", "max |diff|", ""], rightAligned: [2])
        for row in c.rows {
            let status = row.maxAbsoluteError == nil ? "no reference" : row.passed ? "ok" : "DIVERGES"
            table.rows.append(["\(row.layer) (\(row.typeName))", kerasShape(row.shape),
                               row.maxAbsoluteError.map(sci) ?? "-", status])
        }
        var lines = ["", "Per-layer comparison on the first \(c.samples) samples:", table.render()]
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

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

            An element passes when |modelport - reference| <= atol + rtol * |reference| (numpy's \
            allclose rule). Validation passes when every element passes and every sample's \
            predicted class (arg-max) agrees. Exit status 1 when it does not. With --layers,             each layer is judged against its own values: atol is scaled by max(1, the layer's             largest |reference|), as float32 rounding grows with the values summed.

            --json prints: passed, samples, elements, atol, rtol, max_abs_error, max_rel_error, \
            elements_outside_tolerance, argmax_agreement, worst (sample, element, modelport, \
            reference), accuracy and reference_accuracy with labels, and with --layers: layers \
            (name, type, shape, passed, max_abs_error, max_abs_reference, tolerance, \
            elements_outside_tolerance), \
            layer_samples and first_divergence.

            Example:
              modelport validate fixtures/mnist_digit_model.h5 --reference fixtures/mnist_digit_model.reference.h5
            """)

    @OptionGroup var modelFile: ModelFileArgument
    var model: String { modelFile.model }

    @Option(name: .shortAndLong, help: "The reference file (HDF5 with inputs, outputs, optional labels).")
    var reference: String

    @Option(help: "Absolute tolerance per element.")
    var atol: Float = 1e-5

    @Option(help: "Relative tolerance per element (times |reference|).")
    var rtol: Float = 0

    @Flag(help: "Also compare every layer's output with the reference's 'layers/<name>' datasets (a name with '/' is a nested group) and name the first layer that diverges.")
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
                print(ComparisonReport.text(result.comparison, modelPath: model, referencePath: reference))
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

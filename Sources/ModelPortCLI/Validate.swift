import ArgumentParser
import Foundation
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
            predicted class (arg-max) agrees. Exit status 1 when it does not.

            Example:
              modelport validate fixtures/mnist_digit_model.h5 --reference fixtures/mnist_digit_model.reference.h5
            """)

    @Argument(help: "A model file: Keras .h5 or .keras, or ONNX .onnx.")
    var model: String

    @Option(name: .shortAndLong, help: "The reference file (HDF5 with inputs, outputs, optional labels).")
    var reference: String

    @Option(help: "Absolute tolerance per element.")
    var atol: Float = 1e-5

    @Option(help: "Relative tolerance per element (times |reference|).")
    var rtol: Float = 0

    @Flag(help: "Also compare every layer's output with the reference's 'layers/<name>' datasets and name the first layer that diverges.")
    var layers = false

    @Option(help: "A model config JSON, for a weights-only file (.weights.h5).")
    var config: String?

    @Flag(help: "Print one JSON object instead of a report.")
    var json = false

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
            let file = try AnyModelFile.load(model, configPath: config)
            let ref = try readReference(reference)
            if file.model.inputShapes.count == 1, file.model.outputShapes.count == 1 {
                try ref.checkShapes(modelInput: file.model.inputShape, modelOutput: file.model.outputShape, modelPath: model)
            }
            let outputs = try file.model.predict(ref.inputs)
            let result = try Comparison(actual: outputs, expected: ref.outputs, labels: ref.labels, atol: atol, rtol: rtol)
            passed = result.passed
            let perLayer = layers ? try LayerComparison(model: file.model, reference: ref, atol: atol, rtol: rtol) : nil
            if let perLayer, perLayer.firstDivergence != nil { passed = false }
            if json {
                try printJSON(result, perLayer)
            } else {
                print(ComparisonReport.text(result, modelPath: model, referencePath: reference))
                if let perLayer { print(ComparisonReport.layers(perLayer)) }
            }
        }
        if !passed { throw ExitCode(1) }
    }

    private func printJSON(_ r: Comparison, _ perLayer: LayerComparison?) throws {
        var object: [String: Any] = [
            "model": model, "reference": reference, "passed": r.passed,
            "samples": r.samples, "elements": r.elements, "atol": Double(r.atol), "rtol": Double(r.rtol),
            "max_abs_error": Double(r.maxAbsoluteError), "max_rel_error": Double(r.maxRelativeError),
            "elements_outside_tolerance": r.elementsOutsideTolerance,
            "argmax_agreement": r.argmaxAgreements,
            "worst": ["sample": r.worstSample, "element": r.worstElement,
                      "modelport": Double(r.worstActual), "reference": Double(r.worstExpected)],
        ]
        if let m = r.labelMatches { object["accuracy"] = Double(m) / Double(max(1, r.samples)) }
        if let m = r.referenceLabelMatches { object["reference_accuracy"] = Double(m) / Double(max(1, r.samples)) }
        if let perLayer {
            object["layers"] = perLayer.rows.map { row -> [String: Any] in
                ["name": row.layer, "type": row.typeName, "shape": row.shape, "passed": row.passed,
                 "max_abs_error": row.maxAbsoluteError.map { Double($0) } as Any,
                 "elements_outside_tolerance": row.elementsOutsideTolerance]
            }
            object["layer_samples"] = perLayer.samples
            object["first_divergence"] = perLayer.firstDivergence?.layer as Any
        }
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted])
        print(String(decoding: data, as: UTF8.self))
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

import Foundation
import ModelPortFiles
import ModelPortImage

/// Writes a report folder: a self-contained `report.html` (every picture
/// inlined, so the one file can be mailed or archived) plus each picture as
/// its own SVG or PNG file.
///
/// | file | when |
/// |---|---|
/// | `report.html` | always |
/// | `training_<metric>.svg` (accuracy, loss, …) | a history is given |
/// | `confusion_matrix.svg` | an evaluation is given |
/// | `classification_report.txt` | an evaluation is given |
/// | `sample_predictions.svg` / `.png` | the evaluation has image inputs |
/// | `confident_mistakes.svg` / `.png` | the evaluation has image inputs |
/// | `evaluation.json` | an evaluation is given (`Evaluation.jsonObject`) |
///
/// Every file is written to a temporary name and renamed, so a reader never
/// sees half a report file.
public struct ReportWriter: Sendable {
    public var title: String
    /// Lines shown under the title, e.g. `("Model", "mnist_digit_model.h5")`.
    public var details: [(String, String)]
    /// How many test samples the sample grid shows (the first N).
    public var sampleCount = 40
    /// How many of the most confidently wrong predictions are shown.
    public var mistakeCount = 20

    public init(title: String, details: [(String, String)] = []) {
        self.title = title
        self.details = details
    }

    /// - Parameters:
    ///   - evaluation: predictions on a labelled test set, or nil (curves only).
    ///   - history: Keras-style per-epoch metrics (`loss`, `accuracy`,
    ///     `val_loss`, `val_accuracy`, any other `name` / `val_name` pair), or nil.
    ///   - directory: created if missing; existing report files are replaced.
    /// - Returns: the files written, `report.html` first.
    /// - Throws: `ReportError` when neither is given or a history series is
    ///   empty; `ImageError` when a file cannot be written.
    @discardableResult
    public func write(evaluation: Evaluation?, history: [String: [Double]]?, to directory: URL) throws -> [URL] {
        guard evaluation != nil || history != nil else { throw ReportError("a report needs an evaluation, a training history, or both") }
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw ReportError("\(directory.path): cannot create the report directory (\(error.localizedDescription))")
        }
        var written: [URL] = []
        func save(_ name: String, _ data: Data) throws {
            let url = directory.appendingPathComponent(name)
            try AtomicFile.write(data, to: url.path)
            written.append(url)
        }
        var sections: [String] = []

        if let history {
            let charts = try Self.historyCharts(history)
            var figures: [String] = []
            for (metric, chart) in charts {
                try save("training_\(metric).svg", Data(chart.utf8))
                figures.append(Self.inline(chart))
            }
            sections.append(HTML.section("Training", figures.joined(separator: "\n"),
                                         note: "Per epoch; solid lines are the training data, dashed the validation data."))
        }

        if let e = evaluation {
            let summary = HTML.summary(e)
            sections.append(HTML.section("Evaluation", summary))
            let matrix = ConfusionMatrixChart.svg(e.confusion, classNames: e.classNames)
            try save("confusion_matrix.svg", Data(matrix.utf8))
            sections.append(HTML.section("Confusion matrix", Self.inline(matrix),
                                         note: "Rows are the true classes, columns the predicted ones; colour is the share of the row."))
            try save("classification_report.txt", Data((e.report.text() + "\n").utf8))
            sections.append(HTML.section("Classification report", HTML.table(e.report)))
            if let samples = DigitSheet(e, samples: Array(0..<min(sampleCount, e.count))) {
                let svg = try samples.svg(title: "The first \(samples.tiles.count) samples")
                try save("sample_predictions.svg", Data(svg.utf8))
                try save("sample_predictions.png", Data(PNGCodec.encode(samples.pixelImage)))
                sections.append(HTML.section("Sample predictions", Self.inline(svg),
                                             note: "As the model saw them; green frame: right, red frame: wrong."))
                let mistakes = e.confidentMistakes(limit: mistakeCount)
                let sheet = DigitSheet(e, samples: mistakes)!
                let mistakesSVG = try sheet.svg(title: mistakes.isEmpty ? "No wrong predictions" : "The \(mistakes.count) most confident wrong predictions")
                try save("confident_mistakes.svg", Data(mistakesSVG.utf8))
                try save("confident_mistakes.png", Data(PNGCodec.encode(sheet.pixelImage)))
                sections.append(HTML.section("Most confident mistakes", Self.inline(mistakesSVG),
                                             note: "\(e.count - e.confusion.correct) of \(e.count) predictions are wrong; these are the ones the model was surest of."))
            }
            let json = try JSONSerialization.data(withJSONObject: e.jsonObject, options: [.sortedKeys])
            try save("evaluation.json", json)
        }

        let html = HTML.page(title: title, details: details, sections: sections)
        let url = directory.appendingPathComponent("report.html")
        try AtomicFile.write(Data(html.utf8), to: url.path)
        return [url] + written
    }

    /// One chart per metric, accuracy first, then loss, then the rest by name;
    /// each with the training series and, when present, `val_<metric>`.
    static func historyCharts(_ history: [String: [Double]]) throws -> [(String, String)] {
        guard !history.isEmpty else { throw ReportError("the training history is empty") }
        if let empty = history.first(where: { $0.value.isEmpty }) {
            throw ReportError("the training history's '\(empty.key)' has no epochs")
        }
        var metrics = history.keys.filter { !$0.hasPrefix("val_") }
        // A validation-only metric still gets a chart.
        for key in history.keys where key.hasPrefix("val_") && history[String(key.dropFirst(4))] == nil {
            metrics.append(String(key.dropFirst(4)))
        }
        let order = ["accuracy", "acc", "loss"]
        metrics.sort { (order.firstIndex(of: $0) ?? 99, $0) < (order.firstIndex(of: $1) ?? 99, $1) }
        return metrics.map { metric in
            var series: [LineChart.Series] = []
            if let train = history[metric] { series.append(.init(name: "training", values: train, color: "#1f77b4")) }
            if let validation = history["val_" + metric] {
                series.append(.init(name: "validation", values: validation, color: "#ff7f0e", dashed: true))
            }
            let pretty = metric == "acc" ? "accuracy" : metric.replacingOccurrences(of: "_", with: " ")
            return (metric, LineChart(title: pretty.prefix(1).uppercased() + pretty.dropFirst() + " per epoch", yLabel: pretty, series: series).svg)
        }
    }

    /// An SVG document inside HTML: drop nothing, just wrap it in a figure.
    static func inline(_ svg: String) -> String { "<figure>\(svg)</figure>" }
}

/// Writes a training report: accuracy and loss curves per epoch and, when
/// given, the evaluation of the trained model on the test set — the API the
/// trainer (`modelport train --report DIR`) calls after `fit`.
///
/// - Parameters:
///   - history: Keras-style per-epoch metrics, as `model.fit(...).history`:
///     `loss`, `accuracy`, `val_loss`, `val_accuracy` (any `name`/`val_name` pair works).
///   - evaluation: `try Evaluation(probabilities: model.predict(testImages),
///     labels: testLabels, classNames: names, inputs: testImages)`, or nil.
///   - directory: the report folder (created if missing).
///   - title: the page title.
///   - details: lines under the title (model file, dataset, epochs, …).
/// - Returns: the files written, `report.html` first.
/// - Throws: `ReportError` for an empty history, `ImageError` when a file cannot be written.
@discardableResult
public func writeTrainingReport(history: [String: [Double]], evaluation: Evaluation? = nil, to directory: URL,
                                title: String = "Training report", details: [(String, String)] = []) throws -> [URL] {
    try ReportWriter(title: title, details: details).write(evaluation: evaluation, history: history, to: directory)
}

/// Writes an evaluation report (no curves): what `modelport evaluate --report DIR` does.
@discardableResult
public func writeEvaluationReport(_ evaluation: Evaluation, to directory: URL, title: String = "Evaluation report",
                                  details: [(String, String)] = []) throws -> [URL] {
    try ReportWriter(title: title, details: details).write(evaluation: evaluation, history: nil, to: directory)
}

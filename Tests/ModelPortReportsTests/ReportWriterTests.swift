import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import ModelPortImage
import ModelPortReports
import ModelPortRuntime
import ModelPortValidation
import Testing
import TestSupport

/// The report folder: files, well-formed SVG, decodable PNG, self-contained HTML.
struct ReportWriterTests {
    func evaluation() throws -> Evaluation {
        let ref = try ReferenceData.read(TestPaths.fixture("mnist_digit_model.reference.h5"))
        return try Evaluation(probabilities: ref.outputs, labels: ref.labels!, classNames: (0...9).map(String.init), inputs: ref.inputs)
    }

    let history: [String: [Double]] = [
        "loss": [0.31, 0.12, 0.08], "val_loss": [0.15, 0.1, 0.09],
        "accuracy": [0.9, 0.96, 0.975], "val_accuracy": [0.95, 0.97, 0.972],
    ]

    func wellFormed(_ url: URL) throws {
        let document = try XMLDocument(contentsOf: url, options: [])
        #expect(document.rootElement()?.name == "svg", "\(url.lastPathComponent)")
    }

    @Test func trainingReportHasCurvesAndEvaluation() throws {
        let dir = TestPaths.temporaryDirectory("report")
        let e = try evaluation()
        let files = try writeTrainingReport(history: history, evaluation: e, to: dir, details: [("Model", "m.h5")])
        let names = Set(files.map(\.lastPathComponent))
        for name in ["report.html", "training_accuracy.svg", "training_loss.svg", "confusion_matrix.svg", "classification_report.txt",
                     "sample_predictions.svg", "sample_predictions.png", "confident_mistakes.svg", "confident_mistakes.png", "evaluation.json"] {
            #expect(names.contains(name), "\(name)")
        }
        #expect(files[0].lastPathComponent == "report.html")
        for svg in files where svg.pathExtension == "svg" { try wellFormed(svg) }
        // The sample grid PNG holds 40 tiles of 28x28 at 3x in 10 columns.
        let grid = try ImageFile.read(dir.appendingPathComponent("sample_predictions.png").path)
        #expect(grid.width > 10 * 84 && grid.height > 4 * 84)
        let html = try String(contentsOf: files[0], encoding: .utf8)
        // Self-contained: pictures inline, nothing fetched.
        #expect(!html.contains("src=\"http") && !html.contains("href=\"http") && !html.contains("<script"))
        #expect(html.components(separatedBy: "<svg").count - 1 == 5)
        #expect(html.contains("data:image/png;base64,"))
        #expect(html.contains(String(format: "%.4f", e.report.macroAverage.f1)))
        // Every count of the confusion matrix appears in its SVG.
        let matrix = try String(contentsOf: dir.appendingPathComponent("confusion_matrix.svg"), encoding: .utf8)
        for row in e.confusion.counts { for count in row where count > 0 { #expect(matrix.contains(">\(count)</text>")) } }
        // Curves: one polyline per series with one point per epoch.
        let accuracy = try String(contentsOf: dir.appendingPathComponent("training_accuracy.svg"), encoding: .utf8)
        #expect(accuracy.components(separatedBy: "<polyline").count - 1 == 2)
        #expect(accuracy.contains("validation") && accuracy.contains("training"))
        // No temporary files left behind.
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix(".") }
        #expect(leftovers.isEmpty)
        // The JSON is the evaluation's.
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("evaluation.json"))) as? [String: Any]
        #expect(json?["predictions"] as? [Int] == e.predictions)
    }

    @Test func historyAloneWritesCurves() throws {
        let dir = TestPaths.temporaryDirectory("report")
        let files = try writeTrainingReport(history: ["loss": [1, 0.5], "val_loss": [1.1, 0.7]], to: dir)
        #expect(files.map(\.lastPathComponent).sorted() == ["report.html", "training_loss.svg"])
        #expect { try writeTrainingReport(history: [:], to: dir) } throws: { "\($0)".contains("empty") }
        #expect { try writeTrainingReport(history: ["loss": []], to: dir) } throws: { "\($0)".contains("'loss' has no epochs") }
    }

    @Test func unwritableDirectoryIsAClearError() throws {
        let file = TestPaths.temporaryDirectory("report").appendingPathComponent("plain-file")
        try Data("x".utf8).write(to: file)
        #expect { try writeEvaluationReport(try evaluation(), to: file) } throws: { "\($0)".contains(file.path) }
    }
}

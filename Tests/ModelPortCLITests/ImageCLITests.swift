import Foundation
import ModelPortKeras
import ModelPortValidation
import Testing
import TestSupport

/// `predict` on image files and `evaluate`, run as a user runs them.
struct ImageCLITests {
    let model = "fixtures/mnist_digit_model.h5"

    func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    @Test func predictsOneImageWithOutputAndPreprocessedPicture() throws {
        let dir = TestPaths.temporaryDirectory("cli-image")
        let output = dir.appendingPathComponent("output.txt").path
        let seen = dir.appendingPathComponent("seen.png").path
        let r = try TestPaths.runModelPort(["predict", model, "fixtures/images/7/font_7.png", "--output", output, "--show-preprocessed", seen])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("light background: inverted"))
        #expect(r.stdout.contains(try #require(try Regex("fixtures/images/7/font_7.png +7  7: 0\\.9"))), "\(r.stdout)")
        #expect(try String(contentsOfFile: output, encoding: .utf8) == "7\n")
        // The picture the model saw: a 28x28 gray PNG (IHDR width and height).
        let png = [UInt8](try Data(contentsOf: URL(fileURLWithPath: seen)))
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]))
        #expect(Array(png[16..<24]) == [0, 0, 0, 28, 0, 0, 0, 28])
    }

    @Test func predictJSONForSeveralFormats() throws {
        let files = ["fixtures/images/3/photo_3.pgm", "fixtures/images/2/inverse_2.jpg", "fixtures/images/5/drawn_5.png"]
        let r = try TestPaths.runModelPort(["predict", model] + files + ["--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let predictions = try #require(try json(r.stdout)["predictions"] as? [[String: Any]])
        #expect(predictions.map { $0["file"] as? String } == files)
        #expect(predictions.map { $0["class"] as? Int } == [3, 2, 5])
        for p in predictions {
            let probabilities = try #require(p["probabilities"] as? [Double])
            #expect(abs(probabilities.reduce(0, +) - 1) < 1e-4)
            #expect((p["top"] as? [Any])?.count == 3)
        }
        #expect(predictions[1]["inverted"] as? Bool == false)
    }

    /// A directory: every image in it, as CSV.
    @Test func directoryGivesCSV() throws {
        let r = try TestPaths.runModelPort(["predict", model, "fixtures/images/4"])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n")
        #expect(lines.first == "file,predicted,confidence,p0,p1,p2,p3,p4,p5,p6,p7,p8,p9")
        let files = try FileManager.default.contentsOfDirectory(atPath: TestPaths.fixture("images/4"))
        #expect(lines.count == 1 + files.count)
        #expect(lines.dropFirst().filter { $0.split(separator: ",")[1] == "4" }.count >= files.count - 1)
    }

    @Test func badImageNamesTheFile() throws {
        let dir = TestPaths.temporaryDirectory("cli-image")
        let broken = dir.appendingPathComponent("broken.png").path
        let good = [UInt8](try Data(contentsOf: TestPaths.fixtures.appendingPathComponent("images/1/font_1.png")))
        try Data(good.prefix(good.count / 2)).write(to: URL(fileURLWithPath: broken))
        let r = try TestPaths.runModelPort(["predict", model, broken])
        #expect(r.status == 2)
        #expect(r.stderr.hasPrefix("error: \(broken)"), "\(r.stderr)")
        let both = try TestPaths.runModelPort(["predict", model, "fixtures/images/1/font_1.png", "--input", "x.h5"])
        #expect(both.status == 64)
    }

    @Test func evaluateJSONAgreesWithPredict() throws {
        let r = try TestPaths.runModelPort(["evaluate", model, "--limit", "200", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let object = try json(r.stdout)
        // The first 200 test images are the reference inputs: Keras's classes.
        let ref = try ReferenceData.read(TestPaths.fixture("mnist_digit_model.reference.h5"))
        #expect(object["labels"] as? [Int] == ref.labels)
        #expect(object["predictions"] as? [Int] == argmaxPerSample(ref.outputs))
        #expect(object["samples"] as? Int == 200)
        let report = try #require(object["classification_report"] as? [String: Any])
        #expect(report["macro avg"] != nil && report["weighted avg"] != nil && report["7"] != nil)
        #expect((object["confusion_matrix"] as? [[Int]])?.count == 10)
    }

    @Test func evaluateTextReportAndPictures() throws {
        let dir = TestPaths.temporaryDirectory("cli-report").appendingPathComponent("out")
        let r = try TestPaths.runModelPort(["evaluate", model, "--images", "fixtures/images", "--report", dir.path])
        #expect(r.status == 0, "\(r.stderr)")
        for words in ["loss", "accuracy", "Confusion matrix", "precision    recall  f1-score   support", "macro avg", "Report: "] {
            #expect(r.stdout.contains(words), "\(words)")
        }
        for file in ["report.html", "confusion_matrix.svg", "sample_predictions.png", "confident_mistakes.svg"] {
            #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent(file).path), "\(file)")
        }
    }

    @Test func evaluateFashionMNISTAndUnknownDatasets() throws {
        let r = try TestPaths.runModelPort(["evaluate", "fixtures/mnist_mlp.h5", "--dataset", "fashion-mnist", "--limit", "300", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let object = try json(r.stdout)
        #expect((object["class_names"] as? [String])?.first == "T-shirt/top")
        let unknown = try TestPaths.runModelPort(["evaluate", model, "--dataset", "cifar"])
        #expect(unknown.status == 64)
        let missing = try TestPaths.runModelPort(["evaluate", model, "--data", "/nonexistent/dir"])
        #expect(missing.status == 2 && missing.stderr.contains("/nonexistent/dir"))
    }

    @Test func helpTeachesWithExamples() throws {
        let p = try TestPaths.runModelPort(["predict", "--help"])
        #expect(p.stdout.contains("--show-preprocessed") && p.stdout.contains("modelport predict fixtures/mnist_digit_model.h5 my_digit.png"))
        let e = try TestPaths.runModelPort(["evaluate", "--help"])
        #expect(e.stdout.contains("--report") && e.stdout.contains("classification_report") && e.stdout.contains("$MNIST_DIR"))
    }
}

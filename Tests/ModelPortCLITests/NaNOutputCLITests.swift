import Foundation
import ModelPortKeras
import ModelPortRuntime
import Testing
import TestSupport

/// A model whose outputs are NaN: `predict` names the problem and exits 1,
/// prints valid JSON (NaN as null) and never reports a digit for it.
struct NaNOutputCLITests {
    /// The tutorial model with one NaN in its last layer's bias, written by
    /// the Keras writer: every probability after the softmax is NaN.
    static func nanModel(in directory: URL) throws -> String {
        let file = try ModelLoader.load(TestPaths.fixture("mnist_digit_model.h5"))
        let last = try #require(file.model.layers.last { !$0.parameters.isEmpty })
        let bias = try #require(last.parameters.first { $0.name == "bias" })
        var value = bias.value
        value.scalars[0] = .nan
        bias.value = value
        let path = directory.appendingPathComponent("nan_model.h5").path
        try KerasWriter.write(file.model, to: path)
        return path
    }

    @Test func predictReportsNaN() throws {
        let directory = TestPaths.temporaryDirectory("nan")
        defer { try? FileManager.default.removeItem(at: directory) }
        let model = try Self.nanModel(in: directory)
        let images = "fixtures/images/3"
        let imageCount = try FileManager.default.contentsOfDirectory(atPath: TestPaths.fixture("images/3")).count

        // JSON: valid, every probability null, no class, exit 1.
        let json = try runModelPortBounded(["predict", model, images, "--json"])
        #expect(json.exited(1), "\(json.summary)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any], "\(json.stdout)")
        let predictions = try #require(object["predictions"] as? [[String: Any]])
        #expect(predictions.count == imageCount)
        for p in predictions {
            #expect(p["class"] is NSNull)
            let probabilities = try #require(p["probabilities"] as? [Any])
            #expect(probabilities.count == 10 && probabilities.allSatisfy { $0 is NSNull })
        }
        #expect(json.stderr.contains("\(model) produced NaN outputs for \(imageCount) of \(imageCount) samples"), "\(json.stderr)")
        #expect(!json.stderr.contains("NSCocoaErrorDomain"))

        // Table, --output and --csv: no digit for any image.
        let output = directory.appendingPathComponent("output.txt").path
        let csv = directory.appendingPathComponent("predictions.csv").path
        let plain = try runModelPortBounded(["predict", model, images + "/drawn_3.png", images + "/font_3.png", "--output", output])
        #expect(plain.exited(1), "\(plain.summary)")
        #expect(plain.stderr.contains("produced NaN"), "\(plain.stderr)")
        let rows = plain.stdout.split(separator: "\n").filter { $0.hasPrefix("fixtures/") }
        #expect(!rows.isEmpty && rows.allSatisfy { $0.contains(" NaN ") && $0.contains("no prediction") }, "\(plain.stdout)")
        let lines = try String(contentsOfFile: output, encoding: .utf8).split(separator: "\n")
        #expect(!lines.isEmpty && lines.allSatisfy { $0 == "NaN" }, "\(lines)")

        let withCSV = try runModelPortBounded(["predict", model, images, "--csv", csv])
        #expect(withCSV.exited(1), "\(withCSV.summary)")
        let records = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n").dropFirst()
        #expect(records.count == imageCount && records.allSatisfy { $0.split(separator: ",")[1] == "NaN" }, "\(records)")

        // Reference samples (--input): the same.
        let samples = try runModelPortBounded(["predict", model, "--input", "fixtures/mnist_digit_model.reference.h5", "--limit", "3"])
        #expect(samples.exited(1), "\(samples.summary)")
        #expect(samples.stderr.contains("produced NaN outputs for 3 of 3 samples"), "\(samples.stderr)")

        // The unmodified model still predicts, exit 0.
        let healthy = try runModelPortBounded(["predict", "fixtures/mnist_digit_model.h5", images, "--json"])
        #expect(healthy.exited(0), "\(healthy.summary)")
    }
}

extension NaNOutputCLITests {
    /// `evaluate` on NaN outputs: no accuracy from argmax-over-NaN, valid JSON, exit 1.
    @Test func evaluateReportsNaN() throws {
        let directory = TestPaths.temporaryDirectory("nan")
        defer { try? FileManager.default.removeItem(at: directory) }
        let model = try Self.nanModel(in: directory)
        let json = try runModelPortBounded(["evaluate", model, "--images", "fixtures/images", "--json"])
        #expect(json.exited(1), "\(json.summary)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any], "\(json.stdout)")
        #expect(object["accuracy"] == nil)
        #expect((object["nan_samples"] as? Int).map { $0 > 0 } == true)
        #expect(json.stderr.contains("\(model) produced NaN outputs"), "\(json.stderr)")
        let plain = try runModelPortBounded(["evaluate", model, "--images", "fixtures/images"])
        #expect(plain.exited(1), "\(plain.summary)")
        #expect(!plain.stdout.contains("accuracy"), "\(plain.stdout)")
    }
}

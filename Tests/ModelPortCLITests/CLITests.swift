import Foundation
import ModelPortKeras
import ModelPortValidation
import Testing
import TestSupport

/// The built `modelport` executable, run as a user runs it.
struct CLITests {
    let model = "fixtures/mnist_digit_model.h5"
    let reference = "fixtures/mnist_digit_model.reference.h5"

    @Test func helpTeaches() throws {
        let r = try TestPaths.runModelPort(["--help"])
        #expect(r.status == 0)
        for word in ["demo", "inspect", "predict", "validate", "Exit status"] { #expect(r.stdout.contains(word)) }
        let v = try TestPaths.runModelPort(["validate", "--help"])
        #expect(v.stdout.contains("inputs") && v.stdout.contains("outputs") && v.stdout.contains("labels"))
    }

    @Test func inspectPrintsTheLayerTable() throws {
        let r = try TestPaths.runModelPort(["inspect", model])
        #expect(r.status == 0, "\(r.stderr)")
        let loaded = try ModelLoader.load(TestPaths.fixture("mnist_digit_model.h5"))
        for layer in loaded.model.summary {
            #expect(r.stdout.contains("\(layer.name) (\(layer.typeName))"))
        }
        #expect(r.stdout.contains("Keras 3"))
        #expect(r.stdout.contains("(None, 10)"))
        let total = NumberFormatter.localizedString(from: NSNumber(value: loaded.model.parameterCount), number: .decimal)
        #expect(r.stdout.contains("Total params: \(total.replacingOccurrences(of: "\u{202F}", with: ","))"))
    }

    @Test func inspectJSON() throws {
        let r = try TestPaths.runModelPort(["inspect", "fixtures/mnist_cnn_keras2.h5", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let loaded = try ModelLoader.load(TestPaths.fixture("mnist_cnn_keras2.h5"))
        #expect(object["total_parameters"] as? Int == loaded.model.parameterCount)
        #expect((object["layers"] as? [Any])?.count == loaded.model.layers.count)
        #expect((object["keras_version"] as? String)?.hasPrefix("2.") == true)
    }

    @Test func predictMatchesKerasClasses() throws {
        let r = try TestPaths.runModelPort(["predict", model, "--input", reference, "--limit", "20", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let predictions = try #require(object["predictions"] as? [[String: Any]])
        let ref = try ReferenceData.read(TestPaths.fixture("mnist_digit_model.reference.h5"))
        let kerasClasses = argmaxPerSample(ref.outputs)
        #expect(predictions.count == 20)
        for p in predictions {
            let i = try #require(p["index"] as? Int)
            #expect(p["class"] as? Int == kerasClasses[i])
            #expect(p["label"] as? Int == ref.labels![i])
            let probabilities = try #require(p["probabilities"] as? [Double])
            for (j, value) in probabilities.enumerated() {
                #expect(abs(value - Double(ref.outputs.scalars[i * 10 + j])) <= 1e-5)
            }
        }
    }

    @Test func predictReadsMNISTIDXFiles() throws {
        let images = TestPaths.mnistDirectory.appendingPathComponent("t10k-images-idx3-ubyte.gz").path
        let r = try TestPaths.runModelPort(["predict", model, "--input", images, "--limit", "200"])
        #expect(r.status == 0, "\(r.stderr)")
        // The first 200 test images are the reference inputs: the same classes.
        let ref = try ReferenceData.read(TestPaths.fixture("mnist_digit_model.reference.h5"))
        let correct = zip(argmaxPerSample(ref.outputs), ref.labels!).filter { $0 == $1 }.count
        #expect(r.stdout.contains("200 samples from IDX images"))
        #expect(r.stdout.contains("accuracy \(correct)/200"))
    }

    @Test func validatePasses() throws {
        let r = try TestPaths.runModelPort(["validate", model, "--reference", reference])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("PASSED"))
        #expect(r.stdout.contains("200/200"))
    }

    /// A reference whose outputs were tampered with must fail, with exit status 1.
    @Test func validateFailsOnDivergence() throws {
        let ref = try ReferenceData.read(TestPaths.fixture("mnist_digit_model.reference.h5"))
        var outputs = ref.outputs
        outputs.scalars[57 * 10 + 3] += 1e-3
        let path = TestPaths.temporaryDirectory("cli").appendingPathComponent("tampered.h5").path
        try ReferenceData(path: path, inputs: ref.inputs, outputs: outputs, labels: ref.labels).write(to: path)
        let r = try TestPaths.runModelPort(["validate", model, "--reference", path, "--json"])
        #expect(r.status == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect(object["passed"] as? Bool == false)
        #expect(object["elements_outside_tolerance"] as? Int == 1)
        #expect((object["worst"] as? [String: Any])?["sample"] as? Int == 57)
        #expect((object["worst"] as? [String: Any])?["element"] as? Int == 3)
        // Loosening the tolerance past the tampering passes again.
        let loose = try TestPaths.runModelPort(["validate", model, "--reference", path, "--atol", "2e-3"])
        #expect(loose.status == 0)
    }

    /// A reference holding NaN (an ONNX test case's sqrt of a negative number) fails with
    /// exit status 1 and JSON that spells the non-finite errors as strings, not exit 2.
    @Test func validateJSONWritesNaNErrors() throws {
        let ref = try ReferenceData.read(TestPaths.fixture("mnist_digit_model.reference.h5"))
        var outputs = ref.outputs
        outputs.scalars[4] = .nan
        let path = TestPaths.temporaryDirectory("cli").appendingPathComponent("nan.h5").path
        try ReferenceData(path: path, inputs: ref.inputs, outputs: outputs, labels: ref.labels).write(to: path)
        let r = try TestPaths.runModelPort(["validate", model, "--reference", path, "--json"])
        #expect(r.status == 1, "\(r.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect(object["passed"] as? Bool == false)
        #expect(object["max_abs_error"] as? String == "nan")
    }

    @Test func demoRunsFromAnywhere() throws {
        let elsewhere = TestPaths.temporaryDirectory("cli")
        let r = try TestPaths.runModelPort(["demo"], in: elsewhere)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("mnist_digit_model.h5"))
        #expect(r.stdout.contains("PASSED"))
        #expect(r.stdout.contains("→"))
    }

    @Test func errorsNameTheFileAndExit2() throws {
        let dir = TestPaths.temporaryDirectory("cli")
        let bogus = dir.appendingPathComponent("bogus.h5").path
        try Data(repeating: 0x42, count: 1000).write(to: URL(fileURLWithPath: bogus))
        let missing = dir.appendingPathComponent("nope.h5").path
        let cases: [(args: [String], names: String)] = [
            (["inspect", bogus], bogus), (["predict", bogus, "--input", reference], bogus),
            (["validate", model, "--reference", bogus], bogus), (["inspect", missing], missing),
            (["predict", model, "--input", missing], missing),
        ]
        for (args, path) in cases {
            let r = try TestPaths.runModelPort(args)
            #expect(r.status == 2, "\(args)")
            #expect(r.stderr.hasPrefix("error: "), "\(r.stderr)")
            #expect(r.stderr.contains(path), "\(r.stderr)")
            #expect(!r.stderr.contains("HDF5-DIAG"), "HDF5 must not print its own error stack")
        }
        let usage = try TestPaths.runModelPort(["predict", model])
        #expect(usage.status == 64)
    }

    /// An output that cannot be written is refused before any training.
    @Test func trainRefusesUnwritableOutputUpFront() throws {
        let missing = TestPaths.temporaryDirectory("cli").appendingPathComponent("no/such/dir/m.h5").path
        let r = try TestPaths.runModelPort(["train", "--arch", "mnist_mlp", "--epochs", "1", "--out", missing])
        #expect(r.status == 64)
        #expect(r.stderr.contains("does not exist"))
        #expect(!r.stdout.contains("Epoch 1/"))
    }

    /// `train` finds its data as `evaluate` does (DatasetLocator): $MNIST_DIR
    /// before ../shared/data; a directory with only the training files
    /// trains, without the final test.
    @Test func trainFindsDataLikeEvaluate() throws {
        let dir = TestPaths.temporaryDirectory("train-data")
        for name in ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"] {
            try FileManager.default.createSymbolicLink(atPath: dir.appendingPathComponent(name).path,
                                                       withDestinationPath: TestPaths.mnistDirectory.appendingPathComponent(name).path)
        }
        let r = try TestPaths.runModelPort(["train", "--arch", "mnist_mlp", "--epochs", "1", "--limit", "64", "--no-download"],
                                           environment: ["MNIST_DIR": dir.path])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("images from \(dir.path)"))
        #expect(!r.stdout.contains("Test loss"))
        let usage = try TestPaths.runModelPort(["train", "--arch", "mnist_mlp", "--dataset", "cifar"])
        #expect(usage.status == 64 && usage.stderr.contains("unknown dataset 'cifar'"))
    }

    /// `train --report` shows the curves and the test-set evaluation.
    @Test func trainReportIncludesEvaluation() throws {
        let dir = TestPaths.temporaryDirectory("cli")
        let r = try TestPaths.runModelPort(["train", "--arch", "mnist_mlp", "--epochs", "1", "--limit", "1000",
                                            "--data", TestPaths.mnistDirectory.path,
                                            "--out", dir.appendingPathComponent("m.h5").path,
                                            "--report", dir.appendingPathComponent("report").path])
        #expect(r.status == 0, "\(r.stderr)")
        for name in ["report.html", "training_loss.svg", "confusion_matrix.svg", "classification_report.txt"] {
            #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("report/\(name)").path), "\(name)")
        }
        let html = try String(contentsOf: dir.appendingPathComponent("report/report.html"), encoding: .utf8)
        #expect(html.contains("Confusion matrix"))
    }
}

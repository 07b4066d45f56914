import Foundation
import ModelPortKeras
import ModelPortRuntime
import ModelPortValidation
import Testing
import TestSupport

/// `validate`, `predict --input`, `convert --reference` and `inspect` on
/// models with several inputs or outputs (fixtures/multiio/, made by Keras
/// with tools/make_multiio_fixtures.py), run as a user runs them.
struct MultiIOCLITests {
    let twoInputs = "fixtures/multiio/two_inputs.h5"
    let twoInputsReference = "fixtures/multiio/two_inputs.reference.h5"
    let twoHeads = "fixtures/multiio/two_heads.h5"
    let twoHeadsReference = "fixtures/multiio/two_heads.reference.h5"

    func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    @Test func validatePassesOnEveryGeneration() throws {
        let cases = [
            (twoInputs, twoInputsReference), ("fixtures/multiio/two_inputs.keras", twoInputsReference),
            ("fixtures/multiio/two_inputs_keras2.h5", "fixtures/multiio/two_inputs_keras2.reference.h5"),
            (twoHeads, twoHeadsReference), ("fixtures/multiio/two_heads.keras", twoHeadsReference),
            ("fixtures/multiio/two_heads_keras2.h5", "fixtures/multiio/two_heads_keras2.reference.h5"),
        ]
        for (model, reference) in cases {
            let r = try TestPaths.runModelPort(["validate", model, "--reference", reference])
            #expect(r.status == 0, "\(model): \(r.stdout)\(r.stderr)")
            #expect(r.stdout.contains("PASSED"), "\(model)")
        }
        let heads = try TestPaths.runModelPort(["validate", twoHeads, "--reference", twoHeadsReference])
        #expect(heads.stdout.contains("output 'class'") && heads.stdout.contains("output 'value'"), "\(heads.stdout)")
    }

    @Test func validateJSONListsEveryOutput() throws {
        let r = try TestPaths.runModelPort(["validate", twoHeads, "--reference", twoHeadsReference, "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let object = try json(r.stdout)
        #expect(object["passed"] as? Bool == true)
        let outputs = try #require(object["outputs"] as? [[String: Any]])
        #expect(outputs.compactMap { $0["name"] as? String } == ["class", "value"])
        for o in outputs {
            #expect(o["passed"] as? Bool == true)
            #expect((o["max_abs_error"] as? Double ?? 1) <= 1e-5)
        }
    }

    /// One wrong weight in the 'value' head: exit status 1, 'value' named, 'class' still passes.
    @Test func validateFailsOnAWrongWeight() throws {
        let model = "fixtures/multiio/two_heads_wrong.h5"
        let text = try TestPaths.runModelPort(["validate", model, "--reference", twoHeadsReference])
        #expect(text.status == 1)
        #expect(text.stdout.contains("FAILED: output 'value' differs"), "\(text.stdout)")
        let r = try TestPaths.runModelPort(["validate", model, "--reference", twoHeadsReference, "--json"])
        #expect(r.status == 1)
        let outputs = try #require(try json(r.stdout)["outputs"] as? [[String: Any]])
        #expect(outputs.map { $0["passed"] as? Bool } == [true, false])
    }

    @Test func validateLayersOnATwoInputModel() throws {
        let r = try TestPaths.runModelPort(["validate", twoInputs, "--reference", twoInputsReference, "--layers"])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.contains("Every layer with a reference output matches"))
        #expect(r.stdout.contains("concat (Concatenate)"))
    }

    @Test func predictGivesEveryOutput() throws {
        let r = try TestPaths.runModelPort(["predict", twoHeads, "--input", twoHeadsReference, "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let object = try json(r.stdout)
        #expect(object["outputs"] as? [String] == ["class", "value"])
        let predictions = try #require(object["predictions"] as? [[String: Any]])
        let reference = try ReferenceData.read(TestPaths.repoRoot.appendingPathComponent(twoHeadsReference).path)
        let classes = try #require(reference.outputTensors.first { $0.name == "class" }).values
        let values = try #require(reference.outputTensors.first { $0.name == "value" }).values
        #expect(predictions.count == reference.sampleCount)
        for p in predictions {
            let i = try #require(p["index"] as? Int)
            let outputs = try #require(p["outputs"] as? [String: [String: Any]])
            #expect(outputs["class"]?["class"] as? Int == argmaxPerSample(classes)[i])
            let probabilities = try #require(outputs["class"]?["values"] as? [Double])
            for (j, v) in probabilities.enumerated() { #expect(abs(v - Double(classes.sample(i)[classes.sample(i).startIndex + j])) <= 1e-5) }
            let value = try #require((outputs["value"]?["values"] as? [Double])?.first)
            #expect(abs(value - Double(values.scalars[i])) <= 1e-5)
            #expect(outputs["value"]?["class"] == nil)
        }
        let table = try TestPaths.runModelPort(["predict", twoHeads, "--input", twoHeadsReference, "--limit", "3"])
        #expect(table.status == 0, "\(table.stderr)")
        #expect(table.stdout.contains("class") && table.stdout.contains("value") && table.stdout.contains("3 samples"), "\(table.stdout)")
    }

    @Test func predictWritesCSVAndOutputLines() throws {
        let dir = TestPaths.temporaryDirectory("multiio-cli")
        let csv = dir.appendingPathComponent("p.csv").path, lines = dir.appendingPathComponent("out.txt").path
        let r = try TestPaths.runModelPort(["predict", twoHeads, "--input", twoHeadsReference, "--csv", csv, "--output", lines])
        #expect(r.status == 0, "\(r.stderr)")
        let rows = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n")
        #expect(rows.first == "index,class_class,class_0,class_1,class_2,class_3,value_0")
        let reference = try ReferenceData.read(TestPaths.repoRoot.appendingPathComponent(twoHeadsReference).path)
        #expect(rows.count == reference.sampleCount + 1)
        let written = try String(contentsOfFile: lines, encoding: .utf8).split(separator: "\n")
        #expect(written.count == reference.sampleCount && written.allSatisfy { $0.split(separator: ",").count == 2 })
        let classes = try #require(reference.outputTensors.first { $0.name == "class" }).values
        #expect(written.map { Int($0.split(separator: ",")[0]) } == argmaxPerSample(classes).map { $0 })
        // A single-output model writes the same CSV with --input: index, label, its class and elements.
        let single = dir.appendingPathComponent("single.csv").path
        let s = try TestPaths.runModelPort(["predict", "fixtures/mnist_digit_model.h5", "--input", "fixtures/mnist_digit_model.reference.h5",
                                            "--limit", "4", "--csv", single])
        #expect(s.status == 0, "\(s.stderr)")
        let singleRows = try String(contentsOfFile: single, encoding: .utf8).split(separator: "\n")
        #expect(singleRows.count == 5 && singleRows[0].hasPrefix("index,label,") && singleRows[0].split(separator: ",").count == 2 + 1 + 10)
    }

    /// Two inputs, one output: the single-output report, from inputs matched by name.
    @Test func predictTakesEveryInput() throws {
        let r = try TestPaths.runModelPort(["predict", twoInputs, "--input", twoInputsReference, "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let predictions = try #require(try json(r.stdout)["predictions"] as? [[String: Any]])
        let reference = try ReferenceData.read(TestPaths.repoRoot.appendingPathComponent(twoInputsReference).path)
        #expect(predictions.map { $0["class"] as? Int } == argmaxPerSample(reference.outputs).map { $0 })
    }

    @Test func convertVerifiesEveryOutput() throws {
        let dir = TestPaths.temporaryDirectory("multiio-cli")
        for (model, reference, target) in [(twoHeads, twoHeadsReference, "heads.onnx"), (twoHeads, twoHeadsReference, "heads.keras"),
                                           (twoInputs, twoInputsReference, "inputs.onnx"), (twoInputs, twoInputsReference, "inputs_k2.h5")] {
            let out = dir.appendingPathComponent(target).path
            let r = try TestPaths.runModelPort(["convert", model, out, "--reference", reference])
            #expect(r.status == 0, "\(model) -> \(target): \(r.stdout)\(r.stderr)")
            #expect(r.stdout.contains("PASSED") && r.stdout.contains("16 reference samples"), "\(r.stdout)")
            if model == twoHeads { #expect(r.stdout.contains("(output 'value')"), "\(r.stdout)") }
        }
    }

    @Test func inspectListsEveryInputAndOutput() throws {
        let r = try TestPaths.runModelPort(["inspect", twoInputs])
        #expect(r.status == 0, "\(r.stderr)")
        for word in ["input   image", "input   features", "(None, 8, 8, 1)", "(None, 5)", "output  class", "(None, 3)"] {
            #expect(r.stdout.contains(word), "\(word) in \(r.stdout)")
        }
        let j = try TestPaths.runModelPort(["inspect", twoHeads, "--json"])
        #expect(j.status == 0, "\(j.stderr)")
        let object = try json(j.stdout)
        let outputs = try #require(object["outputs"] as? [[String: Any]])
        #expect(outputs.compactMap { $0["name"] as? String } == ["class", "value"])
        #expect(outputs.compactMap { $0["shape"] as? [Int] } == [[4], [1]])
        #expect((object["inputs"] as? [[String: Any]])?.first?["name"] as? String == "features")
    }

    /// A reference missing an input's dataset, or of the wrong shape: exit status 2 and a message naming the file.
    @Test func misfittingReferencesNameTheFile() throws {
        let dir = TestPaths.temporaryDirectory("multiio-cli")
        let good = try ReferenceData.read(TestPaths.repoRoot.appendingPathComponent(twoInputsReference).path)
        let image = try #require(good.inputTensors.first { $0.name == "image" })
        let features = try #require(good.inputTensors.first { $0.name == "features" })
        let missing = dir.appendingPathComponent("missing.h5").path
        try ReferenceData(path: missing, inputTensors: [image], outputTensors: good.outputTensors, labels: nil).write(to: missing)
        let n = features.values.batchCount
        let narrow = ReferenceTensor(name: "features", values: Tensor(shape: [n, 4], scalars: Array(features.values.scalars.prefix(n * 4))))
        let shape = dir.appendingPathComponent("shape.h5").path
        try ReferenceData(path: shape, inputTensors: [image, narrow], outputTensors: good.outputTensors, labels: nil).write(to: shape)
        let out = dir.appendingPathComponent("x.onnx").path
        let cases: [([String], [String])] = [
            (["validate", twoInputs, "--reference", missing], [missing, "inputs/features"]),
            (["predict", twoInputs, "--input", missing], [missing, "inputs/features"]),
            (["convert", twoInputs, out, "--reference", missing], [missing, "inputs/features"]),
            (["validate", twoInputs, "--reference", shape], [shape, "inputs/features", "[4]", "[5]"]),
            (["validate", twoHeads, "--reference", twoInputsReference], [twoInputsReference, "inputs/image", "names no input"]),
        ]
        for (args, words) in cases {
            let r = try TestPaths.runModelPort(args)
            #expect(r.status == 2, "\(args): \(r.stdout)\(r.stderr)")
            for word in words { #expect(r.stderr.contains(word), "\(word) in \(r.stderr)") }
        }
    }
}

import Foundation
import Testing
import ModelPortHDF5
import ModelPortKeras
import ModelPortRuntime
import ModelPortValidation
import TestSupport

/// Models with several inputs or outputs against reference files with named
/// datasets (`inputs/<name>`, `outputs/<name>`), all made by Keras 3 and
/// tf-keras (tools/make_multiio_fixtures.py, fixtures/multiio/).
@Suite struct MultiIOReferenceTests {
    static let directory = TestPaths.fixtures.appendingPathComponent("multiio")
    static func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    struct Entry: Decodable {
        let files: [String]
        let inputs: [String]?
        let outputs: [String]?
        let wrong_weight_of: String?
    }

    static let manifest: [String: Entry] = {
        guard let data = FileManager.default.contents(atPath: path("manifest.json")),
              let entries = try? JSONDecoder().decode([String: Entry].self, from: data) else { return [:] }
        return entries
    }()

    /// (model file, its reference, Keras's input and output names) for every model Keras wrote with its reference.
    static var cases: [(file: String, reference: String, inputs: [String], outputs: [String])] {
        manifest.sorted { $0.key < $1.key }.flatMap { stem, entry in
            guard entry.wrong_weight_of == nil, let inputs = entry.inputs, let outputs = entry.outputs else {
                return [(file: String, reference: String, inputs: [String], outputs: [String])]()
            }
            return entry.files.map { (file: $0, reference: stem + ".reference.h5", inputs: inputs, outputs: outputs) }
        }
    }

    @Test func theManifestListsEveryGeneration() {
        #expect(Self.cases.count == 6, "\(Self.manifest.keys.sorted())")
    }

    /// The runtime names inputs and outputs as Keras does, and every output matches Keras's.
    @Test(arguments: cases.map(\.file))
    func everyOutputMatchesKeras(_ fileName: String) throws {
        let c = try #require(Self.cases.first { $0.file == fileName })
        let file = try ModelLoader.load(Self.path(c.file))
        #expect(file.model.inputNames == c.inputs)
        #expect(file.model.outputNames == c.outputs)
        let reference = try ReferenceData.read(Self.path(c.reference))
        let result = try ReferenceValidation(model: file.model, reference: reference, modelPath: c.file)
        #expect(result.passed)
        #expect(result.outputs.map(\.name) == c.outputs)
        for o in result.outputs { #expect(o.comparison.maxAbsoluteError <= 1e-5, "\(c.file) output \(o.name)") }
    }

    /// One changed weight of the 'value' head: 'value' fails, 'class' still passes.
    @Test func aWrongWeightFailsOnItsOutput() throws {
        let file = try ModelLoader.load(Self.path("two_heads_wrong.h5"))
        let reference = try ReferenceData.read(Self.path("two_heads.reference.h5"))
        let result = try ReferenceValidation(model: file.model, reference: reference, modelPath: "two_heads_wrong.h5")
        #expect(!result.passed)
        #expect(result.outputs.map(\.name) == ["class", "value"])
        #expect(result.outputs[0].comparison.passed)
        #expect(!result.outputs[1].comparison.passed)
        let json = result.jsonObject(modelPath: "m", referencePath: "r")
        #expect(json["passed"] as? Bool == false)
        #expect((json["outputs"] as? [[String: Any]])?.compactMap { $0["name"] as? String } == ["class", "value"])
        #expect(json["max_abs_error"] == nil, "several outputs: per output only")
    }

    /// Per-layer comparison feeds every input of a multi-input model.
    @Test func perLayerComparisonTakesEveryInput() throws {
        for name in ["two_inputs", "two_inputs_keras2"] {
            let file = try ModelLoader.load(Self.path(name + ".h5"))
            let reference = try ReferenceData.read(Self.path(name + ".reference.h5"))
            let result = try ReferenceValidation(model: file.model, reference: reference, modelPath: name, perLayer: true)
            let layers = try #require(result.layers)
            #expect(result.passed && layers.firstDivergence == nil, "\(name)")
            #expect(layers.unchecked.isEmpty, "\(name): \(layers.unchecked)")
        }
    }

    /// Named datasets are written as `inputs/<name>`, an unnamed one as the plain dataset, and read back the same.
    @Test func writeKeepsTheNamedLayout() throws {
        let reference = try ReferenceData.read(Self.path("two_inputs.reference.h5"))
        #expect(reference.inputTensors.map(\.name) == ["features", "image"])
        #expect(reference.outputTensors.map(\.name) == [nil])
        let path = TestPaths.temporaryDirectory("multiio").appendingPathComponent("copy.h5").path
        try reference.write(to: path)
        let file = try HDF5File(openingAt: path)
        #expect(file.root.isDataset("inputs/image") && file.root.isDataset("inputs/features") && file.root.isDataset("outputs"))
        let again = try ReferenceData.read(path)
        #expect(again.inputTensors.map(\.name) == reference.inputTensors.map(\.name))
        for (a, b) in zip(again.inputTensors, reference.inputTensors) { #expect(a.values == b.values) }
        #expect(again.outputs == reference.outputs)
        #expect(again.layerOutputs.keys.sorted() == reference.layerOutputs.keys.sorted())
    }

    /// A reference that does not fit: the message names the reference file, the dataset and the model.
    @Test func misfitsNameTheFileAndTheDataset() throws {
        let model = try ModelLoader.load(Self.path("two_inputs.h5")).model
        let good = try ReferenceData.read(Self.path("two_inputs.reference.h5"))
        let image = try #require(good.inputTensors.first { $0.name == "image" })
        let features = try #require(good.inputTensors.first { $0.name == "features" })
        let dir = TestPaths.temporaryDirectory("multiio")
        func written(_ name: String, _ inputs: [ReferenceTensor]) throws -> ReferenceData {
            let path = dir.appendingPathComponent(name).path
            try ReferenceData(path: path, inputTensors: inputs, outputTensors: good.outputTensors, labels: nil).write(to: path)
            return try ReferenceData.read(path)
        }
        let n = features.values.batchCount
        let narrow = Tensor(shape: [n, 4], scalars: Array(features.values.scalars.prefix(n * 4)))
        let cases: [(ReferenceData, [String])] = [
            (try written("missing.h5", [image]), ["missing.h5", "inputs/features", "model.h5"]),
            (try written("unknown.h5", [image, ReferenceTensor(name: "extras", values: features.values)]),
             ["unknown.h5", "inputs/features", "inputs/extras"]),
            (try written("shape.h5", [image, ReferenceTensor(name: "features", values: narrow)]),
             ["shape.h5", "inputs/features", "[4]", "[5]"]),
            (try written("single.h5", [ReferenceTensor(name: nil, values: features.values)]),
             ["single.h5", "'inputs' is one dataset", "inputs/image"]),
        ]
        for (reference, words) in cases {
            #expect {
                try ReferenceValidation(model: model, reference: reference, modelPath: "model.h5")
            } throws: { error in
                words.allSatisfy { "\(error)".contains($0) }
            }
        }
    }

    /// Inputs and outputs of different sample counts are refused on reading, naming the file and both datasets.
    @Test func sampleCountsMustAgree() throws {
        let good = try ReferenceData.read(Self.path("two_heads.reference.h5"))
        let value = try #require(good.outputTensors.first { $0.name == "value" })
        let short = ReferenceTensor(name: "value", values: value.values.batch(0..<3))
        let path = TestPaths.temporaryDirectory("multiio").appendingPathComponent("short.h5").path
        try ReferenceData(path: path, inputTensors: good.inputTensors, outputTensors: [good.outputTensors[0], short], labels: nil).write(to: path)
        #expect { try ReferenceData.read(path) } throws: { error in
            "\(error)".contains(path) && "\(error)".contains("outputs/value") && "\(error)".contains("same number of samples")
        }
    }
}

import Foundation
import ModelPortHDF5
import ModelPortKeras
import ModelPortRuntime
import ModelPortValidation
import Testing
import TestSupport

/// Copies of real Keras files, edited the way other writers (or attackers)
/// would leave them, must load identically or fail with a clear error.
struct EditedFileTests {
    /// Copies a fixture to a scratch file and lets `edit` change it.
    func editedCopy(of stem: String, _ edit: (HDF5Group) throws -> Void) throws -> String {
        let dir = TestPaths.temporaryDirectory("keras")
        let path = dir.appendingPathComponent((stem as NSString).lastPathComponent + ".h5").path
        try FileManager.default.copyItem(atPath: TestPaths.fixture(stem + ".h5"), toPath: path)
        do {
            let file = try HDF5File(openingAt: path, mode: .readWrite)
            try edit(file.root)
            try file.flush()
        }
        return path
    }

    /// Rewrites the model_config JSON through `transform`.
    func editConfig(_ root: HDF5Group, _ transform: (inout [String: Any]) -> Void) throws {
        let text = try root.readStringAttribute("model_config")
        var object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [String: Any]
        transform(&object)
        let data = try JSONSerialization.data(withJSONObject: object)
        try root.writeAttribute("model_config", string: String(decoding: data, as: UTF8.self))
    }

    func layers(_ config: inout [String: Any]) -> [[String: Any]] {
        (config["config"] as! [String: Any])["layers"] as! [[String: Any]]
    }

    func setLayers(_ config: inout [String: Any], _ layers: [[String: Any]]) {
        var inner = config["config"] as! [String: Any]
        inner["layers"] = layers
        config["config"] = inner
    }

    func expectSameAsOriginal(_ path: String, stem: String) throws {
        let reference = try ReferenceData.read(TestPaths.fixture(stem + ".reference.h5"))
        let outputs = try ModelLoader.load(path).model.predict(reference.inputs)
        #expect(maxAbsDifference(outputs, reference.outputs) <= 1e-5)
    }

    func importError(_ path: String) -> KerasImportError? {
        do { _ = try ModelLoader.load(path); return nil } catch let e as KerasImportError { return e } catch {
            Issue.record("expected a KerasImportError, got \(type(of: error)): \(error)")
            return nil
        }
    }

    /// Keras splits attributes over 64 KB into name0, name1, ...
    @Test func readsChunkedLayerAndWeightNames() throws {
        let path = try editedCopy(of: "mnist_digit_model") { root in
            let weights = try root.group("model_weights")
            let names = try weights.readStringArrayAttribute("layer_names")
            try weights.deleteAttribute("layer_names")
            try weights.writeAttribute("layer_names0", strings: Array(names.prefix(3)))
            try weights.writeAttribute("layer_names1", strings: Array(names.dropFirst(3)))
            let conv = try weights.group("conv2d")
            let weightNames = try conv.readStringArrayAttribute("weight_names")
            try conv.deleteAttribute("weight_names")
            try conv.writeAttribute("weight_names0", strings: [weightNames[0]])
            try conv.writeAttribute("weight_names1", strings: [weightNames[1]])
        }
        try expectSameAsOriginal(path, stem: "mnist_digit_model")
    }

    /// Keras 2 models built without an InputLayer carry batch_input_shape on
    /// their first layer.
    @Test func readsBatchInputShapeOnFirstLayer() throws {
        let path = try editedCopy(of: "mnist_digit_model_keras2") { root in
            try editConfig(root) { config in
                var list = layers(&config)
                let input = list.removeFirst()
                var first = list[0]["config"] as! [String: Any]
                first["batch_input_shape"] = (input["config"] as! [String: Any])["batch_input_shape"]
                list[0]["config"] = first
                setLayers(&config, list)
            }
        }
        try expectSameAsOriginal(path, stem: "mnist_digit_model_keras2")
    }

    /// A Keras 3 Sequential config without InputLayer falls back to build_input_shape.
    @Test func readsBuildInputShape() throws {
        let path = try editedCopy(of: "mnist_digit_model") { root in
            try editConfig(root) { config in
                var list = layers(&config)
                list.removeFirst()
                setLayers(&config, list)
            }
        }
        try expectSameAsOriginal(path, stem: "mnist_digit_model")
    }

    @Test func unknownLayerClassIsNamed() throws {
        let path = try editedCopy(of: "mnist_digit_model") { root in
            try editConfig(root) { config in
                var list = layers(&config)
                list[4]["class_name"] = "FancyPooling2D"
                setLayers(&config, list)
            }
        }
        let error = try #require(importError(path))
        #expect(error.className == "FancyPooling2D")
        #expect(error.layer == "max_pooling2d_1")
        #expect(error.description.contains(path))
        #expect(error.description.contains("FancyPooling2D"))
        #expect(error.description.contains("not supported"))
    }

    @Test(arguments: [
        ("data_format", "\"channels_first\""), ("groups", "2"), ("padding", "\"causal\""),
        ("activation", "\"mish\""), ("some_future_option", "true"), ("dtype", "\"mixed_float16\""),
    ])
    func unsupportedArgumentIsNamed(_ key: String, _ json: String) throws {
        let path = try editedCopy(of: "mnist_digit_model") { root in
            try editConfig(root) { config in
                var list = layers(&config)
                var conv = list[1]["config"] as! [String: Any]
                conv[key] = try! JSONSerialization.jsonObject(with: Data(json.utf8), options: .fragmentsAllowed)
                list[1]["config"] = conv
                setLayers(&config, list)
            }
        }
        let error = try #require(importError(path))
        #expect(error.layer == "conv2d")
        #expect(error.className == "Conv2D")
        #expect(error.argument == key)
    }

    @Test func weightShapeMismatchIsNamed() throws {
        let path = try editedCopy(of: "mnist_digit_model") { root in
            try editConfig(root) { config in
                var list = layers(&config)
                var dense = list.last!["config"] as! [String: Any]
                dense["units"] = 12
                list[list.count - 1]["config"] = dense
                setLayers(&config, list)
            }
        }
        let error = try #require(importError(path))
        #expect(error.layer == "dense_1")
        #expect(error.description.contains("shape"))
    }

    @Test func absurdSizesAreRefusedBeforeAllocating() throws {
        let path = try editedCopy(of: "mnist_digit_model") { root in
            try editConfig(root) { config in
                var list = layers(&config)
                var dense = list[list.count - 2]["config"] as! [String: Any]
                dense["units"] = 1_000_000_000_000
                list[list.count - 2]["config"] = dense
                setLayers(&config, list)
            }
        }
        let error = try #require(importError(path))
        #expect(error.argument == "units")
    }

    @Test func missingWeightsAreNamed() throws {
        let path = try editedCopy(of: "mnist_digit_model") { root in
            let weights = try root.group("model_weights")
            let names = try weights.readStringArrayAttribute("layer_names")
            try weights.writeAttribute("layer_names", strings: names.filter { $0 != "dense" })
        }
        let error = try #require(importError(path))
        #expect(error.layer == "dense")
    }

    /// A Sequential layer list labelled as a functional model has no graph.
    @Test func functionalConfigWithoutGraphIsRefused() throws {
        let path = try editedCopy(of: "mnist_digit_model") { root in
            try editConfig(root) { config in config["class_name"] = "Functional" }
        }
        let error = try #require(importError(path))
        #expect(error.layer == "conv2d")
        #expect(error.description.contains("inbound_nodes"))
    }

    /// A functional graph whose node refers to a call that does not exist.
    @Test func danglingGraphReferenceIsRefused() throws {
        let path = try editedCopy(of: "coverage/cov_residual") { root in
            try editConfig(root) { config in
                var list = layers(&config)
                let index = list.firstIndex { $0["name"] as? String == "residual" }!
                var text = String(decoding: try! JSONSerialization.data(withJSONObject: list[index]), as: UTF8.self)
                text = text.replacingOccurrences(of: "\"bn_b\"", with: "\"bn_z\"")
                list[index] = try! JSONSerialization.jsonObject(with: Data(text.utf8)) as! [String: Any]
                setLayers(&config, list)
            }
        }
        let error = try #require(importError(path))
        #expect(error.description.contains("bn_z"))
    }

    @Test func notAModelFile() throws {
        let dir = TestPaths.temporaryDirectory("keras")
        let text = dir.appendingPathComponent("notes.h5").path
        try Data("just some text\n".utf8).write(to: URL(fileURLWithPath: text))
        #expect(importError(text)?.description.contains("not a Keras model file") == true)
        let empty = dir.appendingPathComponent("empty.h5").path
        FileManager.default.createFile(atPath: empty, contents: Data())
        #expect(importError(empty)?.description.contains("empty") == true)
        #expect(importError(dir.appendingPathComponent("missing.h5").path)?.description.contains("no such file") == true)
        #expect(importError(dir.path)?.description.contains("directory") == true)
        // A reference file is HDF5 but not a model.
        #expect(importError(TestPaths.fixture("mnist_mlp.reference.h5"))?.description.contains("model_config") == true)
    }

    @Test func truncatedFileThrows() throws {
        let dir = TestPaths.temporaryDirectory("keras")
        let data = try Data(contentsOf: URL(fileURLWithPath: TestPaths.fixture("mnist_digit_model.h5")))
        for fraction in [0.1, 0.5, 0.9] {
            let path = dir.appendingPathComponent("truncated-\(fraction).h5").path
            try data.prefix(Int(Double(data.count) * fraction)).write(to: URL(fileURLWithPath: path))
            #expect(throws: (any Error).self) { try ModelLoader.load(path) }
            do { _ = try ModelLoader.load(path) } catch {
                #expect("\(error)".contains(path), "error should name the file: \(error)")
            }
        }
    }
}

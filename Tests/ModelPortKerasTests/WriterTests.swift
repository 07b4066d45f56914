import Foundation
import ModelPortHDF5
@testable import ModelPortKeras
import ModelPortRuntime
import ModelPortValidation
import Testing
import TestSupport

/// The Keras writers: files ModelPort writes read back to the same model;
/// a Keras file written back in its own generation keeps every weight, its
/// config, training config and optimizer state bit-identical; failures leave
/// existing files alone. (Keras itself loading these files is checked by
/// tools/interop_check.py.)
struct WriterTests {
    static let directory = TestPaths.temporaryDirectory("keras-writers")

    static func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// Every weight under /model_weights, in layer_names / weight_names order.
    static func weights(_ path: String) throws -> [(String, [Int], [Float])] {
        let root = try HDF5File(openingAt: path).root
        let group = try root.group("model_weights")
        var out: [(String, [Int], [Float])] = []
        for layer in try KerasH5Reader.readChunkedStrings(group, "layer_names") ?? [] {
            let g = try group.group(layer)
            for name in try KerasH5Reader.readChunkedStrings(g, "weight_names") ?? [] {
                let d = try g.dataset(name)
                out.append((name, try d.shape(), try d.read(as: Float.self)))
            }
        }
        return out
    }

    static func generation(_ fixture: Fixture) -> KerasGeneration { fixture.writer == "keras2" ? .keras2 : .keras3 }

    @Test(arguments: Fixture.all)
    func sameGenerationRewriteIsBitIdentical(_ fixture: Fixture) throws {
        let source = try ModelLoader.load(fixture.modelPath)
        let out = Self.path("\(fixture.stem).same.h5")
        try KerasWriter.write(source.model, to: out, options: .preserving(source, for: Self.generation(fixture)))
        let a = try Self.weights(out), b = try Self.weights(fixture.modelPath)
        #expect(a.count == b.count && a.count > 0)
        for (x, y) in zip(a, b) {
            #expect(x.0 == y.0 && x.1 == y.1)
            #expect(x.2.map(\.bitPattern) == y.2.map(\.bitPattern), "\(x.0) differs")
        }
        let written = try ModelLoader.load(out)
        #expect(written.modelConfig == source.modelConfig)
        #expect(written.trainingConfig == source.trainingConfig)
        #expect(written.kerasVersion == source.kerasVersion)
        let sourceOptimizer = try KerasOptimizerWeights.read(legacyH5: fixture.modelPath)
        #expect(try KerasOptimizerWeights.read(legacyH5: out) == sourceOptimizer)
        #expect((sourceOptimizer != nil) == fixture.includesOptimizer)
    }

    @Test(arguments: Fixture.all)
    func generatedConfigsReadBackToTheSameModel(_ fixture: Fixture) throws {
        let source = try ModelLoader.load(fixture.modelPath)
        let reference = try ReferenceData.read(fixture.referencePath)
        let expected = try source.model.predict(reference.inputs)
        for (name, options) in [("k2.h5", KerasSaveOptions(generation: .keras2)), ("k3.h5", KerasSaveOptions(generation: .keras3)),
                                ("keras", KerasSaveOptions())] {
            let out = Self.path("\(fixture.stem).generated.\(name)")
            try KerasWriter.write(source.model, to: out, options: options)
            let written = try ModelLoader.load(out)
            #expect(written.kerasGeneration == (name == "k2.h5" ? "Keras 2" : "Keras 3"))
            #expect(written.model.layers.map(\.name) == source.model.layers.map(\.name))
            #expect(maxAbsDifference(try written.model.predict(reference.inputs), expected) == 0, "\(out)")
        }
    }

    @Test func keras2LayoutIsSpelledAsTfKerasSpellsIt() throws {
        let fixture = Fixture.all.first { $0.stem == "mnist_cnn" }!
        let source = try ModelLoader.load(fixture.modelPath)
        let out = Self.path("cnn.k2.h5")
        try KerasWriter.write(source.model, to: out, options: KerasSaveOptions(generation: .keras2))
        let names = try Self.weights(out).map(\.0)
        let first = source.model.layers[0].name
        #expect(names.first == "\(first)/kernel:0")
        #expect(names.allSatisfy { $0.hasSuffix(":0") })
        let config = try ModelLoader.load(out).modelConfig
        let input = config["config"]?["layers"]?.array?.first
        #expect(input?["config"]?["batch_input_shape"] == .array([.null, .number(28), .number(28), .number(1)]))
        #expect(config["config"]?["layers"]?.array?[1]["config"]?["dtype"] == .string("float32"))
        // Keras 3: model-scoped names and DTypePolicy objects.
        let k3 = Self.path("cnn.k3.h5")
        try KerasWriter.write(source.model, to: k3, options: KerasSaveOptions(generation: .keras3))
        #expect(try Self.weights(k3).first?.0 == "\(source.model.name)/\(first)/kernel")
    }

    @Test func archiveAndWeightsStoreLayout() throws {
        let fixture = Fixture.all.first { $0.stem == "mnist_digit_model" }!
        let source = try ModelLoader.load(fixture.modelPath)
        let weights = Self.path("digit.weights.h5")
        try KerasWriter.write(source.model, to: weights)
        let root = try HDF5File(openingAt: weights).root
        #expect(root.isDataset("layers/conv2d/vars/0") && root.isDataset("layers/conv2d_2/vars/1"))
        #expect(root.isDataset("layers/dense_1/vars/0"))
        #expect(root.isGroup("layers/flatten/vars"))
        #expect(try root.dataset("layers/dense/vars/0").shape() == [576, 64])
        // The archive keeps the training config as compile_config and the Adam state by position.
        let archive = Self.path("digit.keras")
        try KerasWriter.write(source.model, to: archive, options: .preserving(source, for: .keras3, container: .archive))
        let loaded = try ModelLoader.load(archive)
        #expect(loaded.format == .kerasArchive)
        #expect(loaded.modelConfig["compile_config"]?["loss"] == .string("categorical_crossentropy"))
        let reference = try ReferenceData.read(fixture.referencePath)
        #expect(maxAbsDifference(try loaded.model.predict(reference.inputs), reference.outputs) <= 1e-5)
    }

    @Test func optimizerStateAndTrainingConfigFromTheCaller() throws {
        let model = try Sequential(name: "tiny", inputShape: [3], layers: [Dense(name: "dense", inputUnits: 3, units: 2)])
        var options = KerasSaveOptions(generation: .keras3)
        options.trainingConfig = .object(["loss": .string("mse"),
                                          "optimizer_config": .object(["class_name": .string("SGD"), "config": .object(["name": .string("SGD")])])])
        options.optimizerWeights = [
            KerasOptimizerWeight(name: "sgd/iteration", shape: [], values: .int64([42])),
            KerasOptimizerWeight(name: "sgd/learning_rate", shape: [], values: .float32([0.01])),
        ]
        let out = Self.path("tiny.h5")
        try KerasWriter.write(model, to: out, options: options)
        #expect(try KerasOptimizerWeights.read(legacyH5: out) == options.optimizerWeights)
        #expect(try ModelLoader.load(out).trainingConfig == options.trainingConfig)
        let dataset = try HDF5File(openingAt: out).root.dataset("optimizer_weights/sgd/iteration")
        #expect(try dataset.elementType() == .int64)
    }

    @Test func longAttributesAreChunkedAsKerasChunksThem() throws {
        // 400 layers with 200-character names: layer_names needs 80,000 bytes.
        let layers: [any Layer] = (0..<400).map { ActivationLayer(name: String(format: "%03d", $0) + String(repeating: "x", count: 197), activation: .relu) }
        let model = try Sequential(name: "long", inputShape: [2], layers: layers)
        let out = Self.path("long.h5")
        try KerasWriter.write(model, to: out)
        let group = try HDF5File(openingAt: out).root.group("model_weights")
        #expect(try !group.hasAttribute("layer_names"))
        #expect(try group.hasAttribute("layer_names0") && group.hasAttribute("layer_names1") && !group.hasAttribute("layer_names2"))
        #expect(try KerasH5Reader.readChunkedStrings(group, "layer_names") == layers.map(\.name))
        #expect(try ModelLoader.load(out).model.layers.count == 400)
        // numpy.array_split(7 strings, 3): the first chunk takes the extra element; 3 x 20,006 bytes fits 64,512.
        #expect(KerasAttributeWriter.split((0..<7).map { String(repeating: "a", count: 20_000 + $0) }).map(\.count) == [3, 2, 2])
    }

    @Test func failedWritesLeaveExistingFilesAlone() throws {
        let dir = TestPaths.temporaryDirectory("keras-writer-fail")
        let model = try Sequential(name: "bad", inputShape: [4], layers: [ActivationLayer(name: "gelu_tanh", activation: .geluTanh)])
        for name in ["bad.h5", "bad.keras"] {
            let out = dir.appendingPathComponent(name).path
            let before = Data("old \(name)".utf8)
            FileManager.default.createFile(atPath: out, contents: before)
            let error = #expect(throws: KerasExportError.self) { try KerasWriter.write(model, to: out) }
            #expect(error?.description.hasPrefix("\(out): layer 'gelu_tanh' (Activation)") == true, "\(String(describing: error))")
            #expect(FileManager.default.contents(atPath: out) == before)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["bad.h5", "bad.keras"])
        let good = try Sequential(name: "good", inputShape: [4], layers: [Dense(name: "d", inputUnits: 4, units: 2)])
        let missing = "/nonexistent-modelport-dir/model.h5"
        let error = #expect(throws: KerasExportError.self) { try KerasWriter.write(good, to: missing) }
        #expect(error?.description == "\(missing): cannot write: directory '/nonexistent-modelport-dir' does not exist")
    }

    @Test func everyRuntimeLayerTypeHasAKerasCodec() throws {
        // One layer of every runtime type a Keras file can hold; export finds
        // its codec by type, and the codec writes the class the layer reports.
        let layers: [any Layer] = [
            ActivationLayer(name: "a", activation: .relu), AveragePooling2D(name: "ap"), MaxPooling2D(name: "mp"),
            BatchNormalization(name: "bn", channels: 2), Conv2D(name: "c", inputChannels: 2, filters: 2, kernelSize: (1, 1)),
            Conv2DTranspose(name: "ct", inputChannels: 2, filters: 2, kernelSize: (1, 1)), Dense(name: "d", inputUnits: 2, units: 2),
            DepthwiseConv2D(name: "dw", inputChannels: 2, kernelSize: (1, 1)),
            SeparableConv2D(name: "s", inputChannels: 2, filters: 2, kernelSize: (1, 1)), Dropout(name: "dr", rate: 0.5),
            ELU(name: "e", alpha: 1), Flatten(name: "f"), GlobalPooling2D(name: "g", kind: .max), LayerNormalization(name: "ln", features: 2),
            Merge(name: "m", operation: .add), Normalization(name: "n", features: 2), PReLU(name: "p", inputShape: [2]),
            Padding2D(name: "pad", kind: .crop, top: 1, bottom: 1, left: 1, right: 1), Permute(name: "pe", dims: [1]),
            ReLU(name: "r"), ReLU(name: "lr", negativeSlope: 0.2, kind: .leaky), RepeatVector(name: "rv", count: 2),
            Rescaling(name: "rs", scale: 2), Reshape(name: "re", targetShape: [2]), Softmax(name: "sm", axis: 0),
            UpSampling2D(name: "u", size: (2, 2)),
        ] + InferenceIdentity.Kind.allCases.map { InferenceIdentity(name: "i", kind: $0) }
        for layer in layers {
            let codec = try #require(KerasCodecs.codec(for: layer), "\(layer.typeName)")
            #expect(codec.classNames.contains(layer.typeName), "\(layer.typeName)")
        }
        // Every class name is decoded by one codec, every runtime type written by one.
        let names = KerasCodecs.families.flatMap(\.codecs).flatMap(\.classNames)
        #expect(Set(names).count == names.count)
        #expect(KerasCodecs.supportedClassNames == Set(names).sorted())
    }

    @Test func aLayerKerasCannotExpressIsRefusedByName() throws {
        let model = try Sequential(name: "m", inputShape: [4], layers: [InferenceIdentity(name: "reg", kind: .activityRegularization)])
        #expect {
            _ = try KerasModelConfigWriter.config(for: model, dialect: .legacyKeras3, file: "out.h5")
        } throws: { "\($0)".hasPrefix("out.h5: layer 'reg' (ActivityRegularization): its l1/l2 factors") }
    }
}

import Foundation
import ModelPortHDF5
import ModelPortKeras
import ModelPortRuntime
import ModelPortValidation
import Testing
import TestSupport

/// The coverage fixtures (tools/make_coverage_fixtures.py): models that
/// together use every supported layer and activation, saved by Keras 3 as
/// .h5 and .keras and by tf-keras as .h5, with every layer's Keras output.
struct CoverageTests {
    static let directory = TestPaths.fixtures.appendingPathComponent("coverage")

    struct Case: Sendable, CustomStringConvertible {
        let file: String
        let reference: String
        var description: String { file }
    }

    static let cases: [Case] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.sorted().compactMap { name in
            guard !name.hasSuffix(".reference.h5"), name.hasSuffix(".h5") || name.hasSuffix(".keras") else { return nil }
            let stem = name.hasSuffix(".keras") ? String(name.dropLast(6)) : String(name.dropLast(3))
            guard stem != "activations" else { return nil }
            return Case(file: directory.appendingPathComponent(name).path,
                        reference: directory.appendingPathComponent(stem + ".reference.h5").path)
        }
    }()

    @Test func everyFormatAndGenerationIsPresent() {
        #expect(Self.cases.count == 12, "4 models x (Keras 3 .h5, Keras 3 .keras, Keras 2 .h5)")
        #expect(Self.cases.filter { $0.file.hasSuffix(".keras") }.count == 4)
        #expect(Self.cases.filter { $0.file.hasSuffix("_keras2.h5") }.count == 4)
    }

    @Test(arguments: cases)
    func matchesKerasOnEveryOutputAndEveryLayer(_ c: Case) throws {
        let file = try ModelLoader.load(c.file)
        let reference = try ReferenceData.read(c.reference)
        let outputs = try file.model.predict(reference.inputs)
        let result = try Comparison(actual: outputs, expected: reference.outputs, labels: reference.labels)
        #expect(result.maxAbsoluteError <= 1e-5, "\(c): \(result.maxAbsoluteError)")
        #expect(result.argmaxAgreements == result.samples)
        let layers = try LayerComparison(model: file.model, reference: reference)
        #expect(layers.unchecked.isEmpty, "layers without reference: \(layers.unchecked)")
        #expect(layers.rows.count >= 13)
        for row in layers.rows {
            #expect(row.passed, "\(c): layer \(row.layer) (\(row.typeName)) max |diff| \(row.maxAbsoluteError ?? -1)")
        }
    }

    /// Every layer class the importer supports appears in some coverage model.
    @Test func fixturesUseEverySupportedLayerKind() throws {
        var seen = Set<String>()
        func collect(_ model: any Model) {
            for layer in model.layers {
                seen.insert(layer.typeName)
                if let nested = layer as? ModelLayer { collect(nested.model) }
            }
        }
        for c in Self.cases { collect(try ModelLoader.load(c.file).model) }
        let canonical: Set<String> = [
            "Conv2D", "DepthwiseConv2D", "SeparableConv2D", "Conv2DTranspose", "MaxPooling2D", "AveragePooling2D",
            "GlobalAveragePooling2D", "GlobalMaxPooling2D", "ZeroPadding2D", "Cropping2D", "UpSampling2D", "Flatten",
            "Reshape", "Permute", "RepeatVector", "Dense", "Activation", "Dropout", "SpatialDropout2D", "GaussianNoise",
            "GaussianDropout", "ActivityRegularization", "BatchNormalization", "LayerNormalization", "Rescaling",
            "Normalization", "ReLU", "LeakyReLU", "ELU", "PReLU", "Softmax", "Add", "Subtract", "Multiply", "Average",
            "Maximum", "Minimum", "Concatenate", "Sequential", "InputLayer",
        ]
        #expect(canonical.subtracting(seen).isEmpty, "not covered: \(canonical.subtracting(seen).sorted())")
    }

    /// A weights-only file plus the config gives the same model (the pieces
    /// of a real .keras archive, taken apart).
    @Test func weightsFileWithConfig() throws {
        let dir = TestPaths.temporaryDirectory("weights")
        let archive = Self.directory.appendingPathComponent("cov_residual.keras").path
        let unzip = Process()
        unzip.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        unzip.arguments = ["python3", "-c", "import zipfile,sys; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])", archive, dir.path]
        try unzip.run()
        unzip.waitUntilExit()
        #expect(unzip.terminationStatus == 0)
        let weights = dir.appendingPathComponent("cov_residual.weights.h5").path
        try FileManager.default.moveItem(atPath: dir.appendingPathComponent("model.weights.h5").path, toPath: weights)
        let file = try ModelLoader.load(weights, configPath: dir.appendingPathComponent("config.json").path)
        #expect(file.format == .weightsH5)
        let reference = try ReferenceData.read(Self.directory.appendingPathComponent("cov_residual.reference.h5").path)
        #expect(maxAbsDifference(try file.model.predict(reference.inputs), reference.outputs) <= 1e-5)
        // Without the config, the error says what is missing.
        #expect(throws: KerasImportError.self) { try ModelLoader.load(weights) }
    }

    /// Every activation, as Keras 3 and tf-keras compute it on the same grid
    /// (gelu both exact and tanh-approximate; hard_sigmoid as each generation defines it).
    @Test func activationsMatchBothKerasGenerations() throws {
        let file = try HDF5File(openingAt: Self.directory.appendingPathComponent("activations.h5").path)
        let x = try Tensor(shape: file.root.dataset("x").shape(), scalars: file.root.dataset("x").read(as: Float.self))
        var checked = 0
        for generation in ["keras3", "keras2"] {
            let group = try file.root.group(generation)
            for name in try group.childNames() {
                let activation: Activation
                if name == "gelu_tanh" { activation = .geluTanh } else {
                    activation = try #require(Activation.named(name, kerasMajorVersion: generation == "keras3" ? 3 : 2), "\(name)")
                }
                let expected = try group.dataset(name).read(as: Float.self)
                var y = x
                activation.apply(to: &y)
                var worst: Float = 0
                for i in 0..<expected.count {
                    let e = expected[i], a = y.scalars[i]
                    // Relative for the exponential's large values, absolute elsewhere.
                    worst = max(worst, abs(a - e) / max(1, abs(e)))
                }
                #expect(worst <= 1e-6, "\(generation)/\(name): worst error \(worst)")
                checked += 1
            }
        }
        #expect(checked >= 33)
    }
}

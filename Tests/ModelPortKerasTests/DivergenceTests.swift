import Foundation
import ModelPortHDF5
import ModelPortKeras
import ModelPortRuntime
import ModelPortValidation
import Testing
import TestSupport

/// A copy of a fixture with one weight altered: the per-layer check must
/// name exactly that layer as the first divergence, in-process and through
/// `modelport validate --layers`.
struct DivergenceTests {
    static let directory = TestPaths.fixtures.appendingPathComponent("coverage")

    /// Copies `stem.h5`, adds `delta` to element `index` of `layer`'s first weight.
    func alteredCopy(_ stem: String, layer: String, index: Int, delta: Float) throws -> String {
        let path = TestPaths.temporaryDirectory("divergence").appendingPathComponent("\(stem)-altered.h5").path
        try FileManager.default.copyItem(atPath: Self.directory.appendingPathComponent(stem + ".h5").path, toPath: path)
        let file = try HDF5File(openingAt: path, mode: .readWrite)
        let group = try file.root.group("model_weights/\(layer)")
        let weightName = try #require(try group.readStringArrayAttribute("weight_names").first)
        let dataset = try group.dataset(weightName)
        var values = try dataset.read(as: Float.self)
        values[index] += delta
        try dataset.write(values)
        try file.flush()
        return path
    }

    @Test(arguments: [("cov_residual", "c2"), ("cov_conv_keras2", "dw"), ("cov_merge", "shared"), ("cov_dense", "ln")])
    func namesTheAlteredLayer(_ stem: String, _ layer: String) throws {
        let path = try alteredCopy(stem, layer: layer, index: 3, delta: 0.5)
        let reference = try ReferenceData.read(Self.directory.appendingPathComponent(stem + ".reference.h5").path)
        let model = try ModelLoader.load(path).model
        let comparison = try LayerComparison(model: model, reference: reference)
        #expect(comparison.firstDivergence?.layer == layer)
        // Every layer before it still matches.
        for row in comparison.rows.prefix(while: { $0.layer != layer }) { #expect(row.passed, "\(row.layer)") }

        let r = try TestPaths.runModelPort(["validate", path, "--reference", reference.path, "--layers"])
        #expect(r.status == 1)
        #expect(r.stdout.contains("First divergence: layer '\(layer)'"), "\(r.stdout)")
    }

    @Test func unalteredFixturePassesPerLayer() throws {
        let stem = "cov_residual"
        let r = try TestPaths.runModelPort(["validate", Self.directory.appendingPathComponent(stem + ".h5").path,
                                            "--reference", Self.directory.appendingPathComponent(stem + ".reference.h5").path,
                                            "--layers", "--json"])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect(object["first_divergence"] is NSNull)
        #expect((object["layers"] as? [Any])?.count == 14)
    }

    /// `predict --dump LAYER` writes that layer's activations: the same
    /// numbers Keras's per-layer extractor produced for the reference.
    @Test func dumpWritesKerasMatchingActivations() throws {
        let stem = "cov_merge"
        let out = TestPaths.temporaryDirectory("dump").appendingPathComponent("shared.h5").path
        let reference = try ReferenceData.read(Self.directory.appendingPathComponent(stem + ".reference.h5").path)
        let r = try TestPaths.runModelPort(["predict", Self.directory.appendingPathComponent(stem + ".h5").path,
                                            "--input", reference.path, "--limit", "8",
                                            "--dump", "shared", "--dump-file", out, "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let file = try HDF5File(openingAt: out)
        let dataset = try file.root.dataset("layers/shared")
        let dumped = try Tensor(shape: dataset.shape(), scalars: dataset.read(as: Float.self))
        let expected = try #require(reference.layerOutputs["shared"])
        #expect(dumped.shape == expected.shape)
        #expect(maxAbsDifference(dumped, expected) <= 1e-5)

        let bad = try TestPaths.runModelPort(["predict", Self.directory.appendingPathComponent(stem + ".h5").path,
                                              "--input", reference.path, "--dump", "no_such_layer", "--dump-file", out])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("no layer 'no_such_layer'"))
        // The earlier dump is untouched by the failed one.
        #expect(try HDF5File(openingAt: out).root.dataset("layers/shared").shape() == expected.shape)
    }
}

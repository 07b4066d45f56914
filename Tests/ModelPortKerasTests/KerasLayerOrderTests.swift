import Foundation
@testable import ModelPortKeras
import ModelPortHDF5
import ModelPortRuntime
import Testing
import TestSupport

/// `KerasLayerOrder` must list a model's layers as Keras itself does: the
/// order its weight loaders match stored weights by. Keras wrote that order
/// into every legacy `.h5` it saved (`model_weights` `layer_names`): for each
/// Keras-written fixture — the committed coverage and multi-input/output
/// models, the generated transfer-learning models and every
/// keras.applications family (branches, shared and nested models) — the
/// order computed from the graph must be Keras's, name for name.
@Suite struct KerasLayerOrderTests {
    /// The models a fixture set's manifest lists (`<stem>.h5`), but for edited ones made to be wrong.
    static func kerasWrittenH5(in directory: URL) -> [String] {
        guard let data = try? Data(contentsOf: directory.appendingPathComponent("manifest.json")),
              let manifest = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return [] }
        return manifest.keys.filter { !$0.contains("wrong") }.sorted().map { directory.appendingPathComponent($0 + ".h5").path }
    }

    static let files: [String] = [
        TestPaths.fixtures.appendingPathComponent("coverage"), TestPaths.fixtures.appendingPathComponent("multiio"),
        TestPaths.repoRoot.appendingPathComponent(".build/fixtures/applications"),
        TestPaths.repoRoot.appendingPathComponent(".build/fixtures/families"),
    ].flatMap(kerasWrittenH5)

    @Test func thereAreFunctionalFixtures() throws {
        // The generated sets are made by the test command before the Swift tests run.
        #expect(Self.files.count >= 60, "\(Self.files.count) Keras-written .h5 files")
    }

    @Test(arguments: files)
    func ordersLayersAsKerasDid(_ path: String) throws {
        let model = try ModelLoader.load(path).model
        let written = try HDF5File(openingAt: path).root.group("model_weights").readStringArrayAttribute("layer_names")
        // Keras 3's operations (`ops.add`, ...) are no layers (and a Sequential model lists no InputLayer):
        // runtime layers that are not in Keras's list take no place in it.
        let computed = KerasLayerOrder.layers(of: model).map(\.name).filter(written.contains)
        #expect(computed == written, "\(path)")
    }

    @Test func generatedGraphsFollowDepthNotNodeOrder() throws {
        // x -> a -> b -> add(b, c) and x -> c, with the merge's inputs in both orders: the node order lists c
        // last either way; Keras 3 lists the layers of the same graph as it prints here.
        let keras = try python("""
            import json, os
            os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
            import keras
            x = keras.Input((2,), name="x")
            b = keras.layers.Dense(2, name="b")(keras.layers.Dense(2, name="a")(x))
            c = keras.layers.Dense(2, name="c")(x)
            print(json.dumps([[l.name for l in keras.Model(x, keras.layers.Add(name="add")(pair)).layers] for pair in ([b, c], [c, b])]))
            """)
        let expected = try JSONDecoder().decode([[String]].self, from: keras)
        for (k, order) in [[2, 3], [3, 2]].enumerated() {
            let a = Dense(name: "a", inputUnits: 2, units: 2), b = Dense(name: "b", inputUnits: 2, units: 2)
            let c = Dense(name: "c", inputUnits: 2, units: 2)
            let nodes: [Functional.Node] = [
                .init(layer: InputLayer(name: "x", sampleShape: [2]), inputs: []), .init(layer: a, inputs: [0]),
                .init(layer: b, inputs: [1]), .init(layer: c, inputs: [0]),
                .init(layer: Merge(name: "add", operation: .add), inputs: order),
            ]
            let model = try Functional(name: "m", nodes: nodes, inputNodes: [0], outputNodes: [4])
            #expect(KerasLayerOrder.layers(of: model).map(\.name) == expected[k])
        }
        // Keras orders the two graphs differently, and neither as the nodes are listed, so the test can tell.
        #expect(expected.count == 2 && expected[0] != expected[1])
    }
}

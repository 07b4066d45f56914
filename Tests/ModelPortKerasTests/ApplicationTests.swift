import Foundation
import ModelPortKeras
import ModelPortRuntime
import ModelPortValidation
import Testing
import TestSupport

/// Real-world Keras models made by Keras at test time
/// (tools/make_application_fixtures.py, run by tools/test.sh before
/// `swift test`): the transfer-learning guide's model — augmentation layers,
/// preprocessing, a MobileNetV2 base with BatchNorm nested as a layer and
/// partly frozen — in Keras 3 (.h5, .keras) and tf-keras (.h5).
struct ApplicationTests {
    static let directory = TestPaths.repoRoot.appendingPathComponent(".build/fixtures/applications")

    struct Case: Sendable, CustomStringConvertible {
        let stem: String
        let file: String
        /// Keras's count of the model's trainable weights.
        let trainableParameters: Int?
        var description: String { file }
    }

    /// Every model file in the generated manifest. A missing manifest is a
    /// failure (see `fixturesWereGenerated`), never an empty, passing run.
    static let cases: [Case] = {
        guard let data = try? Data(contentsOf: directory.appendingPathComponent("manifest.json")),
              let manifest = try? JSONSerialization.jsonObject(with: data) as? [String: [String: Any]] else { return [] }
        return manifest.keys.sorted().flatMap { stem in
            (manifest[stem]?["files"] as? [String] ?? []).map {
                Case(stem: stem, file: $0, trainableParameters: manifest[stem]?["trainable_parameters"] as? Int)
            }
        }
    }()

    @Test func fixturesWereGenerated() {
        #expect(Self.cases.count >= 9, "run tools/make_application_fixtures.py (tools/test.sh does) to make \(Self.directory.path)")
    }

    @Test(arguments: cases)
    func matchesKeras(_ c: Case) throws {
        let file = try ModelLoader.load(Self.directory.appendingPathComponent(c.file).path)
        let reference = try ReferenceData.read(Self.directory.appendingPathComponent(c.stem + ".reference.h5").path)
        let outputs = try file.model.predict(reference.inputs)
        // float32 through ~60 layers: Keras and ModelPort sum in different orders.
        let result = try Comparison(actual: outputs, expected: reference.outputs, atol: 1e-4, rtol: 1e-4)
        #expect(result.passed, "\(c): max |diff| \(result.maxAbsoluteError)")
        // Frozen layers and BatchNorm statistics are what Keras calls non-trainable.
        let trainable = try #require(c.trainableParameters, "manifest without trainable_parameters: remake the fixtures")
        #expect(file.model.trainableParameterCount == trainable, "\(c)")
    }

    /// A fine-tuned base keeps which layers were frozen: training leaves
    /// them alone, and a file written back lists the weights in Keras's order.
    @Test func frozenLayersStayFrozenAndWriteBackInKerasOrder() throws {
        for generation in ["", "_keras2"] {
            let path = Self.directory.appendingPathComponent("finetune_mobilenetv2\(generation).h5").path
            let file = try ModelLoader.load(path)
            let base = try #require(file.model.layers.compactMap { $0 as? ModelLayer }.first { $0.model.layers.count > 100 })
            let frozen = base.parameters.filter(\.frozen).count
            #expect(frozen > 0 && frozen < base.parameters.count, "\(path): \(frozen) of \(base.parameters.count) frozen")
            // Keras 3 cannot load its op layers (mobilenet_v2.preprocess_input's TrueDivide) from a legacy .h5: a .keras archive.
            let out = TestPaths.temporaryDirectory("finetune").appendingPathComponent(generation.isEmpty ? "back.keras" : "back.h5").path
            try KerasWriter.write(file.model, to: out, options: generation.isEmpty
                ? .preserving(file, for: .keras3, container: .archive) : .preserving(file, for: .keras2))
            let again = try ModelLoader.load(out)
            let reference = try ReferenceData.read(Self.directory.appendingPathComponent("finetune_mobilenetv2\(generation).reference.h5").path)
            #expect(try file.model.predict(reference.inputs) == again.model.predict(reference.inputs))
            let againBase = try #require(again.model.layers.compactMap { $0 as? ModelLayer }.first { $0.model.layers.count > 100 })
            #expect(againBase.parameters.map(\.frozen) == base.parameters.map(\.frozen))
        }
    }
}

import Foundation
import ModelPortKeras
import ModelPortRuntime
import ModelPortValidation
import Testing
import TestSupport

/// Real-world Keras models made by Keras at test time (run by tools/test.sh
/// before `swift test`): tools/make_application_fixtures.py makes the
/// transfer-learning guide's model — augmentation layers, preprocessing, a
/// MobileNetV2 base with BatchNorm nested as a layer and partly frozen — and
/// tools/make_family_fixtures.py every `keras.applications` family, in
/// Keras 3 (.h5, .keras) and tf-keras (.h5).
struct ApplicationTests {
    static let directory = TestPaths.repoRoot.appendingPathComponent(".build/fixtures/applications")
    static let familyDirectory = TestPaths.repoRoot.appendingPathComponent(".build/fixtures/families")

    struct Case: Sendable, CustomStringConvertible {
        let directory: URL
        let stem: String
        let file: String
        /// Keras's count of the model's trainable weights.
        let trainableParameters: Int?
        var description: String { file }
    }

    /// Every model file in a generated manifest. A missing manifest is a
    /// failure (see `fixturesWereGenerated`), never an empty, passing run.
    static func cases(in directory: URL) -> [Case] {
        guard let data = try? Data(contentsOf: directory.appendingPathComponent("manifest.json")),
              let manifest = try? JSONSerialization.jsonObject(with: data) as? [String: [String: Any]] else { return [] }
        return manifest.keys.sorted().flatMap { stem in
            (manifest[stem]?["files"] as? [String] ?? []).map {
                Case(directory: directory, stem: stem, file: $0, trainableParameters: manifest[stem]?["trainable_parameters"] as? Int)
            }
        }
    }

    static let applicationCases = cases(in: directory)
    static let familyCases = cases(in: familyDirectory)

    @Test func fixturesWereGenerated() {
        #expect(Self.applicationCases.count >= 9, "run tools/make_application_fixtures.py (tools/test.sh does) to make \(Self.directory.path)")
        // 18 families and a block of the layers they leave out in tf-keras (.h5),
        // the 15 families Keras 3 has and that block in Keras 3 (.h5 and .keras).
        #expect(Self.familyCases.count >= 51, "run tools/make_family_fixtures.py (tools/test.sh does) to make \(Self.familyDirectory.path)")
    }

    @Test(arguments: applicationCases + familyCases)
    func matchesKeras(_ c: Case) throws {
        let file = try ModelLoader.load(c.directory.appendingPathComponent(c.file).path)
        let reference = try ReferenceData.read(c.directory.appendingPathComponent(c.stem + ".reference.h5").path)
        // The validator's default verdict: float32 rounding against a float64
        // run of the model (on one sample; the others within the rounding measured).
        let result = try ReferenceValidation(model: file.model, reference: reference, modelPath: c.file, rule: .rounding(samples: 1))
        let verdict = try #require(result.rounding, "\(c): \(result.roundingUnavailable ?? "")")
        #expect(verdict.passed, "\(c): \(verdict.explanation)")
        // Frozen layers and BatchNorm statistics are what Keras calls non-trainable.
        let trainable = try #require(c.trainableParameters, "manifest without trainable_parameters: remake the fixtures")
        #expect(file.model.trainableParameterCount == trainable, "\(c)")
    }

    /// The guide calls its base with `training=False`: ModelPort keeps that, so a
    /// training step leaves the base's BatchNormalization statistics alone (Keras
    /// 2 does too) while its unfrozen gamma and beta still learn, and the
    /// float64-checked gradient of an unfrozen gamma matches finite differences
    /// of the inference-mode forward pass.
    @Test func aBaseCalledWithTrainingFalseTrainsInInferenceMode() throws {
        for generation in ["", "_keras2"] {
            let path = Self.directory.appendingPathComponent("finetune_mobilenetv2\(generation).h5").path
            let file = try ModelLoader.load(path).model
            let base = try #require(file.layers.compactMap { $0 as? ModelLayer }.first { $0.model.layers.count > 100 })
            #expect(base.callsInInferenceMode, "\(path)")
            let norms = base.model.layers.compactMap { $0 as? BatchNormalization }
            let unfrozen = try #require(norms.last { !$0.movingMean.frozen }, "\(path): every BatchNormalization is frozen")
            let before = unfrozen.movingMean.value
            // The base alone as the model trained (the guide's augmentation layers cannot be trained through yet).
            let model = try Functional(name: "around_base", nodes: [Functional.Node(layer: InputLayer(name: "x", sampleShape: base.model.inputShape), inputs: []),
                                                                     Functional.Node(layer: base, inputs: [0])], inputNodes: [0], outputNodes: [1])
            let graph = try TrainingGraph(model)
            let gradients = Gradients(parameters: graph.trainableParameters)
            gradients.zero()
            let pixels = try ReferenceData.read(Self.directory.appendingPathComponent("finetune_mobilenetv2\(generation).reference.h5").path).inputs
            let input = Tensor(shape: pixels.shape, scalars: pixels.scalars.map { $0 / 127.5 - 1 })
            let trace = graph.forward([input], context: TrainingContext(training: true))
            _ = graph.backward(trace, outputGradients: [.output(Tensor(shape: trace.outputs[0].shape, scalars: .init(repeating: 1, count: trace.outputs[0].count)))],
                               gradients: gradients)
            #expect(unfrozen.movingMean.value == before, "\(path): moving statistics changed in a training=False base")
            let gamma = try #require(unfrozen.gamma)
            let analytic = try #require(gradients[gamma])
            #expect(analytic.scalars.contains { $0 != 0 }, "\(path): an unfrozen gamma of the base gets no gradient")
            // Finite differences of sum(outputs) (inference mode, as the base runs) for the first channel.
            func objective(_ delta: Float) -> Double {
                gamma.value.scalars[0] += delta
                defer { gamma.value.scalars[0] -= delta }
                return model.forward(inputs: [input])[0].scalars.reduce(0.0) { $0 + Double($1) }
            }
            let numeric = (objective(1e-2) - objective(-1e-2)) / 2e-2
            let scale = max(1, abs(numeric))
            #expect(abs(numeric - Double(analytic.scalars[0])) / scale < 2e-2, "\(path): numeric \(numeric), analytic \(analytic.scalars[0])")
        }
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

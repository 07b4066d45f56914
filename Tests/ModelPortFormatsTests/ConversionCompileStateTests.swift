import Foundation
import Testing
import ModelPortFormats
import ModelPortKeras
import ModelPortRuntime
import TestSupport

/// `convert` carries a compiled model's compile settings and optimizer state
/// into every Keras layout (`KerasCompileState`). ModelPort reading the
/// converted file back must find the source's optimizer, step and every slot;
/// that Keras itself continues from them is checked by
/// tools/check_compile_state.py in the test command.
@Suite struct ConversionCompileStateTests {
    /// A Keras 3 archive trained two steps with Adam(amsgrad=True) (tools/make_training_fixtures.py).
    let sourcePath = TestPaths.fixture("training/continue_keras.keras")

    func resumed(_ file: KerasModelFile) throws -> Optimizer? {
        guard case .continued(let optimizer) = try KerasOptimizerResumption.read(file, model: file.model) else { return nil }
        return optimizer
    }

    @Test(arguments: [("k3.h5", 3), ("k2.h5", 2), ("again.keras", 3)])
    func everyLayoutKeepsTheOptimizer(name: String, generation: Int) throws {
        let source = try AnyModelFile.loadTrusted(sourcePath)
        let keras = try #require(source.keras)
        let expected = try #require(try resumed(keras))
        let path = TestPaths.temporaryDirectory("compile-state").appendingPathComponent(name).path
        let written = try ModelConversion.write(source, to: path, options: .init(kerasVersion: generation))
        #expect(written.description.contains("compiled (Adam at step \(expected.iterations))"), "\(written.description)")
        #expect(written.notes.isEmpty, "\(written.notes)")

        let back = try ModelLoader.load(path)
        #expect(back.trainingConfig?["loss"] == source.trainingConfig?["loss"])
        let optimizer = try #require(try resumed(back), "\(name): no optimizer state came back")
        #expect(optimizer.kerasClassName == "Adam" && optimizer.iterations == expected.iterations)
        #expect(optimizer.rule.slotNames == expected.rule.slotNames)
        for p in expected.parameters.indices {
            for s in expected.rule.slotNames.indices {
                #expect(optimizer.slot(s, of: p).scalars == expected.slot(s, of: p).scalars, "\(name): slot \(s) of parameter \(p)")
            }
        }
    }

    @Test func modelOnlyLeavesTheCompileStateOut() throws {
        let source = try AnyModelFile.loadTrusted(sourcePath)
        for name in ["m.keras", "m.h5"] {
            let path = TestPaths.temporaryDirectory("compile-state").appendingPathComponent(name).path
            let written = try ModelConversion.write(source, to: path, options: .init(modelOnly: true))
            #expect(written.description.contains("model only"))
            let back = try ModelLoader.load(path)
            #expect(back.trainingConfig == nil, "\(name) still has compile settings")
            guard case .notCompiled = try KerasOptimizerResumption.read(back, model: back.model) else {
                Issue.record("\(name): ModelPort would continue an optimizer from it")
                continue
            }
        }
    }
}

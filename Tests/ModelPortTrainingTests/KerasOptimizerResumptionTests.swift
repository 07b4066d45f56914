import Testing
import ModelPortKeras
import ModelPortRuntime
import TestSupport

/// How fine-tuning continues a saved optimizer: a typed answer for each case
/// (never compiled, compiled without an optimizer, settings without state,
/// settings and state), from `.h5` and `.keras` files.
@Suite struct KerasOptimizerResumptionTests {
    func written(_ name: String, from source: String, options: KerasSaveOptions) throws -> KerasModelFile {
        let file = try ModelLoader.load(TestPaths.fixture(source))
        let out = TestPaths.temporaryDirectory("resumption").appendingPathComponent(name).path
        try KerasWriter.write(file.model, to: out, options: options)
        return try ModelLoader.load(out)
    }

    @Test(arguments: [("mnist_digit_model.h5", 4690), ("mnist_digit_model_keras2.h5", 4690), ("training/continue_keras.keras", 2)])
    func savedStateContinues(name: String, steps: Int) throws {
        let file = try ModelLoader.load(TestPaths.fixture(name))
        guard case .continued(let optimizer) = try KerasOptimizerResumption.read(file, model: file.model) else {
            Issue.record("\(name): the saved optimizer state was not restored")
            return
        }
        #expect(optimizer.iterations == steps)
        // The same as restoring by hand.
        let byHand = try KerasOptimizerState.optimizer(fromTrainingConfig: try #require(file.trainingConfig), file: file.path)
        if file.format == .legacyH5 {
            try KerasOptimizerState.restore(byHand, model: file.model, fromH5: file.path)
        } else {
            try KerasOptimizerState.restore(byHand, model: file.model, fromKerasArchive: file.path)
        }
        #expect(byHand.iterations == optimizer.iterations && byHand.kerasClassName == optimizer.kerasClassName)
        for p in 0..<byHand.parameters.count {
            for s in 0..<byHand.rule.slotNames.count { #expect(byHand.slot(s, of: p) == optimizer.slot(s, of: p)) }
        }
    }

    /// Compiled (a training config) but saved without optimizer variables:
    /// the saved settings, fresh state; `restoreIfSaved` says `.absent`.
    @Test(arguments: ["fresh.h5", "fresh.keras"])
    func settingsWithoutStateStartFresh(name: String) throws {
        let config = KerasOptimizerState.trainingConfig(optimizer: .sgd(momentum: 0.5), loss: .categoricalCrossentropy())
        let file = try written(name, from: "mnist_mlp.h5", options: KerasSaveOptions(trainingConfig: config))
        let probe = Optimizer.sgd()
        let state = name.hasSuffix(".h5") ? try KerasOptimizerState.restoreIfSaved(probe, model: file.model, fromH5: file.path)
                                          : try KerasOptimizerState.restoreIfSaved(probe, model: file.model, fromKerasArchive: file.path)
        #expect(state == .absent && probe.iterations == 0)
        guard case .fresh(let optimizer) = try KerasOptimizerResumption.read(file, model: file.model) else {
            Issue.record("\(name): expected the saved SGD settings with fresh state")
            return
        }
        #expect(optimizer.kerasClassName == "SGD" && optimizer.iterations == 0)
    }

    @Test func aLearningRateReplacesTheSavedOne() throws {
        let config = KerasOptimizerState.trainingConfig(optimizer: .rmsprop(), loss: .categoricalCrossentropy())
        let file = try written("rate.h5", from: "mnist_mlp.h5", options: KerasSaveOptions(trainingConfig: config))
        let rate = OptimizerKind.rmsprop.defaultLearningRate / 4
        guard case .fresh(let optimizer) = try KerasOptimizerResumption.read(file, model: file.model, learningRate: rate) else {
            Issue.record("expected fresh RMSprop")
            return
        }
        #expect(optimizer.currentLearningRate == rate)
    }

    @Test func anUncompiledFileHasNothingToContinue() throws {
        let file = try written("bare.h5", from: "mnist_mlp.h5", options: KerasSaveOptions())
        guard case .notCompiled = try KerasOptimizerResumption.read(file, model: file.model) else {
            Issue.record("a file without training_config is not compiled")
            return
        }
    }

    /// `compile()`d without an optimizer: Keras drops the state, so do we.
    @Test func aCompiledFileWithoutAnOptimizerSaysSo() throws {
        let config: JSONValue = .object(["loss": .string("categorical_crossentropy"), "optimizer": .null])
        let file = try written("no-optimizer.h5", from: "mnist_mlp.h5", options: KerasSaveOptions(trainingConfig: config))
        guard case .noOptimizerRecorded = try KerasOptimizerResumption.read(file, model: file.model) else {
            Issue.record("expected .noOptimizerRecorded")
            return
        }
    }

    /// The optimizer-name map lives in one place: Keras's names, the
    /// runtime's factories and `training_config` parsing agree on it.
    @Test(arguments: OptimizerKind.allCases)
    func optimizerKindsAgreeWithTheFactoriesAndTheParser(kind: OptimizerKind) throws {
        let made = kind.makeOptimizer()
        #expect(made.kerasClassName == kind.kerasClassName)
        #expect(made.currentLearningRate == kind.defaultLearningRate)
        #expect(OptimizerKind(name: kind.kerasClassName) == kind)
        let compiled: JSONValue = .object(["loss": .string("categorical_crossentropy"), "optimizer": .string(kind.rawValue)])
        let parsed = try KerasOptimizerState.optimizer(fromTrainingConfig: compiled, file: "compile_config")
        #expect(parsed.kerasClassName == kind.kerasClassName && parsed.currentLearningRate == kind.defaultLearningRate)
    }
}

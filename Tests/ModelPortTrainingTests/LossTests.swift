import Foundation
import Testing
import ModelPortRuntime
import TestSupport

/// Each loss's batch-mean value and gradient against `keras.losses.*` under
/// `tf.GradientTape` (fixtures/training/losses.h5), including confident
/// wrong answers where Keras's clipping to [1e-7, 1 - 1e-7] matters.
@Suite struct LossTests {
    static let cases: [(String, Loss)] = [
        ("categorical_probabilities", .categoricalCrossentropy()),
        ("categorical_soft_targets", .categoricalCrossentropy()),
        ("categorical_logits", .categoricalCrossentropy(fromLogits: true)),
        ("sparse_probabilities", .sparseCategoricalCrossentropy()),
        ("sparse_logits", .sparseCategoricalCrossentropy(fromLogits: true)),
        ("binary_probabilities", .binaryCrossentropy()),
        ("binary_logits", .binaryCrossentropy(fromLogits: true)),
        ("mean_squared_error", .meanSquaredError),
    ]

    @Test(arguments: cases.map(\.0))
    func valueAndGradientMatchKeras(name: String) throws {
        let loss = Self.cases.first { $0.0 == name }!.1
        let fixture = try TrainingFixture("losses.h5")
        let input = try fixture.tensor("\(name)/input")
        var target = try fixture.tensor("\(name)/target")
        if case .sparseCategoricalCrossentropy = loss { target = target.reshaped([target.count]) }
        let (sum, gradient) = loss.evaluate(output: input, logits: nil, target: target, batchSize: input.batchCount)
        let expected = try fixture.tensor("\(name)/loss").scalars[0]
        let value = Float(sum / Double(input.batchCount))
        #expect(abs(value - expected) <= 1e-5 * max(1, abs(expected)), "\(name): \(value) vs Keras \(expected)")
        guard case .output(let g) = gradient else { Issue.record("expected a gradient of the output"); return }
        let expectedGradient = try fixture.tensor("\(name)/gradient")
        let error = scaledDifference(g, expectedGradient)
        #expect(error < 1e-5, "\(name): gradient scaled max difference \(error)")
    }

    @Test func softmaxOutputsUseTheLogitsLikeKeras() {
        // With logits available, a confident wrong answer is not clipped at -log(1e-7).
        let logits = Tensor(shape: [1, 2], scalars: [0, 40])
        var probabilities = logits
        Activation.softmax.apply(to: &probabilities)
        let target = Tensor(shape: [1, 2], scalars: [1, 0])
        let clipped = Loss.categoricalCrossentropy().evaluate(output: probabilities, logits: nil, target: target, batchSize: 1)
        let viaLogits = Loss.categoricalCrossentropy().evaluate(output: probabilities, logits: logits, target: target, batchSize: 1)
        #expect(abs(clipped.lossSum - Double(-log(Float(1e-7)))) < 1e-3)
        #expect(abs(viaLogits.lossSum - 40) < 1e-4)
        guard case .logits(let g) = viaLogits.gradient else { Issue.record("expected a logits gradient"); return }
        #expect(abs(g.scalars[0] + 1) < 1e-6 && abs(g.scalars[1] - 1) < 1e-6)
    }
}

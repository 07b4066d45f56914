import Foundation
import ModelPortKeras
import ModelPortRuntime
import ModelPortValidation
import Testing
import TestSupport

/// The default verdict of `modelport validate`: float32 rounding passes, a
/// model that differs fails, both judged against a float64 run of the model.
struct RoundingVerdictTests {
    static let coverage = TestPaths.fixtures.appendingPathComponent("coverage")

    /// Every committed Keras-made model: its float64 run is the truth both
    /// float32 runs are close to (the float64 definitions are right), and
    /// the verdict passes.
    @Test(arguments: ["mnist_mlp", "mnist_cnn_keras2", "mnist_digit_model", "mnist_conv_pair", "coverage/cov_conv", "coverage/cov_conv_keras2",
                      "coverage/cov_dense", "coverage/cov_residual_keras2", "coverage/cov_merge", "coverage/cov_merge_keras2"])
    func kerasFixturesAreRounding(_ stem: String) throws {
        let model = try ModelLoader.load(TestPaths.fixture(stem + ".h5")).model
        let reference = try ReferenceData.read(TestPaths.fixture(stem + ".reference.h5"))
        let result = try ReferenceValidation(model: model, reference: reference, modelPath: stem, rule: .rounding(samples: 4))
        let verdict = try #require(result.rounding, "\(stem): \(result.roundingUnavailable ?? "")")
        #expect(verdict.passed, "\(stem): \(verdict.explanation)")
        #expect(verdict.modelportError < 1e-5 && verdict.referenceError < 1e-5, "\(stem): \(verdict.explanation)")
        #expect(result.passed)
    }

    /// The largest-magnitude weight of `c2` changed in its 5th significant
    /// digit: the outputs move by less than the old absolute tolerance
    /// (1e-5), far more than rounding; the default verdict fails and says the
    /// model differs. Changed in its 7th digit (rounding level), it passes.
    @Test func aWeightChangedInTheLastDigitThatMattersFails() throws {
        let stem = "cov_residual"
        let original = try ModelLoader.load(Self.coverage.appendingPathComponent(stem + ".h5").path).model
        let conv = try #require(original.layers.first { $0.name == "c2" } as? Conv2D)
        let weights = conv.kernel.value.scalars
        let index = try #require(weights.indices.max { abs(weights[$0]) < abs(weights[$1]) })
        let reference = try ReferenceData.read(Self.coverage.appendingPathComponent(stem + ".reference.h5").path)
        func verdict(digit: Int) throws -> ReferenceValidation {
            let step = Float(pow(10, (log10(Double(abs(weights[index]))).rounded(.down) - Double(digit - 1))))
            let path = try DivergenceTests().alteredCopy(stem, layer: "c2", index: index, delta: step)
            let model = try ModelLoader.load(path).model
            return try ReferenceValidation(model: model, reference: reference, modelPath: path, rule: .rounding(samples: 8))
        }
        let changed = try verdict(digit: 5)
        #expect(changed.comparison.maxAbsoluteError < 1e-5, "the change should be invisible to an absolute 1e-5")
        let rounding = try #require(changed.rounding)
        #expect(!changed.passed && !rounding.referenceIsRounding, "\(rounding.explanation)")
        #expect(changed.decidingRule.contains("the model differs"))
        let negligible = try verdict(digit: 7)
        #expect(negligible.passed, "\(negligible.decidingRule)")
    }

    /// A layer without a float64 definition: the tolerance rule decides, and says why.
    @Test func withoutAFloat64DefinitionTheToleranceDecides() throws {
        final class Mystery: Layer, @unchecked Sendable {
            let name = "mystery"
            var typeName: String { "Mystery" }
            func outputShape(for inputShape: [Int]) throws -> [Int] { inputShape }
            func forward(_ input: Tensor) -> Tensor { input }
        }
        let model = try Sequential(name: "m", inputShape: [3], layers: [Mystery()])
        let x = randomTensor([2, 3], seed: 1)
        let reference = ReferenceData(path: "ref.h5", inputs: x, outputs: x, labels: nil)
        let result = try ReferenceValidation(model: model, reference: reference, modelPath: "m", rule: .rounding(samples: 2))
        #expect(result.rounding == nil && result.passed)
        #expect(result.decidingRule.contains("'mystery' (Mystery) has no float64 definition"))
    }
}

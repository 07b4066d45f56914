import Foundation
import ModelPortRuntime
import ModelPortValidation
import Testing
import TestSupport

/// NaN matches NaN where both have it (numpy's `allclose(equal_nan=True)`, and
/// how the ONNX backend tests compare): `sqrt` of a negative input computed
/// where the reference computed it is no difference. NaN against a number, or
/// a number against NaN, always is — in the tolerance rule and in the
/// rounding verdict alike.
@Suite struct NaNComparisonTests {
    @Test func nanMatchesOnlyNaN() throws {
        let nan = Float.nan, inf = Float.infinity
        func outside(_ a: [Float], _ e: [Float]) throws -> Int {
            try Comparison(actual: Tensor(shape: [1, a.count], scalars: a), expected: Tensor(shape: [1, e.count], scalars: e)).elementsOutsideTolerance
        }
        #expect(try outside([nan, 1, inf, -inf], [nan, 1, inf, -inf]) == 0)
        #expect(try outside([nan, 1], [0.5, 1]) == 1)
        #expect(try outside([0.5, 1], [nan, 1]) == 1)
        #expect(try outside([inf, 1], [-inf, 1]) == 1)
        #expect(try outside([inf, 1], [3e38, 1]) == 1)
    }

    /// `sqrt` of inputs with negatives: ModelPort's NaNs where the reference has them pass the default
    /// (rounding) verdict; one NaN where the reference has a number fails it.
    @Test func roundingVerdictBothWays() throws {
        let model = try Sequential(name: "m", inputShape: [6], layers: [UnaryMath(name: "sqrt", function: .sqrt)])
        let x = Tensor(shape: [2, 6], scalars: [4, -1, 2.25, 0, -9, 7, 1, 3, -0.5, 16, 5, -2])
        // The reference: what a float32 sqrt gives, NaN for every negative input.
        let expected = Tensor(shape: x.shape, scalars: x.scalars.map { $0.squareRoot() })
        #expect(expected.scalars.filter(\.isNaN).count == 4)
        let same = try ReferenceValidation(model: model, reference: ReferenceData(path: "ref.h5", inputs: x, outputs: expected, labels: nil),
                                           modelPath: "m", rule: .rounding(samples: 2))
        #expect(same.passed, "\(same.decidingRule)")
        var changed = expected
        changed.scalars[1] = 0  // a number where ModelPort computes NaN
        let differs = try ReferenceValidation(model: model, reference: ReferenceData(path: "ref.h5", inputs: x, outputs: changed, labels: nil),
                                              modelPath: "m", rule: .rounding(samples: 2))
        #expect(!differs.passed)
    }
}

import Foundation
import ModelPortRuntime

/// Tells float32 rounding from a real difference, using a float64 run of the
/// model (`Float64Run`) as the truth both float32 runs approximate:
///
/// - ModelPort's own error: `|modelport - float64|`;
/// - the reference framework's own error: `|reference - float64|`.
///
/// Both are float32 evaluations of the same network, summing in different
/// orders, so their errors are of the same size. The verdict passes when
///
/// - the reference is within `referenceFactor` (8) of ModelPort's own error:
///   a model that differs — a weight changed in the last decimal place that
///   shows in the outputs, a layer computed differently — moves ModelPort's
///   float64 and float32 runs together, away from the reference, whose
///   "error" then exceeds anything rounding explains, however small the
///   absolute difference;
/// - and ModelPort is within `modelportFactor` (32) of the reference's error:
///   a layer ModelPort computes wrongly is far from its own float64
///   definition. (Looser, because with few output elements — a one-unit
///   head — the reference's largest error is a noisy estimate; a wrong
///   computation is off by orders of magnitude.)
///
/// Errors are the largest over every compared element, with a floor of
/// float32's unit roundoff times the outputs' magnitude (below it, both are exact).
/// The float64 run covers the first samples only (it is slow); every sample
/// beyond them must then agree with the reference within the rounding those
/// samples measured, allowing for the larger extremes of many samples:
/// `modelportFactor` times the larger of the two errors.
public struct RoundingVerdict: Sendable {
    /// One output element, for the report's table of the worst ones.
    public struct Element: Sendable {
        public let sample: Int
        public let index: Int
        public let modelport: Float
        public let reference: Float
        public let float64: Double
        /// NaN matches NaN (and an infinity the same infinity): see `elementDifference`.
        public var modelportError: Double { elementDifference(Double(modelport), float64) }
        public var referenceError: Double { elementDifference(Double(reference), float64) }
    }

    public let samples: Int
    /// Largest |modelport - float64| and |reference - float64| over the compared elements.
    public let modelportError: Double
    public let referenceError: Double
    /// The error below which both count as exact (the unit roundoff of the outputs).
    public let floor: Double
    public let referenceFactor: Double
    public let modelportFactor: Double
    /// The elements where ModelPort and the reference differ most, worst first.
    public let worst: [Element]

    /// Whether the reference is explained by rounding (it is not far from the
    /// float64 truth of the model ModelPort read).
    public var referenceIsRounding: Bool { referenceError <= referenceFactor * max(modelportError, floor) }
    /// Whether ModelPort rounds no worse than `modelportFactor` times the reference.
    public var modelportIsRounding: Bool { modelportError <= modelportFactor * max(referenceError, floor) }
    /// The tolerance every sample is held to: `modelportFactor` x the larger measured error (or the floor).
    public var derivedTolerance: Double { modelportFactor * max(modelportError, referenceError, floor) }
    /// Largest |modelport - reference| over all samples, and how many elements exceed `derivedTolerance`.
    public let maxDifference: Double
    public let elementsOutsideDerivedTolerance: Int
    /// NaN or infinity in either float32 run where the float64 run has none (or the other way round): never
    /// rounding. NaN where all three are NaN (`sqrt` of a negative input) matches.
    public var finite: Bool { modelportError.isFinite && referenceError.isFinite }
    public var passed: Bool { finite && referenceIsRounding && modelportIsRounding && elementsOutsideDerivedTolerance == 0 }

    /// - Parameters:
    ///   - actual: ModelPort's float32 outputs; `expected`: the reference's.
    ///   - truth: the float64 run on the first `truth.batch` samples of the same inputs.
    public init(actual: Tensor, expected: Tensor, truth: Float64Run.Values,
                referenceFactor: Double = 8, modelportFactor: Double = 32, worstCount: Int = 5) throws {
        let m = truth.shape[0]
        guard actual.shape == expected.shape, Array(truth.shape.dropFirst()) == actual.sampleShape, m <= actual.batchCount else {
            throw ReferenceError("float64 run of shape \(truth.shape) does not match outputs \(actual.shape) and reference \(expected.shape)")
        }
        let per = actual.sampleCount, n = m * per
        var mp = 0.0, ref = 0.0, magnitude = 0.0
        var elements: [Element] = []
        for i in 0..<n {
            let t = truth.scalars[i]
            let e = Element(sample: i / per, index: i % per, modelport: actual.scalars[i], reference: expected.scalars[i], float64: t)
            // NaN anywhere is never rounding.
            mp = e.modelportError.isNaN ? .infinity : max(mp, e.modelportError)
            ref = e.referenceError.isNaN ? .infinity : max(ref, e.referenceError)
            if t.isFinite { magnitude = max(magnitude, abs(t)) }
            elements.append(e)
        }
        // Every sample, float64 run or not, within the rounding just measured.
        samples = m
        modelportError = mp
        referenceError = ref
        self.referenceFactor = referenceFactor
        self.modelportFactor = modelportFactor
        floor = Double(Float.ulpOfOne) / 2 * max(magnitude, Double(Float.leastNormalMagnitude))
        let tolerance = modelportFactor * max(mp, ref, floor)
        var largest = 0.0, outside = 0
        for i in 0..<actual.count {
            let d = elementDifference(Double(actual.scalars[i]), Double(expected.scalars[i]))
            if d.isNaN || d > tolerance { outside += 1 }
            largest = d.isNaN ? .infinity : max(largest, d)
        }
        maxDifference = largest
        elementsOutsideDerivedTolerance = outside
        worst = Array(elements.sorted { abs($0.modelport - $0.reference) > abs($1.modelport - $1.reference) }.prefix(worstCount))
    }

    /// Which rule decided, in words, for reports.
    public var explanation: String {
        func sci(_ v: Double) -> String { String(format: "%.2e", v) }
        if passed {
            return "rounding: the reference's float32 error (\(sci(referenceError))) against a float64 run of this model is within \(Int(referenceFactor))x ModelPort's (\(sci(modelportError))), and ModelPort's within \(Int(modelportFactor))x the reference's"
        }
        if !finite {
            return "not rounding: the outputs hold NaN (not a number) or infinity where the float64 run does not, or the other way round"
        }
        if !referenceIsRounding || !modelportIsRounding {
            return notRounding
        }
        return "not rounding: \(elementsOutsideDerivedTolerance) elements beyond the first \(samples) samples differ from the reference by more than \(sci(derivedTolerance)) (\(Int(modelportFactor))x the rounding measured on those samples; largest \(sci(maxDifference)))"
    }

    private var notRounding: String {
        func sci(_ v: Double) -> String { String(format: "%.2e", v) }
        if !referenceIsRounding {
            return "not rounding: the reference is \(sci(referenceError)) from the float64 run of this model, more than \(Int(referenceFactor))x ModelPort's own float32 error (\(sci(modelportError))): the model differs from the one that made the reference"
        }
        return "not rounding: ModelPort's float32 error (\(sci(modelportError))) is more than \(Int(modelportFactor))x the reference's (\(sci(referenceError))): ModelPort computes a layer differently from its definition"
    }
}

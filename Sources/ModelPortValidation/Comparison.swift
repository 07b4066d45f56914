import ModelPortRuntime

/// The result of comparing a model's outputs with reference outputs, element
/// by element.
public struct Comparison: Sendable {
    public let samples: Int
    public let elements: Int
    public let atol: Float
    public let rtol: Float
    /// Largest |actual - expected| over all elements.
    public let maxAbsoluteError: Float
    /// Largest |actual - expected| / |expected| over elements with expected != 0.
    public let maxRelativeError: Float
    /// Where the largest absolute error is: sample and element within it.
    public let worstSample: Int
    public let worstElement: Int
    public let worstActual: Float
    public let worstExpected: Float
    /// Elements outside `atol + rtol * |expected|` (numpy `allclose` rule).
    public let elementsOutsideTolerance: Int
    /// Samples where actual and expected agree on the arg-max class.
    public let argmaxAgreements: Int
    /// Samples whose actual arg-max equals the label, when labels are given.
    public let labelMatches: Int?
    /// Samples whose expected arg-max equals the label, when labels are given.
    public let referenceLabelMatches: Int?

    public var passed: Bool { elementsOutsideTolerance == 0 && argmaxAgreements == samples }

    /// Compares `actual` with `expected`; both must have the same shape.
    /// - Throws: `ReferenceError` when the shapes differ.
    public init(actual: Tensor, expected: Tensor, labels: [Int]? = nil, atol: Float = 1e-5, rtol: Float = 0) throws {
        guard actual.shape == expected.shape else {
            throw ReferenceError("model output shape \(actual.shape) does not match reference output shape \(expected.shape)")
        }
        self.atol = atol
        self.rtol = rtol
        samples = expected.batchCount
        elements = expected.count
        let per = max(1, expected.sampleCount)
        var maxAbs: Float = 0, maxRel: Float = 0, worst = 0, outside = 0
        for i in 0..<expected.count {
            let a = actual.scalars[i], e = expected.scalars[i]
            let diff = Float(elementDifference(Double(a), Double(e)))
            // NaN against a number counts as outside tolerance and as the worst element; so does an infinity
            // against anything but itself (where rtol * |e| would be NaN or infinite).
            if diff.isNaN || diff.isInfinite || diff > atol + rtol * abs(e) { outside += 1 }
            if diff.isNaN ? !maxAbs.isNaN : diff > maxAbs { maxAbs = diff; worst = i }
            if e != 0 { maxRel = max(maxRel, diff / abs(e)) } else if diff > 0 { maxRel = .infinity }
        }
        maxAbsoluteError = maxAbs
        maxRelativeError = maxRel
        elementsOutsideTolerance = outside
        worstSample = worst / per
        worstElement = worst % per
        worstActual = elements > 0 ? actual.scalars[worst] : 0
        worstExpected = elements > 0 ? expected.scalars[worst] : 0
        let actualClasses = argmaxPerSample(actual)
        let expectedClasses = argmaxPerSample(expected)
        argmaxAgreements = zip(actualClasses, expectedClasses).filter { $0 == $1 }.count
        if let labels, labels.count == samples {
            labelMatches = zip(actualClasses, labels).filter { $0 == $1 }.count
            referenceLabelMatches = zip(expectedClasses, labels).filter { $0 == $1 }.count
        } else {
            labelMatches = nil
            referenceLabelMatches = nil
        }
    }
}

/// |a - b|, except that NaN matches NaN and an infinity the same infinity
/// (numpy's `allclose(equal_nan=True)`: `sqrt(-1)` computed where the
/// reference computed it is no difference); NaN when only one is NaN.
func elementDifference(_ a: Double, _ b: Double) -> Double {
    if a == b || (a.isNaN && b.isNaN) { return 0 }
    return abs(a - b)
}

/// The index of the largest element of each sample.
public func argmaxPerSample(_ t: Tensor) -> [Int] {
    let per = t.sampleCount
    guard per > 0 else { return [] }
    return (0..<t.batchCount).map { s in
        var best = 0
        var bestValue = -Float.infinity
        for j in 0..<per {
            let v = t.scalars[s * per + j]
            if v > bestValue { bestValue = v; best = j }
        }
        return best
    }
}

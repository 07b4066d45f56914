/// Keras's configurable `ReLU` layer (and the fixed-slope `LeakyReLU`):
/// `y = min(x, maxValue)` for `x >= threshold`, else `negativeSlope * (x - threshold)`.
public final class ReLU: Layer, @unchecked Sendable {
    /// Which Keras class the layer is: the configurable `ReLU` or the fixed-slope `LeakyReLU`.
    public enum Kind: Sendable, Equatable { case relu, leaky }

    public let name: String
    public let kind: Kind
    public var typeName: String { kind == .leaky ? "LeakyReLU" : "ReLU" }
    public let maxValue: Float?
    public let negativeSlope: Float
    public let threshold: Float

    /// - Parameter kind: `.relu` or `.leaky`, as the Keras class was.
    public init(name: String, maxValue: Float? = nil, negativeSlope: Float = 0, threshold: Float = 0, kind: Kind = .relu) {
        self.name = name
        self.maxValue = maxValue
        self.negativeSlope = negativeSlope
        self.threshold = threshold
        self.kind = kind
    }

    public func outputShape(for inputShape: [Int]) throws -> [Int] { inputShape }

    @inline(__always)
    func value(_ x: Float) -> Float {
        var y = x >= threshold ? x : negativeSlope * (x - threshold)
        if let maxValue { y = min(y, maxValue) }
        return y
    }

    public func forward(_ input: Tensor) -> Tensor {
        var output = input
        let n = output.count
        output.scalars.withUnsafeMutableBufferPointer { buffer in
            let x = buffer.baseAddress!
            // The plain and capped ReLU (MobileNet's ReLU(max_value=6)) as loops that vectorise; NaN stays NaN.
            if threshold == 0 && negativeSlope == 0 {
                if let maxValue { for i in 0..<n { x[i] = Swift.min(Swift.max(x[i], 0), maxValue) } }
                else { for i in 0..<n { x[i] = Swift.max(x[i], 0) } }
            } else {
                for i in 0..<n { x[i] = value(x[i]) }
            }
        }
        return output
    }
}

// MARK: - Training

extension ReLU: TrainableLayer {
    /// The input: the slope depends on where x lies.
    public struct Cache: LayerCache { public let input: Tensor }

    public func forward(_ input: Tensor, context: TrainingContext) -> (output: Tensor, cache: any LayerCache) {
        (forward(input), Cache(input: input))
    }

    /// Slope 1 above the threshold (0 above `maxValue`), `negativeSlope`
    /// below it. At x == threshold, TensorFlow's choice for the ops Keras
    /// uses: `leaky_relu`'s alpha for a plain leaky ReLU, else 0 (relu's and
    /// the `x * (x > threshold)` mask's gradient there).
    @inline(__always)
    func slope(_ x: Float) -> Float {
        if x > threshold {
            if let maxValue, x > maxValue { return 0 }
            return 1
        }
        if x == threshold { return threshold == 0 && maxValue == nil ? negativeSlope : 0 }
        if let maxValue, negativeSlope * (x - threshold) > maxValue { return 0 }
        return negativeSlope
    }

    public func backward(_ outputGradient: Tensor, cache: any LayerCache, gradients: Gradients) -> Tensor {
        let x = (cache as! Cache).input
        precondition(outputGradient.shape == x.shape, "\(name): gradient shape \(outputGradient.shape)")
        var dx = outputGradient
        for i in 0..<dx.count { dx.scalars[i] *= slope(x.scalars[i]) }
        return dx
    }
}

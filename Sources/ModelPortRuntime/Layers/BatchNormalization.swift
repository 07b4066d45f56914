/// Batch normalization over the last (channel) axis, at inference:
/// `y = (x - moving_mean) / sqrt(moving_variance + epsilon) * gamma + beta`,
/// computed as TensorFlow does (`inv = rsqrt(var + eps) * gamma`,
/// `y = x * inv + (beta - mean * inv)`).
///
/// Weights in Keras's order: gamma (if `scale`), beta (if `center`),
/// moving_mean, moving_variance.
public final class BatchNormalization: Layer, @unchecked Sendable {
    public let name: String
    public var typeName: String { "BatchNormalization" }
    public let epsilon: Float
    public let momentum: Float
    public let gamma: Parameter?
    public let beta: Parameter?
    public let movingMean: Parameter
    public let movingVariance: Parameter

    public init(name: String, channels: Int, epsilon: Float = 1e-3, momentum: Float = 0.99,
                scale: Bool = true, center: Bool = true) {
        precondition(channels > 0)
        self.name = name
        self.epsilon = epsilon
        self.momentum = momentum
        gamma = scale ? Parameter(name: "gamma", value: Tensor(shape: [channels], scalars: .init(repeating: 1, count: channels))) : nil
        beta = center ? Parameter(name: "beta", value: Tensor(zeros: [channels])) : nil
        movingMean = Parameter(name: "moving_mean", value: Tensor(zeros: [channels]), trainable: false)
        movingVariance = Parameter(name: "moving_variance",
                                   value: Tensor(shape: [channels], scalars: .init(repeating: 1, count: channels)), trainable: false)
    }

    public var channels: Int { movingMean.shape[0] }
    public var parameters: [Parameter] { [gamma, beta].compactMap { $0 } + [movingMean, movingVariance] }

    public func outputShape(for inputShape: [Int]) throws -> [Int] {
        guard inputShape.last == channels else {
            throw RuntimeError("normalizes \(channels) channels on the last axis, got input \(inputShape)")
        }
        return inputShape
    }

    /// Per-channel multiplier and offset equivalent to the normalization.
    func affine() -> (scale: [Float], shift: [Float]) {
        var scale = [Float](repeating: 0, count: channels), shift = scale
        for c in 0..<channels {
            var inv = 1 / (movingVariance.value.scalars[c] + epsilon).squareRoot()
            if let gamma { inv *= gamma.value.scalars[c] }
            scale[c] = inv
            shift[c] = (beta?.value.scalars[c] ?? 0) - movingMean.value.scalars[c] * inv
        }
        return (scale, shift)
    }

    public func forward(_ input: Tensor) -> Tensor {
        let (scale, shift) = affine()
        var output = input
        let c = channels
        output.scalars.withUnsafeMutableBufferPointer { y in
            var i = 0
            while i < y.count {
                for k in 0..<c { y[i + k] = y[i + k] * scale[k] + shift[k] }
                i += c
            }
        }
        return output
    }
}

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
            scale.withUnsafeBufferPointer { a in
                shift.withUnsafeBufferPointer { b in
                    // Pointers, not arrays, in the inner loop: no bounds checks, so it vectorises.
                    let (yp, ap, bp) = (y.baseAddress!, a.baseAddress!, b.baseAddress!)
                    var i = 0
                    while i < y.count {
                        let row = yp + i
                        for k in 0..<c { row[k] = row[k] * ap[k] + bp[k] }
                        i += c
                    }
                }
            }
        }
        return output
    }
}

// MARK: - Training

extension BatchNormalization: TrainableLayer {
    /// The normalised input `xhat = (x - mean) / sqrt(var + eps)` and the
    /// batch's `1 / sqrt(var + eps)` per channel; empty `xhat` for an
    /// inference-mode pass (moving statistics, a plain affine map).
    public struct Cache: LayerCache {
        /// x̂ (training mode), or x̂ from the moving statistics when an inference-mode
        /// pass has trainable gamma/beta; empty otherwise.
        public let normalized: Tensor
        /// 1/sqrt(variance + epsilon) per channel (training mode), or the affine scale (inference mode).
        public let inverseStd: [Float]
        /// The pass normalised with the moving statistics.
        public let inference: Bool
    }

    /// Whole-batch statistics: a batch is never split across threads.
    public var needsWholeBatch: Bool { true }

    /// Training mode, as Keras 3: normalise with the batch mean and biased
    /// variance over every axis but the last, and update
    /// `moving = moving * momentum + batch * (1 - momentum)`. A frozen layer
    /// (Keras `trainable = False`) runs in inference mode, as in Keras; so does
    /// one in a base model called with `training=False` (an inference-mode
    /// context), whose gamma and beta still learn, through the moving statistics.
    public func forward(_ input: Tensor, context: TrainingContext) -> (output: Tensor, cache: any LayerCache) {
        guard context.training, !movingMean.frozen else {
            let (scale, _) = affine()
            var normalized = Tensor(zeros: [0])
            if !movingMean.frozen && (gamma != nil || beta != nil) {
                let c = channels
                let inverse = movingVariance.value.scalars.map { 1 / ($0 + epsilon).squareRoot() }
                normalized = input
                for i in 0..<normalized.count {
                    normalized.scalars[i] = (input.scalars[i] - movingMean.value.scalars[i % c]) * inverse[i % c]
                }
            }
            return (forward(input), Cache(normalized: normalized, inverseStd: scale, inference: true))
        }
        let c = channels
        let rows = input.count / c
        precondition(rows > 0 && input.shape.last == c, "\(name): input shape \(input.shape)")
        var mean = [Double](repeating: 0, count: c), variance = [Double](repeating: 0, count: c)
        input.scalars.withUnsafeBufferPointer { x in
            for r in 0..<rows { for k in 0..<c { mean[k] += Double(x[r * c + k]) } }
            for k in 0..<c { mean[k] /= Double(rows) }
            for r in 0..<rows { for k in 0..<c { let d = Double(x[r * c + k]) - mean[k]; variance[k] += d * d } }
            for k in 0..<c { variance[k] /= Double(rows) }
        }
        let inverseStd = (0..<c).map { 1 / (Float(variance[$0]) + epsilon).squareRoot() }
        var normalized = input
        var output = input
        for r in 0..<rows {
            for k in 0..<c {
                let i = r * c + k
                let xhat = (input.scalars[i] - Float(mean[k])) * inverseStd[k]
                normalized.scalars[i] = xhat
                output.scalars[i] = xhat * (gamma?.value.scalars[k] ?? 1) + (beta?.value.scalars[k] ?? 0)
            }
        }
        let m = momentum
        for k in 0..<c {
            movingMean.value.scalars[k] = movingMean.value.scalars[k] * m + Float(mean[k]) * (1 - m)
            movingVariance.value.scalars[k] = movingVariance.value.scalars[k] * m + Float(variance[k]) * (1 - m)
        }
        return (output, Cache(normalized: normalized, inverseStd: inverseStd, inference: false))
    }

    /// dGamma += sum(dY * xhat), dBeta += sum(dY), and
    /// dX = gamma * invStd / N * (N * dY - sum(dY) - xhat * sum(dY * xhat)),
    /// sums per channel over the N = batch * spatial positions.
    public func backward(_ outputGradient: Tensor, cache: any LayerCache, gradients: Gradients) -> Tensor {
        let cache = cache as! Cache
        let c = channels
        var dx = outputGradient
        guard !cache.inference else {
            // Inference mode: y = x * scale + shift, scale = gamma / sqrt(moving variance + epsilon).
            if cache.normalized.count > 0 {
                if let gamma {
                    gradients.accumulate(gamma) { g in
                        for i in 0..<dx.count { g[i % c] += outputGradient.scalars[i] * cache.normalized.scalars[i] }
                    }
                }
                if let beta { gradients.accumulate(beta) { g in for i in 0..<dx.count { g[i % c] += outputGradient.scalars[i] } } }
            }
            for i in 0..<dx.count { dx.scalars[i] *= cache.inverseStd[i % c] }
            return dx
        }
        precondition(outputGradient.count == cache.normalized.count, "\(name): gradient shape \(outputGradient.shape)")
        let rows = dx.count / c
        var sumDy = [Float](repeating: 0, count: c), sumDyXhat = [Float](repeating: 0, count: c)
        for r in 0..<rows {
            for k in 0..<c {
                let dy = outputGradient.scalars[r * c + k]
                sumDy[k] += dy
                sumDyXhat[k] += dy * cache.normalized.scalars[r * c + k]
            }
        }
        if let gamma { gradients.accumulate(gamma) { g in for k in 0..<c { g[k] += sumDyXhat[k] } } }
        if let beta { gradients.accumulate(beta) { g in for k in 0..<c { g[k] += sumDy[k] } } }
        let count = Float(rows)
        for r in 0..<rows {
            for k in 0..<c {
                let i = r * c + k
                let factor = (gamma?.value.scalars[k] ?? 1) * cache.inverseStd[k] / count
                dx.scalars[i] = factor * (count * outputGradient.scalars[i] - sumDy[k] - cache.normalized.scalars[i] * sumDyXhat[k])
            }
        }
        return dx
    }
}

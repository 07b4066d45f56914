import Foundation

/// Layer normalization over the last axis of each sample (Keras's default
/// `axis=-1`): `y = (x - mean) / sqrt(variance + epsilon) * gamma + beta`.
/// Weights: gamma (if `scale`), beta (if `center`).
public final class LayerNormalization: Layer, @unchecked Sendable {
    public let name: String
    public var typeName: String { "LayerNormalization" }
    public let epsilon: Float
    public let gamma: Parameter?
    public let beta: Parameter?
    public let features: Int

    public init(name: String, features: Int, epsilon: Float = 1e-3, scale: Bool = true, center: Bool = true) {
        precondition(features > 0)
        self.name = name
        self.epsilon = epsilon
        self.features = features
        gamma = scale ? Parameter(name: "gamma", value: Tensor(shape: [features], scalars: .init(repeating: 1, count: features))) : nil
        beta = center ? Parameter(name: "beta", value: Tensor(zeros: [features])) : nil
    }

    public var parameters: [Parameter] { [gamma, beta].compactMap { $0 } }

    public func outputShape(for inputShape: [Int]) throws -> [Int] {
        guard inputShape.last == features else {
            throw RuntimeError("normalizes \(features) features on the last axis, got input \(inputShape)")
        }
        return inputShape
    }

    public func forward(_ input: Tensor) -> Tensor {
        var output = input
        let f = features
        output.scalars.withUnsafeMutableBufferPointer { y in
            var start = 0
            while start < y.count {
                // Mean and (biased) variance in double, then the affine map in float.
                var mean = 0.0
                for k in 0..<f { mean += Double(y[start + k]) }
                mean /= Double(f)
                var variance = 0.0
                for k in 0..<f { let d = Double(y[start + k]) - mean; variance += d * d }
                variance /= Double(f)
                let inv = Float(1 / (variance + Double(epsilon)).squareRoot())
                let m = Float(mean)
                for k in 0..<f {
                    var v = (y[start + k] - m) * inv
                    if let gamma { v *= gamma.value.scalars[k] }
                    if let beta { v += beta.value.scalars[k] }
                    y[start + k] = v
                }
                start += f
            }
        }
        return output
    }
}

// MARK: - Training

extension LayerNormalization: TrainableLayer {
    /// The normalised input `xhat = (x - mean) * invStd` and each row's
    /// `invStd = 1 / sqrt(variance + epsilon)`.
    public struct Cache: LayerCache {
        public let normalized: [Float]
        public let invStd: [Float]
    }

    public func forward(_ input: Tensor, context: TrainingContext) -> (output: Tensor, cache: any LayerCache) {
        let f = features
        let rows = input.count / f
        var normalized = input.scalars
        var invStd = [Float](repeating: 0, count: rows)
        for r in 0..<rows {
            let start = r * f
            var mean = 0.0
            for k in 0..<f { mean += Double(normalized[start + k]) }
            mean /= Double(f)
            var variance = 0.0
            for k in 0..<f { let d = Double(normalized[start + k]) - mean; variance += d * d }
            variance /= Double(f)
            let inv = Float(1 / (variance + Double(epsilon)).squareRoot())
            invStd[r] = inv
            for k in 0..<f { normalized[start + k] = (normalized[start + k] - Float(mean)) * inv }
        }
        // The output from the statistics just computed: xhat * gamma + beta,
        // the same float operations as the inference forward.
        var output = Tensor(shape: input.shape, scalars: normalized)
        if gamma != nil || beta != nil {
            let scale = gamma?.value.scalars, shift = beta?.value.scalars
            output.scalars.withUnsafeMutableBufferPointer { y in
                var start = 0
                while start < y.count {
                    for k in 0..<f {
                        var v = y[start + k]
                        if let scale { v *= scale[k] }
                        if let shift { v += shift[k] }
                        y[start + k] = v
                    }
                    start += f
                }
            }
        }
        return (output, Cache(normalized: normalized, invStd: invStd))
    }

    /// dgamma += Σ dy·xhat, dbeta += Σ dy over rows; with g = dy·gamma,
    /// dx = invStd · (g - mean(g) - xhat · mean(g·xhat)) per row.
    public func backward(_ outputGradient: Tensor, cache: any LayerCache, gradients: Gradients) -> Tensor {
        let cache = cache as! Cache
        let f = features
        precondition(outputGradient.count == cache.normalized.count, "\(name): gradient shape \(outputGradient.shape)")
        let rows = cache.invStd.count
        let dy = outputGradient.scalars, xhat = cache.normalized
        if let gamma {
            gradients.accumulate(gamma) { dg in
                for r in 0..<rows { for k in 0..<f { dg[k] += dy[r * f + k] * xhat[r * f + k] } }
            }
        }
        if let beta {
            gradients.accumulate(beta) { db in
                for r in 0..<rows { for k in 0..<f { db[k] += dy[r * f + k] } }
            }
        }
        var dx = outputGradient
        let scale = gamma?.value.scalars
        var g = [Float](repeating: 0, count: f)
        for r in 0..<rows {
            let start = r * f
            var meanG: Float = 0, meanGX: Float = 0
            for k in 0..<f {
                g[k] = dy[start + k] * (scale?[k] ?? 1)
                meanG += g[k]
                meanGX += g[k] * xhat[start + k]
            }
            meanG /= Float(f)
            meanGX /= Float(f)
            for k in 0..<f { dx.scalars[start + k] = cache.invStd[r] * (g[k] - meanG - xhat[start + k] * meanGX) }
        }
        return dx
    }
}

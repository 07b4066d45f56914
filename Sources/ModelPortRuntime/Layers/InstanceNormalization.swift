import Foundation

/// Instance normalization (ONNX `InstanceNormalization`): each channel of
/// each sample is normalized over that sample's positions,
/// `y = (x - mean) / sqrt(variance + epsilon) * gamma + beta`, mean and
/// (biased) variance over every axis but the channels (the last, NHWC) and
/// the batch. Core Keras has no such layer (it was in tensorflow-addons), so
/// it is read from ONNX only. Weights: gamma, beta (per channel).
public final class InstanceNormalization: Layer, @unchecked Sendable {
    public let name: String
    public var typeName: String { "InstanceNormalization" }
    public let epsilon: Float
    public let gamma: Parameter
    public let beta: Parameter

    public init(name: String, channels: Int, epsilon: Float = 1e-5) {
        precondition(channels > 0)
        self.name = name
        self.epsilon = epsilon
        gamma = Parameter(name: "gamma", value: Tensor(shape: [channels], scalars: .init(repeating: 1, count: channels)))
        beta = Parameter(name: "beta", value: Tensor(zeros: [channels]))
    }

    public var channels: Int { gamma.shape[0] }
    public var parameters: [Parameter] { [gamma, beta] }

    public func outputShape(for inputShape: [Int]) throws -> [Int] {
        guard inputShape.count >= 2, inputShape.last == channels else {
            throw RuntimeError("normalizes \(channels) channels (last axis) over at least one other axis, got input \(inputShape)")
        }
        return inputShape
    }

    /// The normalized input `xhat` and each (sample, channel)'s `1 / sqrt(variance + epsilon)`.
    func normalize(_ x: Tensor) -> (xhat: [Float], invStd: [Float]) {
        let c = channels, n = x.batchCount
        let positions = x.count / max(n * c, 1)
        var xhat = x.scalars
        var invStd = [Float](repeating: 0, count: n * c)
        for b in 0..<n {
            let base = b * positions * c
            for ch in 0..<c {
                // Mean and (biased) variance in double.
                var mean = 0.0
                for p in 0..<positions { mean += Double(xhat[base + p * c + ch]) }
                mean /= Double(positions)
                var variance = 0.0
                for p in 0..<positions { let d = Double(xhat[base + p * c + ch]) - mean; variance += d * d }
                variance /= Double(positions)
                let inv = Float(1 / (variance + Double(epsilon)).squareRoot())
                invStd[b * c + ch] = inv
                let m = Float(mean)
                for p in 0..<positions { xhat[base + p * c + ch] = (xhat[base + p * c + ch] - m) * inv }
            }
        }
        return (xhat, invStd)
    }

    /// `xhat * gamma + beta`, per channel.
    func affine(_ xhat: [Float], shape: [Int]) -> Tensor {
        let c = channels, g = gamma.value.scalars, b = beta.value.scalars
        var out = xhat
        for i in 0..<out.count { out[i] = out[i] * g[i % c] + b[i % c] }
        return Tensor(shape: shape, scalars: out)
    }

    public func forward(_ input: Tensor) -> Tensor { affine(normalize(input).xhat, shape: input.shape) }
}

// MARK: - Training

extension InstanceNormalization: TrainableLayer {
    public struct Cache: LayerCache {
        public let normalized: [Float]
        public let invStd: [Float]
        public let shape: [Int]
    }

    public func forward(_ input: Tensor, context: TrainingContext) -> (output: Tensor, cache: any LayerCache) {
        let (xhat, invStd) = normalize(input)
        return (affine(xhat, shape: input.shape), Cache(normalized: xhat, invStd: invStd, shape: input.shape))
    }

    /// dgamma += Σ dy·xhat, dbeta += Σ dy; per (sample, channel) group with
    /// g = dy·gamma: dx = invStd · (g - mean(g) - xhat · mean(g·xhat)).
    public func backward(_ outputGradient: Tensor, cache: any LayerCache, gradients: Gradients) -> Tensor {
        let cache = cache as! Cache
        let xhat = cache.normalized, dy = outputGradient.scalars
        precondition(dy.count == xhat.count, "\(name): gradient shape \(outputGradient.shape)")
        let c = channels, n = cache.shape[0]
        let positions = xhat.count / max(n * c, 1)
        gradients.accumulate(gamma) { dg in for i in 0..<xhat.count { dg[i % c] += dy[i] * xhat[i] } }
        gradients.accumulate(beta) { db in for i in 0..<xhat.count { db[i % c] += dy[i] } }
        let scale = gamma.value.scalars
        var dx = outputGradient
        for b in 0..<n {
            let base = b * positions * c
            for ch in 0..<c {
                var meanG: Float = 0, meanGX: Float = 0
                for p in 0..<positions {
                    let i = base + p * c + ch
                    meanG += dy[i] * scale[ch]
                    meanGX += dy[i] * scale[ch] * xhat[i]
                }
                meanG /= Float(positions)
                meanGX /= Float(positions)
                let inv = cache.invStd[b * c + ch]
                for p in 0..<positions {
                    let i = base + p * c + ch
                    dx.scalars[i] = inv * (dy[i] * scale[ch] - meanG - xhat[i] * meanGX)
                }
            }
        }
        return dx
    }
}

import Foundation

/// Local response normalization across channels (AlexNet's, ONNX `LRN`):
/// each element is divided by a power of the sum of squares of its `size`
/// neighbouring channels at the same position,
/// `y[c] = x[c] / (bias + alpha / size * sum(x[i]², i in window(c))) ^ beta`,
/// the window running from `c - floor((size - 1) / 2)` to
/// `c + ceil((size - 1) / 2)`, clipped to the channels. Channels are the last
/// axis (NHWC). Keras has no such layer (TensorFlow's
/// `tf.nn.local_response_normalization` is an op, with `alpha` not divided
/// by the size), so it is read from ONNX only. No weights.
public final class LocalResponseNormalization: Layer, @unchecked Sendable {
    public let name: String
    public var typeName: String { "LocalResponseNormalization" }
    public let size: Int
    public let alpha: Float
    public let beta: Float
    public let bias: Float

    public init(name: String, size: Int, alpha: Float = 1e-4, beta: Float = 0.75, bias: Float = 1) {
        precondition(size >= 1)
        self.name = name
        self.size = size
        self.alpha = alpha
        self.beta = beta
        self.bias = bias
    }

    /// Channels before and after a channel in its window.
    var reach: (before: Int, after: Int) { ((size - 1) / 2, size / 2) }

    public func outputShape(for inputShape: [Int]) throws -> [Int] {
        guard inputShape.count >= 1, let c = inputShape.last, c >= 1 else {
            throw RuntimeError("expects an input with a channel (last) axis, got \(inputShape)")
        }
        return inputShape
    }

    /// Each element's `bias + alpha / size * sum of squares over its window`.
    func denominators(_ x: Tensor) -> [Float] {
        let c = x.shape.last ?? 1
        let (before, after) = reach
        let k = alpha / Float(size)
        var d = [Float](repeating: 0, count: x.count)
        x.scalars.withUnsafeBufferPointer { xs in
            var start = 0
            while start < xs.count {
                for ch in 0..<c {
                    var sum: Float = 0
                    for i in max(0, ch - before)...min(c - 1, ch + after) { sum += xs[start + i] * xs[start + i] }
                    d[start + ch] = bias + k * sum
                }
                start += c
            }
        }
        return d
    }

    public func forward(_ input: Tensor) -> Tensor {
        var output = input
        let d = denominators(input)
        for i in 0..<output.count { output.scalars[i] *= Foundation.pow(d[i], -beta) }
        return output
    }
}

// MARK: - Training

extension LocalResponseNormalization: TrainableLayer {
    public struct Cache: LayerCache {
        public let input: Tensor
        public let denominators: [Float]
    }

    public func forward(_ input: Tensor, context: TrainingContext) -> (output: Tensor, cache: any LayerCache) {
        let d = denominators(input)
        var output = input
        for i in 0..<output.count { output.scalars[i] *= Foundation.pow(d[i], -beta) }
        return (output, Cache(input: input, denominators: d))
    }

    /// With `d[c]` the denominator base of channel c:
    /// `dx[j] = dy[j] d[j]^-beta - 2 beta alpha / size x[j] sum(dy[c] x[c] d[c]^(-beta-1))`
    /// over the channels c whose window holds j (c from j - after to j + before).
    public func backward(_ outputGradient: Tensor, cache: any LayerCache, gradients: Gradients) -> Tensor {
        let cache = cache as! Cache
        let x = cache.input.scalars, d = cache.denominators, dy = outputGradient.scalars
        precondition(dy.count == x.count, "\(name): gradient shape \(outputGradient.shape)")
        let c = cache.input.shape.last ?? 1
        let (before, after) = reach
        let k = 2 * beta * alpha / Float(size)
        // t[c] = dy[c] x[c] d[c]^(-beta-1)
        var t = [Float](repeating: 0, count: x.count)
        for i in 0..<x.count { t[i] = dy[i] * x[i] * Foundation.pow(d[i], -beta - 1) }
        var dx = outputGradient
        var start = 0
        while start < x.count {
            for j in 0..<c {
                var sum: Float = 0
                for ch in max(0, j - after)...min(c - 1, j + before) { sum += t[start + ch] }
                dx.scalars[start + j] = dy[start + j] * Foundation.pow(d[start + j], -beta) - k * x[start + j] * sum
            }
            start += c
        }
        return dx
    }
}

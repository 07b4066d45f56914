import Foundation

/// Divides each vector along one sample axis by its L1 or L2 norm (ONNX
/// `LpNormalization`): `y = x / ||x||_p`, p 1 or 2, with no floor on the norm
/// (a zero vector gives NaN, as in ONNX's definition). Keras's
/// `UnitNormalization` is the L2 case on the last axis with the inverse norm
/// capped; this layer is read from ONNX only. No weights.
public final class LpNormalization: Layer, @unchecked Sendable {
    public let name: String
    public var typeName: String { "LpNormalization" }
    /// The sample axis normalized (0-based, batch excluded).
    public let axis: Int
    /// 1 or 2.
    public let p: Int

    public init(name: String, axis: Int, p: Int) {
        precondition(axis >= 0 && (p == 1 || p == 2))
        self.name = name
        self.axis = axis
        self.p = p
    }

    public func outputShape(for inputShape: [Int]) throws -> [Int] {
        guard axis < inputShape.count else { throw RuntimeError("normalizes sample axis \(axis), got input \(inputShape)") }
        return inputShape
    }

    /// (outer, length, inner) of the batched tensor around the normalized axis.
    func extents(_ shape: [Int]) -> (outer: Int, length: Int, inner: Int) {
        let k = axis + 1
        return (shape[..<k].reduce(1, *), shape[k], shape[(k + 1)...].reduce(1, *))
    }

    /// Each vector's norm, indexed `o * inner + i`.
    func norms(_ x: Tensor) -> [Float] {
        let (outer, length, inner) = extents(x.shape)
        var norms = [Float](repeating: 0, count: outer * inner)
        for o in 0..<outer {
            for i in 0..<inner {
                var sum: Float = 0
                for k in 0..<length {
                    let v = x.scalars[(o * length + k) * inner + i]
                    sum += p == 1 ? abs(v) : v * v
                }
                norms[o * inner + i] = p == 1 ? sum : sum.squareRoot()
            }
        }
        return norms
    }

    public func forward(_ input: Tensor) -> Tensor {
        let (outer, length, inner) = extents(input.shape)
        let n = norms(input)
        var output = input
        for o in 0..<outer { for k in 0..<length { for i in 0..<inner { output.scalars[(o * length + k) * inner + i] /= n[o * inner + i] } } }
        return output
    }
}

// MARK: - Training

extension LpNormalization: TrainableLayer {
    public struct Cache: LayerCache { public let input: Tensor }

    public func forward(_ input: Tensor, context: TrainingContext) -> (output: Tensor, cache: any LayerCache) {
        (forward(input), Cache(input: input))
    }

    /// With n the norm and s = Σ dy·x over the vector: L2, dx = dy / n - x s / n³;
    /// L1, dx = dy / n - sign(x) s / n².
    public func backward(_ outputGradient: Tensor, cache: any LayerCache, gradients: Gradients) -> Tensor {
        let x = (cache as! Cache).input
        precondition(outputGradient.count == x.count, "\(name): gradient shape \(outputGradient.shape)")
        let (outer, length, inner) = extents(x.shape)
        let norms = norms(x)
        let dy = outputGradient.scalars
        var dx = outputGradient
        for o in 0..<outer {
            for i in 0..<inner {
                let n = norms[o * inner + i]
                var s: Float = 0
                for k in 0..<length { let j = (o * length + k) * inner + i; s += dy[j] * x.scalars[j] }
                for k in 0..<length {
                    let j = (o * length + k) * inner + i, v = x.scalars[j]
                    let direction = p == 1 ? (v > 0 ? 1 : v < 0 ? -1 : 0) * s / (n * n) : v * s / (n * n * n)
                    dx.scalars[j] = dy[j] / n - direction
                }
            }
        }
        return dx
    }
}

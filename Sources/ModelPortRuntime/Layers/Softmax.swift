import Foundation

/// Keras's `Softmax` layer over one sample axis (default the last).
public final class Softmax: Layer, @unchecked Sendable {
    public let name: String
    public var typeName: String { "Softmax" }
    /// Sample axis, 0-based within the sample (the batch axis excluded).
    public let axis: Int

    public init(name: String, axis: Int) {
        self.name = name
        self.axis = axis
    }

    public func outputShape(for inputShape: [Int]) throws -> [Int] {
        guard axis >= 0, axis < inputShape.count else {
            throw RuntimeError("softmax axis \(axis + 1) is outside input \(inputShape)")
        }
        return inputShape
    }

    public func forward(_ input: Tensor) -> Tensor {
        let shape = input.sampleShape
        let length = shape[axis]
        let inner = shape[(axis + 1)...].reduce(1, *)
        let outer = input.count / (length * inner)
        var output = input
        for o in 0..<outer {
            for i in 0..<inner {
                let base = o * length * inner + i
                var m = -Float.infinity
                for k in 0..<length { m = max(m, output.scalars[base + k * inner]) }
                var sum: Float = 0
                for k in 0..<length {
                    let e = Foundation.exp(output.scalars[base + k * inner] - m)
                    output.scalars[base + k * inner] = e
                    sum += e
                }
                for k in 0..<length { output.scalars[base + k * inner] /= sum }
            }
        }
        return output
    }
}

// MARK: - Training

extension Softmax: TrainableLayer {
    /// The output: along the axis, dx = y · (dy - Σ dy·y).
    public struct Cache: LayerCache { public let output: Tensor }

    public func forward(_ input: Tensor, context: TrainingContext) -> (output: Tensor, cache: any LayerCache) {
        let output = forward(input)
        return (output, Cache(output: output))
    }

    public func backward(_ outputGradient: Tensor, cache: any LayerCache, gradients: Gradients) -> Tensor {
        let y = (cache as! Cache).output
        precondition(outputGradient.shape == y.shape, "\(name): gradient shape \(outputGradient.shape)")
        let shape = y.sampleShape
        let length = shape[axis]
        let inner = shape[(axis + 1)...].reduce(1, *)
        let outer = y.count / (length * inner)
        var dx = outputGradient
        for o in 0..<outer {
            for i in 0..<inner {
                let base = o * length * inner + i
                var dot: Float = 0
                for k in 0..<length { dot += outputGradient.scalars[base + k * inner] * y.scalars[base + k * inner] }
                for k in 0..<length {
                    let j = base + k * inner
                    dx.scalars[j] = y.scalars[j] * (outputGradient.scalars[j] - dot)
                }
            }
        }
        return dx
    }
}

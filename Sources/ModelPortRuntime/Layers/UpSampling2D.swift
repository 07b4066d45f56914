/// Nearest-neighbour upsampling of NHWC input by integer factors.
public final class UpSampling2D: Layer, @unchecked Sendable {
    public let name: String
    public var typeName: String { "UpSampling2D" }
    public let size: (y: Int, x: Int)

    public init(name: String, size: (Int, Int)) {
        precondition(size.0 > 0 && size.1 > 0)
        self.name = name
        self.size = size
    }

    public func outputShape(for s: [Int]) throws -> [Int] {
        guard s.count == 3 else { throw RuntimeError("expects (height, width, channels) input, got \(s)") }
        return [s[0] * size.y, s[1] * size.x, s[2]]
    }

    public func forward(_ input: Tensor) -> Tensor {
        let (n, h, w, c) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
        let (oh, ow) = (h * size.y, w * size.x)
        var output = Tensor(zeros: [n, oh, ow, c])
        for b in 0..<n {
            for oy in 0..<oh {
                for ox in 0..<ow {
                    let src = ((b * h + oy / size.y) * w + ox / size.x) * c, dst = ((b * oh + oy) * ow + ox) * c
                    for ch in 0..<c { output.scalars[dst + ch] = input.scalars[src + ch] }
                }
            }
        }
        return output
    }
}

// MARK: - Training

extension UpSampling2D: TrainableLayer {
    /// Only the input shape: each input pixel receives the sum of the
    /// gradients of the `size.y * size.x` output pixels copied from it.
    public struct Cache: LayerCache { public let inputShape: [Int] }

    public func forward(_ input: Tensor, context: TrainingContext) -> (output: Tensor, cache: any LayerCache) {
        (forward(input), Cache(inputShape: input.shape))
    }

    public func backward(_ outputGradient: Tensor, cache: any LayerCache, gradients: Gradients) -> Tensor {
        let shape = (cache as! Cache).inputShape
        let (n, h, w, c) = (shape[0], shape[1], shape[2], shape[3])
        let (oh, ow) = (h * size.y, w * size.x)
        precondition(outputGradient.shape == [n, oh, ow, c], "\(name): gradient shape \(outputGradient.shape)")
        var dx = Tensor(zeros: shape)
        for b in 0..<n {
            for oy in 0..<oh {
                for ox in 0..<ow {
                    let dst = ((b * h + oy / size.y) * w + ox / size.x) * c, src = ((b * oh + oy) * ow + ox) * c
                    for ch in 0..<c { dx.scalars[dst + ch] += outputGradient.scalars[src + ch] }
                }
            }
        }
        return dx
    }
}

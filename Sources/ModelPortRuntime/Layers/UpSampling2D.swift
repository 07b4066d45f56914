/// Upsampling of NHWC input by integer factors: nearest neighbour, or
/// bilinear with TensorFlow's half-pixel centres (what Keras's
/// `UpSampling2D(interpolation="bilinear")` runs: `tf.image.resize`).
public final class UpSampling2D: Layer, @unchecked Sendable {
    public enum Interpolation: String, Sendable, CaseIterable {
        case nearest, bilinear
    }

    public let name: String
    public var typeName: String { "UpSampling2D" }
    public let size: (y: Int, x: Int)
    public let interpolation: Interpolation

    public init(name: String, size: (Int, Int), interpolation: Interpolation = .nearest) {
        precondition(size.0 > 0 && size.1 > 0)
        self.name = name
        self.size = size
        self.interpolation = interpolation
    }

    public func outputShape(for s: [Int]) throws -> [Int] {
        guard s.count == 3 else { throw RuntimeError("expects (height, width, channels) input, got \(s)") }
        return [s[0] * size.y, s[1] * size.x, s[2]]
    }

    /// One output coordinate's two source rows (or columns) and the weight of
    /// the second: nearest takes `out / factor` whole; bilinear samples at
    /// `(out + 0.5) * (in / out) - 0.5` (TensorFlow's float arithmetic),
    /// clamped to the input as TensorFlow does.
    struct Tap { let lower: Int; let upper: Int; let weight: Float }

    func taps(output: Int, factor: Int, input: Int) -> [Tap] {
        (0..<output).map { o in
            switch interpolation {
            case .nearest:
                return Tap(lower: o / factor, upper: o / factor, weight: 0)
            case .bilinear:
                let position = (Float(o) + 0.5) * (Float(input) / Float(output)) - 0.5
                let floor = position.rounded(.down)
                let lower = max(Int(floor), 0), upper = min(Int(position.rounded(.up)), input - 1)
                return Tap(lower: min(lower, input - 1), upper: max(upper, 0), weight: position - floor)
            }
        }
    }

    public func forward(_ input: Tensor) -> Tensor {
        let (n, h, w, c) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
        let (oh, ow) = (h * size.y, w * size.x)
        let rows = taps(output: oh, factor: size.y, input: h), columns = taps(output: ow, factor: size.x, input: w)
        var output = Tensor(zeros: [n, oh, ow, c])
        for b in 0..<n {
            for oy in 0..<oh {
                let r = rows[oy]
                for ox in 0..<ow {
                    let k = columns[ox], dst = ((b * oh + oy) * ow + ox) * c
                    let p00 = ((b * h + r.lower) * w + k.lower) * c, p01 = ((b * h + r.lower) * w + k.upper) * c
                    let p10 = ((b * h + r.upper) * w + k.lower) * c, p11 = ((b * h + r.upper) * w + k.upper) * c
                    if interpolation == .nearest {
                        for ch in 0..<c { output.scalars[dst + ch] = input.scalars[p00 + ch] }
                        continue
                    }
                    for ch in 0..<c {
                        // TensorFlow's order: lerp along x on both rows, then along y.
                        let top = input.scalars[p00 + ch] + (input.scalars[p01 + ch] - input.scalars[p00 + ch]) * k.weight
                        let bottom = input.scalars[p10 + ch] + (input.scalars[p11 + ch] - input.scalars[p10 + ch]) * k.weight
                        output.scalars[dst + ch] = top + (bottom - top) * r.weight
                    }
                }
            }
        }
        return output
    }
}

// MARK: - Training

extension UpSampling2D: TrainableLayer {
    /// Only the input shape: each input pixel receives the output pixels'
    /// gradients times the weight it contributed to them.
    public struct Cache: LayerCache { public let inputShape: [Int] }

    public func forward(_ input: Tensor, context: TrainingContext) -> (output: Tensor, cache: any LayerCache) {
        (forward(input), Cache(inputShape: input.shape))
    }

    public func backward(_ outputGradient: Tensor, cache: any LayerCache, gradients: Gradients) -> Tensor {
        let shape = (cache as! Cache).inputShape
        let (n, h, w, c) = (shape[0], shape[1], shape[2], shape[3])
        let (oh, ow) = (h * size.y, w * size.x)
        precondition(outputGradient.shape == [n, oh, ow, c], "\(name): gradient shape \(outputGradient.shape)")
        let rows = taps(output: oh, factor: size.y, input: h), columns = taps(output: ow, factor: size.x, input: w)
        var dx = Tensor(zeros: shape)
        for b in 0..<n {
            for oy in 0..<oh {
                let r = rows[oy]
                for ox in 0..<ow {
                    let k = columns[ox], src = ((b * oh + oy) * ow + ox) * c
                    let corners = [(r.lower, k.lower, (1 - r.weight) * (1 - k.weight)), (r.lower, k.upper, (1 - r.weight) * k.weight),
                                   (r.upper, k.lower, r.weight * (1 - k.weight)), (r.upper, k.upper, r.weight * k.weight)]
                    for (y, x, weight) in corners where weight != 0 {
                        let dst = ((b * h + y) * w + x) * c
                        for ch in 0..<c { dx.scalars[dst + ch] += weight * outputGradient.scalars[src + ch] }
                    }
                }
            }
        }
        return dx
    }
}

/// Global average or max pooling over the spatial axes of NHWC input:
/// `(h, w, c) -> (c)`, or `(1, 1, c)` with `keepDims`.
public final class GlobalPooling2D: Layer, @unchecked Sendable {
    public enum Kind: Sendable { case average, max }
    public let name: String
    public let kind: Kind
    public let keepDims: Bool
    public var typeName: String { kind == .average ? "GlobalAveragePooling2D" : "GlobalMaxPooling2D" }

    public init(name: String, kind: Kind, keepDims: Bool = false) {
        self.name = name
        self.kind = kind
        self.keepDims = keepDims
    }

    public func outputShape(for inputShape: [Int]) throws -> [Int] {
        guard inputShape.count == 3 else { throw RuntimeError("expects (height, width, channels) input, got \(inputShape)") }
        return keepDims ? [1, 1, inputShape[2]] : [inputShape[2]]
    }

    public func forward(_ input: Tensor) -> Tensor {
        let (n, h, w, c) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
        var output = Tensor(zeros: keepDims ? [n, 1, 1, c] : [n, c])
        let pixels = h * w
        // Pixel by pixel, a whole row of channels at a time (contiguous, vectorises);
        // each channel still sums its pixels in order.
        output.scalars.withUnsafeMutableBufferPointer { out in
            input.scalars.withUnsafeBufferPointer { x in
                for b in 0..<n {
                    let y = out.baseAddress! + b * c
                    var row = x.baseAddress! + b * pixels * c
                    if kind == .average {
                        for _ in 0..<pixels {
                            for ch in 0..<c { y[ch] += row[ch] }
                            row += c
                        }
                        let count = Float(pixels)
                        for ch in 0..<c { y[ch] /= count }
                    } else {
                        for ch in 0..<c { y[ch] = -Float.infinity }
                        for _ in 0..<pixels {
                            for ch in 0..<c { y[ch] = max(y[ch], row[ch]) }
                            row += c
                        }
                    }
                }
            }
        }
        return output
    }
}

// MARK: - Training

extension GlobalPooling2D: TrainableLayer {
    /// The input (max: to find every position equal to the maximum) and the
    /// output (the maxima); average pooling needs only the input shape.
    public struct Cache: LayerCache {
        public let inputShape: [Int]
        public let input: Tensor?
        public let output: Tensor?
    }

    public func forward(_ input: Tensor, context: TrainingContext) -> (output: Tensor, cache: any LayerCache) {
        let output = forward(input)
        return (output, Cache(inputShape: input.shape, input: kind == .max ? input : nil, output: kind == .max ? output : nil))
    }

    /// Average: dy / (h * w) to every pixel. Max: as TensorFlow's
    /// `reduce_max` gradient, dy split evenly over every position that
    /// equals the maximum (ties share it).
    public func backward(_ outputGradient: Tensor, cache: any LayerCache, gradients: Gradients) -> Tensor {
        let cache = cache as! Cache
        let (n, h, w, c) = (cache.inputShape[0], cache.inputShape[1], cache.inputShape[2], cache.inputShape[3])
        precondition(outputGradient.count == n * c, "\(name): gradient shape \(outputGradient.shape)")
        let pixels = h * w
        var dx = Tensor(zeros: cache.inputShape)
        for b in 0..<n {
            let base = b * pixels * c
            for ch in 0..<c {
                let dy = outputGradient.scalars[b * c + ch]
                if kind == .average {
                    let share = dy / Float(pixels)
                    for p in 0..<pixels { dx.scalars[base + p * c + ch] = share }
                } else {
                    let x = cache.input!.scalars, m = cache.output!.scalars[b * c + ch]
                    var ties = 0
                    for p in 0..<pixels where x[base + p * c + ch] == m { ties += 1 }
                    let share = dy / Float(max(ties, 1))
                    for p in 0..<pixels where x[base + p * c + ch] == m { dx.scalars[base + p * c + ch] = share }
                }
            }
        }
        return dx
    }
}

/// Average pooling over NHWC windows. With "same" padding the average is over
/// the window positions inside the image only, as in TensorFlow.
public final class AveragePooling2D: Layer, @unchecked Sendable {
    public let name: String
    public var typeName: String { "AveragePooling2D" }
    public let poolSize: (height: Int, width: Int)
    public let strides: (y: Int, x: Int)
    public let padding: WindowGeometry.Padding

    /// - Parameter strides: defaults to the pool size, as in Keras.
    public init(name: String, poolSize: (Int, Int) = (2, 2), strides: (Int, Int)? = nil,
                padding: WindowGeometry.Padding = .valid) {
        self.name = name
        self.poolSize = poolSize
        self.strides = strides ?? poolSize
        self.padding = padding
    }

    func geometry(for inputShape: [Int]) throws -> WindowGeometry {
        try .pooling(inputShape, poolSize: poolSize, strides: strides, padding: padding)
    }

    /// The geometry of a sample shape `geometry(for:)` accepted (forward
    /// and backward passes: `outputShape(for:)` validated it). No checks.
    func geometry(validated inputShape: [Int]) -> WindowGeometry {
        .validated(inputShape, kernel: poolSize, strides: strides, padding: padding)
    }

    public func outputShape(for inputShape: [Int]) throws -> [Int] {
        let g = try geometry(for: inputShape)
        return [g.outHeight, g.outWidth, inputShape[2]]
    }

    public func forward(_ input: Tensor) -> Tensor {
        let g = geometry(validated: input.sampleShape)
        let n = input.batchCount, c = input.shape[3]
        var output = Tensor(zeros: [n, g.outHeight, g.outWidth, c])
        input.scalars.withUnsafeBufferPointer { x in
            output.scalars.withUnsafeMutableBufferPointer { y in
                var dst = y.baseAddress!
                for b in 0..<n {
                    let image = x.baseAddress! + b * g.inHeight * g.inWidth * c
                    for oy in 0..<g.outHeight {
                        let y0 = oy * g.strideY - g.padTop
                        let yRange = max(0, y0)..<min(g.inHeight, y0 + g.kernelHeight)
                        for ox in 0..<g.outWidth {
                            let x0 = ox * g.strideX - g.padLeft
                            let xRange = max(0, x0)..<min(g.inWidth, x0 + g.kernelWidth)
                            for iy in yRange {
                                for ix in xRange {
                                    let src = image + (iy * g.inWidth + ix) * c
                                    for ch in 0..<c { dst[ch] += src[ch] }
                                }
                            }
                            let inv = 1 / Float(yRange.count * xRange.count)
                            for ch in 0..<c { dst[ch] *= inv }
                            dst += c
                        }
                    }
                }
            }
        }
        return output
    }
}

// MARK: - Training

extension AveragePooling2D: TrainableLayer {
    /// Only the input shape: each output's gradient is spread evenly over
    /// the in-image positions of its window.
    public struct Cache: LayerCache { public let inputShape: [Int] }

    public func forward(_ input: Tensor, context: TrainingContext) -> (output: Tensor, cache: any LayerCache) {
        (forward(input), Cache(inputShape: input.shape))
    }

    public func backward(_ outputGradient: Tensor, cache: any LayerCache, gradients: Gradients) -> Tensor {
        let shape = (cache as! Cache).inputShape
        let g = geometry(validated: Array(shape.dropFirst()))
        let n = shape[0], c = shape[3]
        precondition(outputGradient.shape == [n, g.outHeight, g.outWidth, c], "\(name): gradient shape \(outputGradient.shape)")
        var dx = Tensor(zeros: shape)
        outputGradient.scalars.withUnsafeBufferPointer { dy in
            dx.scalars.withUnsafeMutableBufferPointer { d in
                var src = dy.baseAddress!
                for b in 0..<n {
                    let image = d.baseAddress! + b * g.inHeight * g.inWidth * c
                    for oy in 0..<g.outHeight {
                        let y0 = oy * g.strideY - g.padTop
                        let yRange = max(0, y0)..<min(g.inHeight, y0 + g.kernelHeight)
                        for ox in 0..<g.outWidth {
                            let x0 = ox * g.strideX - g.padLeft
                            let xRange = max(0, x0)..<min(g.inWidth, x0 + g.kernelWidth)
                            let inv = 1 / Float(yRange.count * xRange.count)
                            for iy in yRange {
                                for ix in xRange {
                                    let dst = image + (iy * g.inWidth + ix) * c
                                    for ch in 0..<c { dst[ch] += src[ch] * inv }
                                }
                            }
                            src += c
                        }
                    }
                }
            }
        }
        return dx
    }
}

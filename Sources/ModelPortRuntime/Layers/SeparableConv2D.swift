/// Depthwise-separable 2-D convolution: a depthwise convolution (no bias)
/// followed by a 1x1 pointwise convolution with bias and activation.
/// Keras weights, in order: depthwise_kernel `(kh, kw, in, depthMultiplier)`,
/// pointwise_kernel `(1, 1, in * depthMultiplier, filters)`, bias `(filters)`.
public final class SeparableConv2D: Layer, ConvolutionWindow, @unchecked Sendable {
    public let name: String
    public var typeName: String { "SeparableConv2D" }
    public let kernelSize: (height: Int, width: Int)
    public let strides: (y: Int, x: Int)
    public let dilation: (y: Int, x: Int)
    public let padding: WindowGeometry.Padding
    public let activation: Activation
    public let depthwiseKernel: Parameter
    public let pointwiseKernel: Parameter
    public let bias: Parameter?

    public init(name: String, inputChannels: Int, filters: Int, depthMultiplier: Int = 1, kernelSize: (Int, Int),
                strides: (Int, Int) = (1, 1), dilation: (Int, Int) = (1, 1),
                padding: WindowGeometry.Padding = .valid, activation: Activation = .linear, useBias: Bool = true) {
        precondition(inputChannels > 0 && filters > 0 && depthMultiplier > 0)
        self.name = name
        self.kernelSize = kernelSize
        self.strides = strides
        self.dilation = dilation
        self.padding = padding
        self.activation = activation
        depthwiseKernel = Parameter(name: "depthwise_kernel",
                                    value: Tensor(zeros: [kernelSize.0, kernelSize.1, inputChannels, depthMultiplier]))
        pointwiseKernel = Parameter(name: "pointwise_kernel", value: Tensor(zeros: [1, 1, inputChannels * depthMultiplier, filters]))
        bias = useBias ? Parameter(name: "bias", value: Tensor(zeros: [filters])) : nil
    }

    public var inputChannels: Int { depthwiseKernel.shape[2] }
    public var filters: Int { pointwiseKernel.shape[3] }
    public var parameters: [Parameter] { [depthwiseKernel, pointwiseKernel] + (bias.map { [$0] } ?? []) }

    public func outputShape(for inputShape: [Int]) throws -> [Int] {
        let g = try geometry(for: inputShape)
        return [g.outHeight, g.outWidth, filters]
    }

    public func forward(_ input: Tensor) -> Tensor {
        let depthwise = depthwiseConvolution(input, kernel: depthwiseKernel.value, bias: nil, activation: .linear,
                                             geometry: geometry(validated: input.sampleShape))
        let k = pointwiseKernel.shape[2], f = filters
        let rows = depthwise.count / k
        var output = Tensor(zeros: Array(depthwise.shape.dropLast()) + [f])
        depthwise.scalars.withUnsafeBufferPointer { x in
            pointwiseKernel.value.scalars.withUnsafeBufferPointer { w in
                output.scalars.withUnsafeMutableBufferPointer { y in
                    sgemm(m: rows, n: f, k: k, a: x.baseAddress!, lda: k, b: w.baseAddress!, ldb: f, c: y.baseAddress!, ldc: f)
                    addBiasAndActivate(y.baseAddress!, rows: rows, columns: f, bias: bias, activation: activation)
                }
            }
        }
        return output
    }
}

// MARK: - Training

extension SeparableConv2D: ActivatedLayer {
    /// The input, the depthwise result (the pointwise step's input), the
    /// output and, for a non-linear activation, the pre-activation.
    public struct Cache: ActivatedCache {
        public let input: Tensor
        public let depthwise: Tensor
        public let output: Tensor
        public let preActivation: Tensor?
    }

    public func forward(_ input: Tensor, context: TrainingContext) -> (output: Tensor, cache: any LayerCache) {
        let depthwise = depthwiseConvolution(input, kernel: depthwiseKernel.value, bias: nil, activation: .linear,
                                             geometry: geometry(validated: input.sampleShape))
        let k = pointwiseKernel.shape[2], f = filters
        let rows = depthwise.count / k
        var output = Tensor(zeros: Array(depthwise.shape.dropLast()) + [f])
        depthwise.scalars.withUnsafeBufferPointer { x in
            pointwiseKernel.value.scalars.withUnsafeBufferPointer { w in
                output.scalars.withUnsafeMutableBufferPointer { y in
                    sgemm(m: rows, n: f, k: k, a: x.baseAddress!, lda: k, b: w.baseAddress!, ldb: f, c: y.baseAddress!, ldc: f)
                    addBiasAndActivate(y.baseAddress!, rows: rows, columns: f, bias: bias, activation: .linear)
                }
            }
        }
        let pre = activation == .linear ? nil : output
        activation.apply(to: &output)
        return (output, Cache(input: input, depthwise: depthwise, output: output, preActivation: pre))
    }

    /// Pointwise: dPointwise += Dᵀ·dZ, dBias += column sums, dD = dZ·Pᵀ;
    /// then the depthwise backward of dD.
    public func backward(preActivationGradient dz: Tensor, cache: any LayerCache, gradients: Gradients) -> Tensor {
        let cache = cache as! Cache
        let k = pointwiseKernel.shape[2], f = filters
        let rows = cache.depthwise.count / k
        precondition(dz.count == rows * f, "\(name): gradient shape \(dz.shape)")
        var dd = Tensor(zeros: cache.depthwise.shape)
        dz.scalars.withUnsafeBufferPointer { dzp in
            cache.depthwise.scalars.withUnsafeBufferPointer { d in
                gradients.accumulate(pointwiseKernel) { dw in
                    sgemm(transA: true, transB: false, m: k, n: f, k: rows, a: d.baseAddress!, lda: k,
                          b: dzp.baseAddress!, ldb: f, c: dw.baseAddress!, ldc: f, beta: 1)
                }
            }
            if let bias {
                gradients.accumulate(bias) { db in addColumnSums(dzp.baseAddress!, rows: rows, columns: f, into: db.baseAddress!) }
            }
            pointwiseKernel.value.scalars.withUnsafeBufferPointer { w in
                dd.scalars.withUnsafeMutableBufferPointer { ddp in
                    sgemm(transA: false, transB: true, m: rows, n: k, k: f, a: dzp.baseAddress!, lda: f,
                          b: w.baseAddress!, ldb: f, c: ddp.baseAddress!, ldc: k)
                }
            }
        }
        return depthwiseBackward(dd, input: cache.input, kernel: depthwiseKernel, multiplier: depthwiseKernel.shape[3],
                                 geometry: geometry(validated: cache.input.sampleShape), gradients: gradients)
    }
}

/// 2-D convolution over NHWC input, with Keras's kernel layout
/// `(kernelHeight, kernelWidth, inChannels, filters)`, optional bias and a
/// fused activation.
///
/// Forward: im2col unfolds each output pixel's window into a row, and one
/// sgemm multiplies those rows by the kernel read as a
/// `[kh * kw * in, filters]` matrix; the result is already NHWC.
public final class Conv2D: Layer, @unchecked Sendable {
    public let name: String
    public var typeName: String { "Conv2D" }
    public let filters: Int
    public let kernelSize: (height: Int, width: Int)
    public let strides: (y: Int, x: Int)
    public let dilation: (y: Int, x: Int)
    public let padding: WindowGeometry.Padding
    public let activation: Activation
    public let kernel: Parameter
    public let bias: Parameter?

    /// - Parameters:
    ///   - inputChannels: channels of the NHWC input.
    ///   - useBias: whether the layer has a `bias` weight (Keras `use_bias`).
    public init(name: String, inputChannels: Int, filters: Int, kernelSize: (Int, Int),
                strides: (Int, Int) = (1, 1), dilation: (Int, Int) = (1, 1),
                padding: WindowGeometry.Padding = .valid, activation: Activation = .linear,
                useBias: Bool = true) {
        precondition(inputChannels > 0 && filters > 0)
        self.name = name
        self.filters = filters
        self.kernelSize = kernelSize
        self.strides = strides
        self.dilation = dilation
        self.padding = padding
        self.activation = activation
        kernel = Parameter(name: "kernel", value: Tensor(zeros: [kernelSize.0, kernelSize.1, inputChannels, filters]))
        bias = useBias ? Parameter(name: "bias", value: Tensor(zeros: [filters])) : nil
    }

    public var inputChannels: Int { kernel.shape[2] }
    public var parameters: [Parameter] { [kernel] + (bias.map { [$0] } ?? []) }

    func geometry(for inputShape: [Int]) throws -> WindowGeometry {
        guard inputShape.count == 3 else {
            throw RuntimeError("\(name) (Conv2D) expects (height, width, channels) input, got \(inputShape)")
        }
        guard inputShape[2] == inputChannels else {
            throw RuntimeError("\(name) (Conv2D) expects \(inputChannels) input channels, got \(inputShape[2])")
        }
        return try WindowGeometry(inHeight: inputShape[0], inWidth: inputShape[1], kernel: kernelSize,
                                  strides: strides, dilation: dilation, padding: padding)
    }

    public func outputShape(for inputShape: [Int]) throws -> [Int] {
        let g = try geometry(for: inputShape)
        return [g.outHeight, g.outWidth, filters]
    }

    public func forward(_ input: Tensor) -> Tensor {
        let g = try! geometry(for: input.sampleShape)
        let n = input.batchCount
        let rows = n * g.outHeight * g.outWidth
        let patch = g.patchLength(channels: inputChannels)
        var output = Tensor(zeros: [n, g.outHeight, g.outWidth, filters])
        // A 1x1, stride-1, unpadded convolution needs no unfolding.
        let direct = patch == inputChannels && g.strideY == 1 && g.strideX == 1 && g.padTop == 0 && g.padLeft == 0
        var columns = [Float](repeating: 0, count: direct ? 0 : rows * patch)
        input.scalars.withUnsafeBufferPointer { x in
            kernel.value.scalars.withUnsafeBufferPointer { w in
                output.scalars.withUnsafeMutableBufferPointer { y in
                    if direct {
                        sgemm(m: rows, n: filters, k: patch, a: x.baseAddress!, lda: patch,
                              b: w.baseAddress!, ldb: filters, c: y.baseAddress!, ldc: filters)
                    } else {
                        columns.withUnsafeMutableBufferPointer { cols in
                            im2col(x.baseAddress!, count: n, channels: inputChannels, geometry: g, into: cols.baseAddress!)
                            sgemm(m: rows, n: filters, k: patch, a: cols.baseAddress!, lda: patch,
                                  b: w.baseAddress!, ldb: filters, c: y.baseAddress!, ldc: filters)
                        }
                    }
                    addBiasAndActivate(y.baseAddress!, rows: rows, columns: filters, bias: bias, activation: activation)
                }
            }
        }
        return output
    }
}

/// Adds a per-column bias to a `[rows, columns]` matrix, then applies the
/// activation across each row. Shared by Conv2D and Dense.
func addBiasAndActivate(_ y: UnsafeMutablePointer<Float>, rows: Int, columns: Int,
                        bias: Parameter?, activation: Activation) {
    if let bias {
        bias.value.scalars.withUnsafeBufferPointer { b in
            var row = y
            for _ in 0..<rows {
                for j in 0..<columns { row[j] += b[j] }
                row += columns
            }
        }
    }
    activation.apply(y, count: rows * columns, rowLength: columns)
}

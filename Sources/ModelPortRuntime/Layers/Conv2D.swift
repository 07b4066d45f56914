/// 2-D convolution over NHWC input, with Keras's kernel layout
/// `(kernelHeight, kernelWidth, inChannels, filters)`, optional bias and a
/// fused activation.
///
/// Forward: im2col unfolds each output pixel's window into a row, and one
/// sgemm multiplies those rows by the kernel read as a
/// `[kh * kw * in, filters]` matrix; the result is already NHWC.
public final class Conv2D: Layer, ConvolutionWindow, @unchecked Sendable {
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
    /// The kernel packed for `CPUKernels.family`, plain and Winograd-transformed.
    let packedDirect = PackedWeightsCache()
    let packedWinograd = PackedWeightsCache()

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

    public func outputShape(for inputShape: [Int]) throws -> [Int] {
        let g = try geometry(for: inputShape)
        return [g.outHeight, g.outWidth, filters]
    }

    public func forward(_ input: Tensor) -> Tensor {
        inferenceForward(input, activation: activation)
    }

    /// Inference with `activation` (the layer's own, or `.linear` when a
    /// caller applies it later): on ModelPort's kernels when a family is
    /// selected (`CPUKernels`), else im2col + OpenBLAS with the activation
    /// fused into the bias pass.
    func inferenceForward(_ input: Tensor, activation: Activation) -> Tensor {
        if let family = CPUKernels.family {
            return kernelForward(input, family: family, activation: activation)
        }
        return linearForward(input, keepColumns: false, activation: activation).output
    }

    /// Whether the convolution is a plain matrix product of the input (1x1,
    /// stride 1, no padding), needing no unfolding.
    func isDirect(_ g: WindowGeometry) -> Bool {
        g.kernelHeight == 1 && g.kernelWidth == 1 && g.strideY == 1 && g.strideX == 1 && g.padTop == 0 && g.padLeft == 0
    }

    /// `im2col(x) · kernel + bias`, then the activation. With `keepColumns`
    /// the unfolded input is returned for the backward pass (for a direct
    /// convolution the input itself is the column matrix; for a
    /// single-channel input it is stored transposed, see `im2colTransposed`).
    /// - Parameter activation: applied in the same pass as the bias (inference);
    ///   training passes `.linear` and keeps the pre-activation.
    func linearForward(_ input: Tensor, keepColumns: Bool, activation: Activation = .linear) -> (output: Tensor, columns: [Float]) {
        let g = geometry(validated: input.sampleShape)
        let n = input.batchCount
        let rows = n * g.outHeight * g.outWidth
        let patch = g.patchLength(channels: inputChannels)
        // Both are overwritten in full (bias rows or sgemm with beta 0; im2col
        // writes every element, padding included): no zero-filling.
        var output = Tensor(uninitialized: [n, g.outHeight, g.outWidth, filters])
        let direct = isDirect(g)
        let columnCount = direct ? 0 : rows * patch
        var columns = [Float](unsafeUninitializedCapacity: columnCount) { _, count in count = columnCount }
        input.scalars.withUnsafeBufferPointer { x in
            kernel.value.scalars.withUnsafeBufferPointer { w in
                output.scalars.withUnsafeMutableBufferPointer { y in
                    if direct {
                        affine(rows: rows, columns: filters, k: patch, a: x.baseAddress!, lda: patch, weights: w.baseAddress!,
                               bias: bias, activation: activation, into: y.baseAddress!)
                    } else if n == 1 && IntraOp.threads > 1 && g.outHeight > 1 {
                        // One image: each thread unfolds and multiplies a band of output rows.
                        let transposed = g.suitsTransposedColumns(channels: inputChannels)
                        nonisolated(unsafe) let xp = x.baseAddress!, wp = w.baseAddress!, yp = y.baseAddress!
                        let parts = min(IntraOp.threads, IntraOpPool.shared.helpers + 1, g.outHeight)
                        let band = (g.outHeight + parts - 1) / parts
                        columns.withUnsafeMutableBufferPointer { cols in
                            nonisolated(unsafe) let colsp = cols.baseAddress!
                            IntraOpPool.shared.run(parts: parts) { part in
                                let outputRows = min(g.outHeight, part * band)..<min(g.outHeight, (part + 1) * band)
                                guard !outputRows.isEmpty else { return }
                                let first = outputRows.lowerBound * g.outWidth, count = outputRows.count * g.outWidth
                                if transposed {
                                    im2colTransposed(xp, count: 1, geometry: g, into: colsp, outputRows: outputRows)
                                    affine(rows: count, columns: filters, k: patch, a: colsp + first, lda: rows, transposedA: true,
                                           weights: wp, bias: bias, activation: activation, into: yp + first * filters,
                                           unpackedBlocks: true)
                                } else {
                                    im2col(xp, count: 1, channels: inputChannels, geometry: g, into: colsp, outputRows: outputRows)
                                    affine(rows: count, columns: filters, k: patch, a: colsp + first * patch, lda: patch,
                                           weights: wp, bias: bias, activation: activation, into: yp + first * filters,
                                           unpackedBlocks: true)
                                }
                            }
                        }
                    } else if g.suitsTransposedColumns(channels: inputChannels) {
                        columns.withUnsafeMutableBufferPointer { cols in
                            im2colTransposed(x.baseAddress!, count: n, geometry: g, into: cols.baseAddress!)
                            affine(rows: rows, columns: filters, k: patch, a: cols.baseAddress!, lda: rows, transposedA: true,
                                   weights: w.baseAddress!, bias: bias, activation: activation, into: y.baseAddress!,
                                   unpackedBlocks: true)
                        }
                    } else {
                        columns.withUnsafeMutableBufferPointer { cols in
                            im2col(x.baseAddress!, count: n, channels: inputChannels, geometry: g, into: cols.baseAddress!)
                            affine(rows: rows, columns: filters, k: patch, a: cols.baseAddress!, lda: patch, weights: w.baseAddress!,
                                   bias: bias, activation: activation, into: y.baseAddress!, unpackedBlocks: true)
                        }
                    }
                }
            }
        }
        if direct && keepColumns { columns = input.scalars }
        return (output, keepColumns ? columns : [])
    }
}

// MARK: - Training

extension Conv2D: ActivatedLayer {
    /// What backward needs: the unfolded input (to form dKernel = colsᵀ·dZ),
    /// the input shape (to fold dCols back), the output and, for a
    /// non-linear activation, the pre-activation.
    public struct Cache: ActivatedCache {
        public let columns: [Float]
        public let inputShape: [Int]
        public let output: Tensor
        public let preActivation: Tensor?
    }

    public func forward(_ input: Tensor, context: TrainingContext) -> (output: Tensor, cache: any LayerCache) {
        guard activation.keepsPreActivation else {
            // Linear or ReLU: the activation is fused as in inference; backward needs only the output.
            let (output, columns) = linearForward(input, keepColumns: true, activation: activation)
            return (output, Cache(columns: columns, inputShape: input.shape, output: output, preActivation: nil))
        }
        var (output, columns) = linearForward(input, keepColumns: true)
        let pre = output
        activation.apply(to: &output)
        return (output, Cache(columns: columns, inputShape: input.shape, output: output, preActivation: pre))
    }

    /// dKernel += colsᵀ·dZ, dBias += column sums of dZ, dX = col2im(dZ·kernelᵀ).
    /// - Parameter preActivationGradient: dZ, NHWC `[n, outH, outW, filters]`.
    public func backward(preActivationGradient dz: Tensor, cache: any LayerCache, gradients: Gradients) -> Tensor {
        accumulateParameterGradients(preActivationGradient: dz, cache: cache, gradients: gradients)
        let cache = cache as! Cache
        let g = geometry(validated: Array(cache.inputShape.dropFirst()))
        let rows = cache.inputShape[0] * g.outHeight * g.outWidth
        let patch = g.patchLength(channels: inputChannels)
        if isDirect(g) {
            // The input was the column matrix.
            return affineInputGradient(dz, weights: kernel, inputShape: cache.inputShape, rows: rows, k: patch, columns: filters)
        }
        // Overlapping windows add up in col2im, so dX starts at zero.
        var dx = Tensor(zeros: cache.inputShape)
        let dcols = UnsafeMutablePointer<Float>.allocate(capacity: rows * patch)
        defer { dcols.deallocate() }
        let transposed = g.suitsTransposedColumns(channels: inputChannels)
        dz.scalars.withUnsafeBufferPointer { dzp in
            kernel.value.scalars.withUnsafeBufferPointer { w in
                if transposed {
                    // dColsᵀ = kernel · dZᵀ, [patch, rows].
                    sgemm(transA: false, transB: true, m: patch, n: rows, k: filters,
                          a: w.baseAddress!, lda: filters, b: dzp.baseAddress!, ldb: filters, c: dcols, ldc: rows)
                } else {
                    sgemm(transA: false, transB: true, m: rows, n: patch, k: filters,
                          a: dzp.baseAddress!, lda: filters, b: w.baseAddress!, ldb: filters, c: dcols, ldc: patch)
                }
            }
        }
        dx.scalars.withUnsafeMutableBufferPointer { dxp in
            if transposed {
                col2imTransposed(dcols, count: cache.inputShape[0], geometry: g, addingInto: dxp.baseAddress!)
            } else {
                col2im(dcols, count: cache.inputShape[0], channels: inputChannels, geometry: g, addingInto: dxp.baseAddress!)
            }
        }
        return dx
    }

    /// dKernel += colsᵀ·dZ and dBias += column sums of dZ, without dX.
    public func accumulateParameterGradients(preActivationGradient dz: Tensor, cache: any LayerCache, gradients: Gradients) {
        let cache = cache as! Cache
        let g = geometry(validated: Array(cache.inputShape.dropFirst()))
        let n = cache.inputShape[0]
        let rows = n * g.outHeight * g.outWidth
        let patch = g.patchLength(channels: inputChannels)
        precondition(dz.shape == [n, g.outHeight, g.outWidth, filters], "\(name): gradient shape \(dz.shape)")
        let transposed = g.suitsTransposedColumns(channels: inputChannels) && !isDirect(g)
        cache.columns.withUnsafeBufferPointer { cols in
            // Transposed columns are stored [patch, rows].
            accumulateAffineGradients(dz, rows: rows, columns: filters, k: patch, a: cols.baseAddress!,
                                      lda: transposed ? rows : patch, transposedA: transposed,
                                      weights: kernel, bias: bias, into: gradients)
        }
    }
}

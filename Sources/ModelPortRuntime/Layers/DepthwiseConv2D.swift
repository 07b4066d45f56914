/// Depthwise 2-D convolution over NHWC input: each input channel is convolved
/// with its own `depthMultiplier` filters. Keras kernel layout
/// `(kh, kw, inChannels, depthMultiplier)`; output channel `c * depthMultiplier + m`.
///
/// A Keras `Conv2D` with `groups` equal to its input channels (ConvNeXt's
/// 7x7 convolutions) is the same computation with the same kernel in memory,
/// declared `(kh, kw, 1, inChannels * depthMultiplier)`: such a layer keeps
/// that declared shape (`groupedConvolutionLayout`) so its weights read and
/// write as Keras stores them.
public final class DepthwiseConv2D: Layer, ConvolutionWindow, @unchecked Sendable {
    public let name: String
    public var typeName: String { "DepthwiseConv2D" }
    public let kernelSize: (height: Int, width: Int)
    public let strides: (y: Int, x: Int)
    public let dilation: (y: Int, x: Int)
    public let padding: WindowGeometry.Padding
    public let activation: Activation
    public let kernel: Parameter
    public let bias: Parameter?
    public let inputChannels: Int
    public let depthMultiplier: Int
    /// The kernel is declared as a grouped `Conv2D`'s `(kh, kw, 1, in * multiplier)`.
    public let groupedConvolutionLayout: Bool

    public init(name: String, inputChannels: Int, depthMultiplier: Int = 1, kernelSize: (Int, Int),
                strides: (Int, Int) = (1, 1), dilation: (Int, Int) = (1, 1),
                padding: WindowGeometry.Padding = .valid, activation: Activation = .linear, useBias: Bool = true,
                groupedConvolutionLayout: Bool = false) {
        precondition(inputChannels > 0 && depthMultiplier > 0)
        self.name = name
        self.kernelSize = kernelSize
        self.strides = strides
        self.dilation = dilation
        self.padding = padding
        self.activation = activation
        self.inputChannels = inputChannels
        self.depthMultiplier = depthMultiplier
        self.groupedConvolutionLayout = groupedConvolutionLayout
        let shape = groupedConvolutionLayout ? [kernelSize.0, kernelSize.1, 1, inputChannels * depthMultiplier]
            : [kernelSize.0, kernelSize.1, inputChannels, depthMultiplier]
        kernel = Parameter(name: "kernel", value: Tensor(zeros: shape))
        bias = useBias ? Parameter(name: "bias", value: Tensor(zeros: [inputChannels * depthMultiplier])) : nil
    }

    /// The kernel as `(kh, kw, inChannels, depthMultiplier)`, whatever its declared shape.
    public var depthwiseKernel: Tensor {
        kernel.value.reshaped([kernelSize.height, kernelSize.width, inputChannels, depthMultiplier])
    }

    public var parameters: [Parameter] { [kernel] + (bias.map { [$0] } ?? []) }

    public func outputShape(for inputShape: [Int]) throws -> [Int] {
        let g = try geometry(for: inputShape)
        return [g.outHeight, g.outWidth, inputChannels * depthMultiplier]
    }

    public func forward(_ input: Tensor) -> Tensor {
        depthwiseConvolution(input, kernel: depthwiseKernel, bias: bias?.value, activation: activation,
                             geometry: geometry(validated: input.sampleShape))
    }
}

/// The depthwise convolution itself, shared with SeparableConv2D.
///
/// Each output row is computed on its own (split over the intra-op threads
/// for a single image): the bias first, then every window tap added as a
/// run over the channels — contiguous in NHWC, so the inner loop vectorises
/// (with depth multiplier 1, the common case, it is one multiply-add per
/// channel) — then the activation over the row.
func depthwiseConvolution(_ input: Tensor, kernel: Tensor, bias: Tensor?, activation: Activation,
                          geometry g: WindowGeometry) -> Tensor {
    let n = input.batchCount, c = kernel.shape[2], dm = kernel.shape[3]
    let outC = c * dm
    var output = Tensor(zeros: [n, g.outHeight, g.outWidth, outC])
    input.scalars.withUnsafeBufferPointer { x in
        kernel.scalars.withUnsafeBufferPointer { w in
            output.scalars.withUnsafeMutableBufferPointer { y in
                nonisolated(unsafe) let (xp, wp, yp) = (x.baseAddress!, w.baseAddress!, y.baseAddress!)
                let biasValues = bias?.scalars
                let rowLength = g.outWidth * outC
                /// Output row `oy` of image `b`.
                func row(_ b: Int, _ oy: Int) {
                    let image = xp + b * g.inHeight * g.inWidth * c
                    let out = yp + (b * g.outHeight + oy) * rowLength
                    for ox in 0..<g.outWidth {
                        let dst = out + ox * outC
                        if let biasValues { for k in 0..<outC { dst[k] = biasValues[k] } }
                        for ky in 0..<g.kernelHeight {
                            let iy = oy * g.strideY - g.padTop + ky * g.dilationY
                            guard iy >= 0, iy < g.inHeight else { continue }
                            for kx in 0..<g.kernelWidth {
                                let ix = ox * g.strideX - g.padLeft + kx * g.dilationX
                                guard ix >= 0, ix < g.inWidth else { continue }
                                let src = image + (iy * g.inWidth + ix) * c
                                let wk = wp + (ky * g.kernelWidth + kx) * outC
                                if dm == 1 {
                                    for ch in 0..<c { dst[ch] += src[ch] * wk[ch] }
                                } else {
                                    for ch in 0..<c {
                                        let v = src[ch]
                                        for m in 0..<dm { dst[ch * dm + m] += v * wk[ch * dm + m] }
                                    }
                                }
                            }
                        }
                    }
                    activation.apply(out, count: rowLength, rowLength: outC)
                }
                let parts = n == 1 ? min(IntraOp.threads, IntraOpPool.shared.helpers + 1, g.outHeight) : 1
                if parts > 1 {
                    let share = (g.outHeight + parts - 1) / parts
                    IntraOpPool.shared.run(parts: parts) { part in
                        for oy in min(g.outHeight, part * share)..<min(g.outHeight, (part + 1) * share) { row(0, oy) }
                    }
                } else {
                    for b in 0..<n { for oy in 0..<g.outHeight { row(b, oy) } }
                }
            }
        }
    }
    return output
}

// MARK: - Training

extension DepthwiseConv2D: ActivatedLayer {
    /// The input (for the kernel gradient), the output and, for a
    /// non-linear activation, the pre-activation.
    public struct Cache: ActivatedCache {
        public let input: Tensor
        public let output: Tensor
        public let preActivation: Tensor?
    }

    public func forward(_ input: Tensor, context: TrainingContext) -> (output: Tensor, cache: any LayerCache) {
        var output = depthwiseConvolution(input, kernel: depthwiseKernel, bias: bias?.value, activation: .linear,
                                          geometry: geometry(validated: input.sampleShape))
        let pre = activation == .linear ? nil : output
        activation.apply(to: &output)
        return (output, Cache(input: input, output: output, preActivation: pre))
    }

    /// dKernel, dBias (column sums of dZ) and dX; see `depthwiseBackward`.
    public func backward(preActivationGradient dz: Tensor, cache: any LayerCache, gradients: Gradients) -> Tensor {
        let cache = cache as! Cache
        let g = geometry(validated: cache.input.sampleShape)
        precondition(dz.shape == [cache.input.batchCount, g.outHeight, g.outWidth, inputChannels * depthMultiplier],
                     "\(name): gradient shape \(dz.shape)")
        if let bias {
            dz.scalars.withUnsafeBufferPointer { dzp in
                gradients.accumulate(bias) { db in
                    addColumnSums(dzp.baseAddress!, rows: dz.count / db.count, columns: db.count, into: db.baseAddress!)
                }
            }
        }
        return depthwiseBackward(dz, input: cache.input, kernel: kernel, multiplier: depthMultiplier, geometry: g, gradients: gradients)
    }
}

/// Backward of `depthwiseConvolution` (without bias or activation), shared
/// with SeparableConv2D: for every output pixel, window position and
/// channel, dKernel[ky, kx, c, m] += x · dz and dX[iy, ix, c] += w · dz.
/// - Parameter dz: NHWC `[n, outH, outW, c * depthMultiplier]`.
/// - Returns: dX, the shape of `input`.
func depthwiseBackward(_ dz: Tensor, input: Tensor, kernel: Parameter, multiplier dm: Int, geometry g: WindowGeometry,
                       gradients: Gradients) -> Tensor {
    let n = input.batchCount, c = input.shape[3]
    let outC = c * dm
    var dx = Tensor(zeros: input.shape)
    var dw = [Float](repeating: 0, count: kernel.value.count)
    input.scalars.withUnsafeBufferPointer { x in
        kernel.value.scalars.withUnsafeBufferPointer { w in
            dz.scalars.withUnsafeBufferPointer { dy in
                dx.scalars.withUnsafeMutableBufferPointer { dxp in
                    dw.withUnsafeMutableBufferPointer { dwp in
                        for b in 0..<n {
                            let image = x.baseAddress! + b * g.inHeight * g.inWidth * c
                            let dImage = dxp.baseAddress! + b * g.inHeight * g.inWidth * c
                            for oy in 0..<g.outHeight {
                                for ox in 0..<g.outWidth {
                                    let src = dy.baseAddress! + ((b * g.outHeight + oy) * g.outWidth + ox) * outC
                                    for ky in 0..<g.kernelHeight {
                                        let iy = oy * g.strideY - g.padTop + ky * g.dilationY
                                        guard iy >= 0, iy < g.inHeight else { continue }
                                        for kx in 0..<g.kernelWidth {
                                            let ix = ox * g.strideX - g.padLeft + kx * g.dilationX
                                            guard ix >= 0, ix < g.inWidth else { continue }
                                            let offset = (iy * g.inWidth + ix) * c
                                            let wk = w.baseAddress! + (ky * g.kernelWidth + kx) * outC
                                            let dwk = dwp.baseAddress! + (ky * g.kernelWidth + kx) * outC
                                            for ch in 0..<c {
                                                let v = image[offset + ch]
                                                var sum: Float = 0
                                                for m in 0..<dm {
                                                    let d = src[ch * dm + m]
                                                    dwk[ch * dm + m] += v * d
                                                    sum += wk[ch * dm + m] * d
                                                }
                                                dImage[offset + ch] += sum
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    gradients.accumulate(kernel) { d in for i in 0..<d.count { d[i] += dw[i] } }
    return dx
}

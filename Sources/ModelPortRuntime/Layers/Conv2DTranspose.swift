/// Transposed 2-D convolution ("deconvolution") over NHWC input, as Keras's
/// `Conv2DTranspose` (TensorFlow's `conv2d_transpose`): the gradient of a
/// Conv2D with respect to its input. Keras kernel layout
/// `(kh, kw, filters, inChannels)` — output and input channels swapped.
///
/// Output size: `(in - 1) * stride + kernel` for "valid", `in * stride` for
/// "same" (padding `max(kernel - stride, 0)`, the odd one after, cropped).
public final class Conv2DTranspose: Layer, @unchecked Sendable {
    public let name: String
    public var typeName: String { "Conv2DTranspose" }
    public let kernelSize: (height: Int, width: Int)
    public let strides: (y: Int, x: Int)
    public let padding: WindowGeometry.Padding
    public let activation: Activation
    public let kernel: Parameter
    public let bias: Parameter?

    public init(name: String, inputChannels: Int, filters: Int, kernelSize: (Int, Int), strides: (Int, Int) = (1, 1),
                padding: WindowGeometry.Padding = .valid, activation: Activation = .linear, useBias: Bool = true) {
        precondition(inputChannels > 0 && filters > 0)
        self.name = name
        self.kernelSize = kernelSize
        self.strides = strides
        self.padding = padding
        self.activation = activation
        kernel = Parameter(name: "kernel", value: Tensor(zeros: [kernelSize.0, kernelSize.1, filters, inputChannels]))
        bias = useBias ? Parameter(name: "bias", value: Tensor(zeros: [filters])) : nil
    }

    public var inputChannels: Int { kernel.shape[3] }
    public var filters: Int { kernel.shape[2] }
    public var parameters: [Parameter] { [kernel] + (bias.map { [$0] } ?? []) }

    /// Output extent and leading padding along one axis.
    func extent(_ size: Int, kernel k: Int, stride s: Int) -> (out: Int, pad: Int) {
        switch padding {
        case .valid: return ((size - 1) * s + k, 0)
        case .same: return (size * s, max(k - s, 0) / 2)
        }
    }

    public func outputShape(for s: [Int]) throws -> [Int] {
        guard s.count == 3, s[2] == inputChannels else {
            throw RuntimeError("expects (height, width, \(inputChannels)) input, got \(s)")
        }
        return [extent(s[0], kernel: kernelSize.0, stride: strides.y).out,
                extent(s[1], kernel: kernelSize.1, stride: strides.x).out, filters]
    }

    public func forward(_ input: Tensor) -> Tensor {
        let (n, h, w, c) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
        let (kh, kw, f) = (kernelSize.0, kernelSize.1, filters)
        let (oh, padTop) = extent(h, kernel: kh, stride: strides.y)
        let (ow, padLeft) = extent(w, kernel: kw, stride: strides.x)
        // Kernel as a [c, kh * kw * f] matrix, so one sgemm gives every
        // input pixel's contribution to each (ky, kx, filter) of its window.
        var wt = [Float](repeating: 0, count: c * kh * kw * f)
        for p in 0..<(kh * kw) { for o in 0..<f { for ch in 0..<c {
            wt[ch * kh * kw * f + p * f + o] = kernel.value.scalars[(p * f + o) * c + ch]
        } } }
        let rows = n * h * w, cols = kh * kw * f
        var contributions = [Float](repeating: 0, count: rows * cols)
        input.scalars.withUnsafeBufferPointer { x in
            wt.withUnsafeBufferPointer { wp in
                contributions.withUnsafeMutableBufferPointer { cp in
                    sgemm(m: rows, n: cols, k: c, a: x.baseAddress!, lda: c, b: wp.baseAddress!, ldb: cols, c: cp.baseAddress!, ldc: cols)
                }
            }
        }
        var output = Tensor(zeros: [n, oh, ow, f])
        output.scalars.withUnsafeMutableBufferPointer { y in
            contributions.withUnsafeBufferPointer { cp in
                for b in 0..<n { for iy in 0..<h { for ix in 0..<w {
                    let row = cp.baseAddress! + ((b * h + iy) * w + ix) * cols
                    for ky in 0..<kh {
                        let oy = iy * strides.y - padTop + ky
                        guard oy >= 0, oy < oh else { continue }
                        for kx in 0..<kw {
                            let ox = ix * strides.x - padLeft + kx
                            guard ox >= 0, ox < ow else { continue }
                            let dst = y.baseAddress! + ((b * oh + oy) * ow + ox) * f
                            let src = row + (ky * kw + kx) * f
                            for o in 0..<f { dst[o] += src[o] }
                        }
                    }
                } } }
            }
            addBiasAndActivate(y.baseAddress!, rows: n * oh * ow, columns: f, bias: bias, activation: activation)
        }
        return output
    }
}

// MARK: - Training

extension Conv2DTranspose: ActivatedLayer {
    /// The input (for the kernel gradient), the output and, for a
    /// non-linear activation, the pre-activation.
    public struct Cache: ActivatedCache {
        public let input: Tensor
        public let output: Tensor
        public let preActivation: Tensor?
    }

    public func forward(_ input: Tensor, context: TrainingContext) -> (output: Tensor, cache: any LayerCache) {
        // The inference forward with the activation split off.
        var output: Tensor
        if activation == .linear {
            output = forward(input)
        } else {
            let linear = Conv2DTranspose(name: name, inputChannels: inputChannels, filters: filters, kernelSize: kernelSize,
                                         strides: strides, padding: padding, activation: .linear, useBias: bias != nil)
            linear.kernel.value = kernel.value
            if let bias { linear.bias!.value = bias.value }
            output = linear.forward(input)
        }
        let pre = activation == .linear ? nil : output
        activation.apply(to: &output)
        return (output, Cache(input: input, output: output, preActivation: pre))
    }

    /// The forward scatters `contributions = x · Wᵀ` (one `[kh·kw·filters]`
    /// row per input pixel) into the output; backward gathers dZ into
    /// dContributions, then dX = dContributions · W and dW += xᵀ · dContributions.
    public func backward(preActivationGradient dz: Tensor, cache: any LayerCache, gradients: Gradients) -> Tensor {
        let input = (cache as! Cache).input
        let (n, h, w, c) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
        let (kh, kw, f) = (kernelSize.0, kernelSize.1, filters)
        let (oh, padTop) = extent(h, kernel: kh, stride: strides.y)
        let (ow, padLeft) = extent(w, kernel: kw, stride: strides.x)
        precondition(dz.shape == [n, oh, ow, f], "\(name): gradient shape \(dz.shape)")
        let rows = n * h * w, cols = kh * kw * f
        var dContributions = [Float](repeating: 0, count: rows * cols)
        dz.scalars.withUnsafeBufferPointer { dy in
            dContributions.withUnsafeMutableBufferPointer { dc in
                for b in 0..<n { for iy in 0..<h { for ix in 0..<w {
                    let row = dc.baseAddress! + ((b * h + iy) * w + ix) * cols
                    for ky in 0..<kh {
                        let oy = iy * strides.y - padTop + ky
                        guard oy >= 0, oy < oh else { continue }
                        for kx in 0..<kw {
                            let ox = ix * strides.x - padLeft + kx
                            guard ox >= 0, ox < ow else { continue }
                            let src = dy.baseAddress! + ((b * oh + oy) * ow + ox) * f
                            (row + (ky * kw + kx) * f).update(from: src, count: f)
                        }
                    }
                } } }
            }
            if let bias {
                gradients.accumulate(bias) { db in addColumnSums(dy.baseAddress!, rows: n * oh * ow, columns: f, into: db.baseAddress!) }
            }
        }
        // Keras's kernel (kh, kw, f, c) is already a [kh·kw·f, c] matrix W,
        // and the forward used Wᵀ: dX[rows, c] = dC[rows, cols] · W.
        var dx = Tensor(zeros: input.shape)
        dContributions.withUnsafeBufferPointer { dc in
            kernel.value.scalars.withUnsafeBufferPointer { wp in
                dx.scalars.withUnsafeMutableBufferPointer { dxp in
                    sgemm(m: rows, n: c, k: cols, a: dc.baseAddress!, lda: cols, b: wp.baseAddress!, ldb: c,
                          c: dxp.baseAddress!, ldc: c)
                }
            }
            input.scalars.withUnsafeBufferPointer { x in
                // dW[cols, c] += dCᵀ[cols, rows] · x[rows, c].
                gradients.accumulate(kernel) { dw in
                    sgemm(transA: true, transB: false, m: cols, n: c, k: rows, a: dc.baseAddress!, lda: cols,
                          b: x.baseAddress!, ldb: c, c: dw.baseAddress!, ldc: c, beta: 1)
                }
            }
        }
        return dx
    }
}

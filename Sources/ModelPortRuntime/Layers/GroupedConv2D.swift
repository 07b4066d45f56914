/// 2-D convolution whose input and output channels are split into `groups`
/// (Keras `Conv2D(groups=g)`, RegNet's and ResNeXt's 3x3 convolutions): output
/// channel o sees only the input channels of its group, `o / (filters / groups)`.
/// Kernel `(kh, kw, inChannels / groups, filters)` as Keras stores it.
///
/// Inference only (a direct convolution): training through it is refused by
/// the trainer (no backward pass yet). `groups` equal to the input channels
/// is a `DepthwiseConv2D` instead.
public final class GroupedConv2D: Layer, ConvolutionWindow, @unchecked Sendable {
    public let name: String
    public var typeName: String { "Conv2D" }
    public let groups: Int
    public let filters: Int
    public let kernelSize: (height: Int, width: Int)
    public let strides: (y: Int, x: Int)
    public let dilation: (y: Int, x: Int)
    public let padding: WindowGeometry.Padding
    public let activation: Activation
    public let kernel: Parameter
    public let bias: Parameter?

    /// - Precondition: `inputChannels` and `filters` are multiples of `groups`.
    public init(name: String, inputChannels: Int, filters: Int, groups: Int, kernelSize: (Int, Int),
                strides: (Int, Int) = (1, 1), dilation: (Int, Int) = (1, 1), padding: WindowGeometry.Padding = .valid,
                activation: Activation = .linear, useBias: Bool = true) {
        precondition(groups > 0 && inputChannels % groups == 0 && filters % groups == 0)
        self.name = name
        self.groups = groups
        self.filters = filters
        self.kernelSize = kernelSize
        self.strides = strides
        self.dilation = dilation
        self.padding = padding
        self.activation = activation
        kernel = Parameter(name: "kernel", value: Tensor(zeros: [kernelSize.0, kernelSize.1, inputChannels / groups, filters]))
        bias = useBias ? Parameter(name: "bias", value: Tensor(zeros: [filters])) : nil
    }

    public var inputChannels: Int { kernel.shape[2] * groups }
    public var parameters: [Parameter] { [kernel] + (bias.map { [$0] } ?? []) }

    public func outputShape(for inputShape: [Int]) throws -> [Int] {
        let g = try geometry(for: inputShape)
        return [g.outHeight, g.outWidth, filters]
    }

    public func forward(_ input: Tensor) -> Tensor {
        let (n, h, w, c) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
        let g = WindowGeometry.validated([h, w, c], kernel: kernelSize, strides: strides, dilation: dilation, padding: padding)
        let perGroupIn = kernel.shape[2], perGroupOut = filters / groups, f = filters
        var output = Tensor(zeros: [n, g.outHeight, g.outWidth, f])
        let k = kernel.value.scalars
        input.scalars.withUnsafeBufferPointer { x in
            output.scalars.withUnsafeMutableBufferPointer { y in
                for b in 0..<n { for oy in 0..<g.outHeight { for ox in 0..<g.outWidth {
                    let dst = ((b * g.outHeight + oy) * g.outWidth + ox) * f
                    for ky in 0..<g.kernelHeight {
                        let iy = oy * g.strideY - g.padTop + ky * g.dilationY
                        guard iy >= 0, iy < h else { continue }
                        for kx in 0..<g.kernelWidth {
                            let ix = ox * g.strideX - g.padLeft + kx * g.dilationX
                            guard ix >= 0, ix < w else { continue }
                            let src = ((b * h + iy) * w + ix) * c
                            let tap = (ky * g.kernelWidth + kx) * perGroupIn * f
                            // Each input channel of a group feeds that group's filters (contiguous in the kernel row).
                            for i in 0..<c {
                                let v = x[src + i], group = i / perGroupIn
                                let row = tap + (i % perGroupIn) * f + group * perGroupOut
                                for o in 0..<perGroupOut { y[dst + group * perGroupOut + o] += v * k[row + o] }
                            }
                        }
                    }
                } } }
            }
        }
        if let bias { for i in 0..<output.count { output.scalars[i] += bias.value.scalars[i % f] } }
        activation.apply(to: &output)
        return output
    }
}

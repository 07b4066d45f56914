/// A transposed convolution over any number of spatial axes as ONNX
/// `ConvTranspose` defines it: input position i adds its channels, through
/// kernel offset t, to output position `i * stride + t * dilation - padBegin`
/// (per axis; positions outside the output are dropped), with groups; the
/// output size is fixed (ONNX's, from pads, output_padding or output_shape
/// and the model's input size). Input `(spatial..., channels)`, channels last.
/// The importer uses it where Keras's `Conv2DTranspose` ("valid"/"same",
/// then cropped) does not fit, so it has no Keras class.
///
/// Weights: kernel `(k1, ..., kn, filters / groups, inputChannels)` (Keras's
/// `Conv2DTranspose` layout), bias `(filters)` if used. Input channel c
/// feeds the filters of group `c / (inputChannels / groups)`.
public final class WindowConvTranspose: Layer, @unchecked Sendable {
    public let name: String
    public var typeName: String { "WindowConvTranspose" }
    public let kernelSize: [Int]
    public let strides: [Int]
    public let dilations: [Int]
    /// Output positions dropped before the first (negative: empty positions added).
    public let padsBegin: [Int]
    public let outputSize: [Int]
    public let inputChannels: Int
    public let filters: Int
    public let groups: Int
    public let kernel: Parameter
    public let bias: Parameter?

    public init(name: String, inputChannels: Int, filters: Int, kernelSize: [Int], strides: [Int], dilations: [Int], padsBegin: [Int],
                outputSize: [Int], groups: Int = 1, useBias: Bool = true) {
        let k = kernelSize.count
        precondition(k >= 1 && strides.count == k && dilations.count == k && padsBegin.count == k && outputSize.count == k)
        precondition((kernelSize + strides + dilations + outputSize).allSatisfy { $0 >= 1 })
        precondition(groups >= 1 && inputChannels % groups == 0 && filters % groups == 0)
        self.name = name
        self.kernelSize = kernelSize
        self.strides = strides
        self.dilations = dilations
        self.padsBegin = padsBegin
        self.outputSize = outputSize
        self.inputChannels = inputChannels
        self.filters = filters
        self.groups = groups
        kernel = Parameter(name: "kernel", value: Tensor(zeros: kernelSize + [filters / groups, inputChannels]))
        bias = useBias ? Parameter(name: "bias", value: Tensor(zeros: [filters])) : nil
    }

    public var parameters: [Parameter] { [kernel, bias].compactMap { $0 } }

    public func outputShape(for inputShape: [Int]) throws -> [Int] {
        let k = kernelSize.count
        guard inputShape.count == k + 1, inputShape.last == inputChannels else {
            throw RuntimeError("expects (\(k) spatial axes, \(inputChannels) channels) input, got \(inputShape)")
        }
        return outputSize + [filters]
    }

    /// Calls `body(inputPosition, taps)` for every input position of one
    /// sample, `taps` holding the (kernel position, output position) pairs it
    /// feeds (positions are flat spatial indices).
    func eachInput(_ inputShape: [Int], _ body: (Int, [(kernel: Int, output: Int)]) -> Void) {
        let spatial = Array(inputShape.dropLast())
        var outStrides = [Int](repeating: 1, count: spatial.count), kStrides = outStrides
        for a in stride(from: spatial.count - 2, through: 0, by: -1) {
            outStrides[a] = outStrides[a + 1] * outputSize[a + 1]
            kStrides[a] = kStrides[a + 1] * kernelSize[a + 1]
        }
        var index = [Int](repeating: 0, count: spatial.count)
        for i in 0..<spatial.reduce(1, *) {
            var taps = [(kernel: 0, output: 0)]
            for a in spatial.indices {
                var axisTaps: [(Int, Int)] = []
                for t in 0..<kernelSize[a] {
                    let o = index[a] * strides[a] + t * dilations[a] - padsBegin[a]
                    if o >= 0 && o < outputSize[a] { axisTaps.append((t * kStrides[a], o * outStrides[a])) }
                }
                taps = taps.flatMap { tap in axisTaps.map { (kernel: tap.kernel + $0.0, output: tap.output + $0.1) } }
            }
            body(i, taps)
            var a = spatial.count - 1
            while a >= 0 { index[a] += 1; if index[a] < spatial[a] { break }; index[a] = 0; a -= 1 }
        }
    }

    public func forward(_ input: Tensor) -> Tensor {
        let sample = input.sampleShape
        let n = input.batchCount, inCount = sample.reduce(1, *), outCount = outputSize.reduce(1, *) * filters
        let c = inputChannels, f = filters, perGroupIn = c / groups, perGroupOut = f / groups
        let w = kernel.value.scalars, x = input.scalars
        var output = Tensor(zeros: [n] + outputSize + [f])
        eachInput(sample) { i, taps in
            for b in 0..<n {
                for (k, o) in taps {
                    let dst = b * outCount + o * f
                    for ch in 0..<c {
                        let v = x[b * inCount + i * c + ch]
                        let group = ch / perGroupIn
                        for m in 0..<perGroupOut { output.scalars[dst + group * perGroupOut + m] += v * w[(k * perGroupOut + m) * c + ch] }
                    }
                }
            }
        }
        if let bias { for j in 0..<output.count { output.scalars[j] += bias.value.scalars[j % f] } }
        return output
    }
}

// MARK: - Training

extension WindowConvTranspose: TrainableLayer {
    public struct Cache: LayerCache { public let input: Tensor }

    public func forward(_ input: Tensor, context: TrainingContext) -> (output: Tensor, cache: any LayerCache) {
        (forward(input), Cache(input: input))
    }

    /// By the same taps as forward: dx gathers the output gradient through
    /// the kernel, dkernel the output gradient times the input; dbias sums the
    /// output gradient.
    public func backward(_ outputGradient: Tensor, cache: any LayerCache, gradients: Gradients) -> Tensor {
        let input = (cache as! Cache).input
        let sample = input.sampleShape
        let n = input.batchCount, inCount = sample.reduce(1, *), outCount = outputSize.reduce(1, *) * filters
        let c = inputChannels, f = filters, perGroupIn = c / groups, perGroupOut = f / groups
        let w = kernel.value.scalars, x = input.scalars, dy = outputGradient.scalars
        precondition(dy.count == n * outCount, "\(name): gradient shape \(outputGradient.shape)")
        var dx = Tensor(zeros: input.shape)
        var dw = [Float](repeating: 0, count: w.count)
        eachInput(sample) { i, taps in
            for b in 0..<n {
                for (k, o) in taps {
                    let src = b * outCount + o * f
                    for ch in 0..<c {
                        let xi = b * inCount + i * c + ch
                        let group = ch / perGroupIn
                        var sum: Float = 0
                        for m in 0..<perGroupOut {
                            let g = dy[src + group * perGroupOut + m], wi = (k * perGroupOut + m) * c + ch
                            sum += g * w[wi]
                            dw[wi] += g * x[xi]
                        }
                        dx.scalars[xi] += sum
                    }
                }
            }
        }
        gradients.accumulate(kernel) { d in for j in 0..<dw.count { d[j] += dw[j] } }
        if let bias {
            gradients.accumulate(bias) { d in for j in 0..<dy.count { d[j % f] += dy[j] } }
        }
        return dx
    }
}

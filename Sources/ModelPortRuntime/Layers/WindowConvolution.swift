/// A convolution over any number of spatial axes as ONNX `Conv` defines it:
/// explicit pads before and after each axis (zeros), strides, dilations and
/// groups; input `(spatial..., channels)`, channels last. The importer uses
/// it for what `Conv2D` and its kin do not cover (3-D convolutions); Keras's
/// `Conv3D` is not mapped to it (yet), so it is read from ONNX only.
///
/// Weights: kernel `(k1, ..., kn, inputChannels / groups, filters)` (Keras's
/// layout), bias `(filters)` if used. Output channel o reads the input
/// channels of group `o / (filters / groups)`.
public final class WindowConvolution: Layer, @unchecked Sendable {
    public let name: String
    public var typeName: String { "WindowConvolution" }
    public let kernelSize: [Int]
    public let strides: [Int]
    public let dilations: [Int]
    public let padsBegin: [Int]
    public let padsEnd: [Int]
    public let inputChannels: Int
    public let filters: Int
    public let groups: Int
    public let kernel: Parameter
    public let bias: Parameter?

    public init(name: String, inputChannels: Int, filters: Int, kernelSize: [Int], strides: [Int], dilations: [Int], padsBegin: [Int],
                padsEnd: [Int], groups: Int = 1, useBias: Bool = true) {
        let k = kernelSize.count
        precondition(k >= 1 && strides.count == k && dilations.count == k && padsBegin.count == k && padsEnd.count == k)
        precondition((kernelSize + strides + dilations).allSatisfy { $0 >= 1 } && (padsBegin + padsEnd).allSatisfy { $0 >= 0 })
        precondition(groups >= 1 && inputChannels % groups == 0 && filters % groups == 0)
        self.name = name
        self.kernelSize = kernelSize
        self.strides = strides
        self.dilations = dilations
        self.padsBegin = padsBegin
        self.padsEnd = padsEnd
        self.inputChannels = inputChannels
        self.filters = filters
        self.groups = groups
        kernel = Parameter(name: "kernel", value: Tensor(zeros: kernelSize + [inputChannels / groups, filters]))
        bias = useBias ? Parameter(name: "bias", value: Tensor(zeros: [filters])) : nil
    }

    public var parameters: [Parameter] { [kernel, bias].compactMap { $0 } }

    public func outputShape(for inputShape: [Int]) throws -> [Int] {
        let k = kernelSize.count
        guard inputShape.count == k + 1, inputShape.last == inputChannels else {
            throw RuntimeError("expects (\(k) spatial axes, \(inputChannels) channels) input, got \(inputShape)")
        }
        var out: [Int] = []
        for a in 0..<k {
            let room = inputShape[a] + padsBegin[a] + padsEnd[a] - ((kernelSize[a] - 1) * dilations[a] + 1)
            guard room >= 0 else {
                throw RuntimeError("a kernel of \(kernelSize[a]) (dilation \(dilations[a])) does not fit axis \(a) of size \(inputShape[a]) with pads \(padsBegin[a]), \(padsEnd[a])")
            }
            out.append(room / strides[a] + 1)
        }
        return out + [filters]
    }

    /// The output shape for a sample shape `outputShape(for:)` accepted
    /// (forward and backward passes). No checks.
    func outputShape(validated inputShape: [Int]) -> [Int] {
        kernelSize.indices.map { a in
            (inputShape[a] + padsBegin[a] + padsEnd[a] - ((kernelSize[a] - 1) * dilations[a] + 1)) / strides[a] + 1
        } + [filters]
    }

    /// Calls `body(outputPosition, taps)` for every output position of one
    /// sample, `taps` holding (kernel position, input position) pairs inside
    /// the input (positions are flat spatial indices).
    func eachWindow(_ inputShape: [Int], _ body: (Int, [(kernel: Int, input: Int)]) -> Void) {
        let spatial = Array(inputShape.dropLast())
        let out = Array(outputShape(validated: inputShape).dropLast())
        var inStrides = [Int](repeating: 1, count: spatial.count), kStrides = inStrides
        for a in stride(from: spatial.count - 2, through: 0, by: -1) {
            inStrides[a] = inStrides[a + 1] * spatial[a + 1]
            kStrides[a] = kStrides[a + 1] * kernelSize[a + 1]
        }
        var index = [Int](repeating: 0, count: spatial.count)
        for o in 0..<out.reduce(1, *) {
            var taps = [(kernel: 0, input: 0)]
            for a in spatial.indices {
                var axisTaps: [(Int, Int)] = []
                for t in 0..<kernelSize[a] {
                    let p = index[a] * strides[a] - padsBegin[a] + t * dilations[a]
                    if p >= 0 && p < spatial[a] { axisTaps.append((t * kStrides[a], p * inStrides[a])) }
                }
                taps = taps.flatMap { tap in axisTaps.map { (kernel: tap.kernel + $0.0, input: tap.input + $0.1) } }
            }
            body(o, taps)
            var a = spatial.count - 1
            while a >= 0 { index[a] += 1; if index[a] < out[a] { break }; index[a] = 0; a -= 1 }
        }
    }

    public func forward(_ input: Tensor) -> Tensor {
        let sample = input.sampleShape
        let outSample = outputShape(validated: sample)
        let n = input.batchCount, inCount = sample.reduce(1, *), outCount = outSample.reduce(1, *)
        let c = inputChannels, f = filters, perGroupIn = c / groups, perGroupOut = f / groups
        let w = kernel.value.scalars, x = input.scalars
        var output = Tensor(zeros: [n] + outSample)
        eachWindow(sample) { o, taps in
            for b in 0..<n {
                for filter in 0..<f {
                    let group = filter / perGroupOut
                    var sum = bias?.value.scalars[filter] ?? 0
                    for (k, p) in taps {
                        let src = b * inCount + p * c + group * perGroupIn
                        for i in 0..<perGroupIn { sum += x[src + i] * w[(k * perGroupIn + i) * f + filter] }
                    }
                    output.scalars[b * outCount + o * f + filter] = sum
                }
            }
        }
        return output
    }
}

// MARK: - Training

extension WindowConvolution: TrainableLayer {
    public struct Cache: LayerCache { public let input: Tensor }

    public func forward(_ input: Tensor, context: TrainingContext) -> (output: Tensor, cache: any LayerCache) {
        (forward(input), Cache(input: input))
    }

    /// dx and dkernel by the same windows as forward: each output's gradient
    /// times the kernel goes back to the inputs it read, times the inputs to
    /// the kernel; dbias sums the output gradient.
    public func backward(_ outputGradient: Tensor, cache: any LayerCache, gradients: Gradients) -> Tensor {
        let input = (cache as! Cache).input
        let sample = input.sampleShape
        let n = input.batchCount, inCount = sample.reduce(1, *), outCount = outputGradient.count / max(n, 1)
        let c = inputChannels, f = filters, perGroupIn = c / groups, perGroupOut = f / groups
        let w = kernel.value.scalars, x = input.scalars, dy = outputGradient.scalars
        var dx = Tensor(zeros: input.shape)
        var dw = [Float](repeating: 0, count: w.count)
        eachWindow(sample) { o, taps in
            for b in 0..<n {
                for filter in 0..<f {
                    let g = dy[b * outCount + o * f + filter]
                    guard g != 0 else { continue }
                    let group = filter / perGroupOut
                    for (k, p) in taps {
                        let src = b * inCount + p * c + group * perGroupIn
                        for i in 0..<perGroupIn {
                            let wi = (k * perGroupIn + i) * f + filter
                            dx.scalars[src + i] += g * w[wi]
                            dw[wi] += g * x[src + i]
                        }
                    }
                }
            }
        }
        gradients.accumulate(kernel) { d in for i in 0..<dw.count { d[i] += dw[i] } }
        if let bias {
            gradients.accumulate(bias) { d in for i in 0..<dy.count { d[i % f] += dy[i] } }
        }
        return dx
    }
}

/// Max or average pooling over one or more spatial axes as ONNX defines it
/// (`MaxPool`, `AveragePool`): explicit pads before and after each axis,
/// dilated windows, and the output size rounded down or, in ceil mode, up
/// (a window starting past the input and its begin padding is dropped).
/// Padding never wins a maximum; an average divides by the window's
/// positions inside the input, or, counting the padding, inside input plus
/// pads. Input `(spatial..., channels)`, channels last.
///
/// The importer uses it only where Keras's `MaxPooling2D` /
/// `AveragePooling2D` ("valid" / "same" padding) cannot express the
/// operator, so it has no Keras class; no weights.
public final class WindowPooling: Layer, @unchecked Sendable {
    public enum Kind: Sendable, Equatable {
        case max
        case average(countIncludePad: Bool)
    }

    public let name: String
    public var typeName: String { "WindowPooling" }
    public let kind: Kind
    public let kernel: [Int]
    public let strides: [Int]
    public let dilations: [Int]
    public let padsBegin: [Int]
    public let padsEnd: [Int]
    public let ceilMode: Bool

    public init(name: String, kind: Kind, kernel: [Int], strides: [Int], dilations: [Int], padsBegin: [Int], padsEnd: [Int], ceilMode: Bool) {
        let k = kernel.count
        precondition(k >= 1 && strides.count == k && dilations.count == k && padsBegin.count == k && padsEnd.count == k)
        precondition((kernel + strides + dilations).allSatisfy { $0 >= 1 } && (padsBegin + padsEnd).allSatisfy { $0 >= 0 })
        self.name = name
        self.kind = kind
        self.kernel = kernel
        self.strides = strides
        self.dilations = dilations
        self.padsBegin = padsBegin
        self.padsEnd = padsEnd
        self.ceilMode = ceilMode
    }

    /// The output size along spatial axis `a` for input size `size`, or nil when no window fits.
    func outputSize(_ a: Int, _ size: Int) -> Int? {
        let extent = (kernel[a] - 1) * dilations[a] + 1
        let room = size + padsBegin[a] + padsEnd[a] - extent
        guard room >= 0 else { return nil }
        var out = (ceilMode ? (room + strides[a] - 1) / strides[a] : room / strides[a]) + 1
        // Ceil mode: the last window must start inside the input or its begin padding.
        if ceilMode && (out - 1) * strides[a] >= size + padsBegin[a] { out -= 1 }
        return out
    }

    public func outputShape(for inputShape: [Int]) throws -> [Int] {
        guard inputShape.count == kernel.count + 1 else {
            throw RuntimeError("pools \(kernel.count) spatial axes, expects (\(kernel.count) spatial axes, channels) input, got \(inputShape)")
        }
        var out: [Int] = []
        for a in kernel.indices {
            guard let size = outputSize(a, inputShape[a]), size >= 1 else {
                throw RuntimeError("a window of \(kernel[a]) (dilation \(dilations[a])) does not fit axis \(a) of size \(inputShape[a]) with pads \(padsBegin[a]), \(padsEnd[a])")
            }
            out.append(size)
        }
        return out + [inputShape.last!]
    }

    /// The output shape for a sample shape `outputShape(for:)` accepted
    /// (forward and backward passes). No checks.
    func outputShape(validated inputShape: [Int]) -> [Int] {
        kernel.indices.map { outputSize($0, inputShape[$0]) ?? 0 } + [inputShape.last!]
    }

    /// Per spatial axis and output coordinate: the input coordinates the
    /// window covers, and the number of window positions an average divides by.
    struct AxisWindows {
        let inside: [[Int]]
        let counted: [Int]
    }

    func windows(_ inputShape: [Int]) -> [AxisWindows] {
        let out = outputShape(validated: inputShape)
        return kernel.indices.map { a in
            var inside: [[Int]] = [], counted: [Int] = []
            for o in 0..<out[a] {
                let taps = (0..<kernel[a]).map { o * strides[a] - padsBegin[a] + $0 * dilations[a] }
                let valid = taps.filter { $0 >= 0 && $0 < inputShape[a] }
                inside.append(valid)
                counted.append(kind == .average(countIncludePad: true)
                    ? taps.filter { $0 >= -padsBegin[a] && $0 < inputShape[a] + padsEnd[a] }.count : valid.count)
            }
            return AxisWindows(inside: inside, counted: counted)
        }
    }

    /// Calls `body(outputPosition, inputPositions, divisor)` for every output
    /// position of one sample (positions are flat spatial indices).
    func eachWindow(_ inputShape: [Int], _ body: (Int, [Int], Int) -> Void) {
        let w = windows(inputShape)
        let spatial = Array(inputShape.dropLast())
        let outSizes = w.map(\.inside.count)
        var inStrides = [Int](repeating: 1, count: spatial.count)
        for a in stride(from: spatial.count - 2, through: 0, by: -1) { inStrides[a] = inStrides[a + 1] * spatial[a + 1] }
        let total = outSizes.reduce(1, *)
        var index = [Int](repeating: 0, count: spatial.count)
        for o in 0..<total {
            // The cartesian product of the axes' covered coordinates.
            var positions = [0]
            var divisor = 1
            for a in spatial.indices {
                let coords = w[a].inside[index[a]]
                positions = positions.flatMap { p in coords.map { p + $0 * inStrides[a] } }
                divisor *= w[a].counted[index[a]]
            }
            body(o, positions, divisor)
            var a = spatial.count - 1
            while a >= 0 { index[a] += 1; if index[a] < outSizes[a] { break }; index[a] = 0; a -= 1 }
        }
    }

    public func forward(_ input: Tensor) -> Tensor { pool(input).output }

    /// The pooled output and, for max pooling, each output element's winning input index.
    func pool(_ input: Tensor) -> (output: Tensor, winners: [Int]) {
        let sample = input.sampleShape, c = sample.last!
        let outSample = outputShape(validated: sample)
        let n = input.batchCount, inCount = sample.reduce(1, *), outCount = outSample.reduce(1, *)
        var output = Tensor(zeros: [n] + outSample)
        var winners = kind == .max ? [Int](repeating: -1, count: output.count) : []
        let x = input.scalars
        eachWindow(sample) { o, positions, divisor in
            for b in 0..<n {
                for ch in 0..<c {
                    let dst = b * outCount + o * c + ch
                    if kind == .max {
                        var best = -Float.infinity, at = -1
                        for p in positions {
                            let i = b * inCount + p * c + ch
                            if x[i] > best || (x[i].isNaN && !best.isNaN) || at < 0 { best = x[i]; at = i }
                        }
                        output.scalars[dst] = at < 0 ? -.infinity : best
                        winners[dst] = at
                    } else {
                        var sum: Float = 0
                        for p in positions { sum += x[b * inCount + p * c + ch] }
                        output.scalars[dst] = sum / Float(divisor)
                    }
                }
            }
        }
        return (output, winners)
    }
}

// MARK: - Training

extension WindowPooling: TrainableLayer {
    /// The input shape and, for max pooling, each output's winning input index.
    public struct Cache: LayerCache {
        public let inputShape: [Int]
        public let winners: [Int]
    }

    public func forward(_ input: Tensor, context: TrainingContext) -> (output: Tensor, cache: any LayerCache) {
        let (output, winners) = pool(input)
        return (output, Cache(inputShape: input.shape, winners: winners))
    }

    /// Max: each output's gradient goes to its window's winner; average: it
    /// is spread over the window's input positions, divided as forward divides.
    public func backward(_ outputGradient: Tensor, cache: any LayerCache, gradients: Gradients) -> Tensor {
        let cache = cache as! Cache
        var dx = Tensor(zeros: cache.inputShape)
        let dy = outputGradient.scalars
        if kind == .max {
            precondition(dy.count == cache.winners.count, "\(name): gradient shape \(outputGradient.shape)")
            for (o, i) in cache.winners.enumerated() where i >= 0 { dx.scalars[i] += dy[o] }
            return dx
        }
        let sample = Array(cache.inputShape.dropFirst()), c = sample.last!
        let n = cache.inputShape[0], inCount = sample.reduce(1, *), outCount = dy.count / max(n, 1)
        eachWindow(sample) { o, positions, divisor in
            for b in 0..<n {
                for ch in 0..<c {
                    let g = dy[b * outCount + o * c + ch] / Float(divisor)
                    for p in positions { dx.scalars[b * inCount + p * c + ch] += g }
                }
            }
        }
        return dx
    }
}

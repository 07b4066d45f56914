/// Padding of the two spatial axes of NHWC input in ONNX `Pad`'s modes: a
/// constant value, `reflect` (mirrored without repeating the edge, PyTorch's
/// `ReflectionPad2d`), `edge` (the edge repeated, `ReplicationPad2d`) or
/// `wrap` (the other side's rows and columns, circular). Keras's
/// `ZeroPadding2D` (`Padding2D`) is the constant 0; the importer uses this
/// layer only for the others, so it has no Keras class. No weights.
public final class Pad2D: Layer, @unchecked Sendable {
    public enum Mode: Sendable, Equatable {
        case constant(Float)
        case reflect, edge, wrap
    }

    public let name: String
    public var typeName: String { "Pad2D" }
    public let mode: Mode
    public let top, bottom, left, right: Int

    public init(name: String, mode: Mode, top: Int, bottom: Int, left: Int, right: Int) {
        precondition(top >= 0 && bottom >= 0 && left >= 0 && right >= 0)
        self.name = name
        self.mode = mode
        self.top = top; self.bottom = bottom; self.left = left; self.right = right
    }

    public func outputShape(for s: [Int]) throws -> [Int] {
        guard s.count == 3 else { throw RuntimeError("expects (height, width, channels) input, got \(s)") }
        if mode == .reflect {
            guard top < s[0], bottom < s[0], left < s[1], right < s[1] else {
                throw RuntimeError("reflect padding (\(top), \(bottom)), (\(left), \(right)) needs pads smaller than the \(s[0])x\(s[1]) input")
            }
        }
        return [s[0] + top + bottom, s[1] + left + right, s[2]]
    }

    /// The input coordinate an output coordinate `o` reads along an axis of
    /// `size` with `before` padding, or nil for the constant.
    func source(_ o: Int, before: Int, size: Int) -> Int? {
        let i = o - before
        if i >= 0 && i < size { return i }
        switch mode {
        case .constant: return nil
        case .edge: return min(max(i, 0), size - 1)
        case .wrap: return ((i % size) + size) % size
        case .reflect:
            // Mirror about the first and last element (size 1: the element itself).
            guard size > 1 else { return 0 }
            let period = 2 * (size - 1)
            let m = ((i % period) + period) % period
            return m < size ? m : period - m
        }
    }

    public func forward(_ input: Tensor) -> Tensor {
        let (n, h, w, c) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
        let (oh, ow) = (h + top + bottom, w + left + right)
        let fill: Float
        if case .constant(let v) = mode { fill = v } else { fill = 0 }
        var output = Tensor(shape: [n, oh, ow, c], scalars: .init(repeating: fill, count: n * oh * ow * c))
        let rows = (0..<oh).map { source($0, before: top, size: h) }, columns = (0..<ow).map { source($0, before: left, size: w) }
        for b in 0..<n {
            for oy in 0..<oh {
                guard let iy = rows[oy] else { continue }
                for ox in 0..<ow {
                    guard let ix = columns[ox] else { continue }
                    let src = ((b * h + iy) * w + ix) * c, dst = ((b * oh + oy) * ow + ox) * c
                    for ch in 0..<c { output.scalars[dst + ch] = input.scalars[src + ch] }
                }
            }
        }
        return output
    }
}

// MARK: - Training

extension Pad2D: TrainableLayer {
    /// Only the input shape: each output element's gradient goes back to the
    /// input element it copies (none for the constant).
    public struct Cache: LayerCache { public let inputShape: [Int] }

    public func forward(_ input: Tensor, context: TrainingContext) -> (output: Tensor, cache: any LayerCache) {
        (forward(input), Cache(inputShape: input.shape))
    }

    public func backward(_ outputGradient: Tensor, cache: any LayerCache, gradients: Gradients) -> Tensor {
        let shape = (cache as! Cache).inputShape
        let (n, h, w, c) = (shape[0], shape[1], shape[2], shape[3])
        let (oh, ow) = (h + top + bottom, w + left + right)
        precondition(outputGradient.shape == [n, oh, ow, c], "\(name): gradient shape \(outputGradient.shape)")
        let rows = (0..<oh).map { source($0, before: top, size: h) }, columns = (0..<ow).map { source($0, before: left, size: w) }
        var dx = Tensor(zeros: shape)
        for b in 0..<n {
            for oy in 0..<oh {
                guard let iy = rows[oy] else { continue }
                for ox in 0..<ow {
                    guard let ix = columns[ox] else { continue }
                    let src = ((b * oh + oy) * ow + ox) * c, dst = ((b * h + iy) * w + ix) * c
                    for ch in 0..<c { dx.scalars[dst + ch] += outputGradient.scalars[src + ch] }
                }
            }
        }
        return dx
    }
}

/// Zero padding (`ZeroPadding2D`) or cropping (`Cropping2D`) of the spatial
/// axes of NHWC input, by (top, bottom, left, right) rows/columns.
public final class Padding2D: Layer, @unchecked Sendable {
    public enum Kind: Sendable { case zeroPad, crop }
    public let name: String
    public let kind: Kind
    public let top, bottom, left, right: Int
    public var typeName: String { kind == .zeroPad ? "ZeroPadding2D" : "Cropping2D" }

    public init(name: String, kind: Kind, top: Int, bottom: Int, left: Int, right: Int) {
        precondition(top >= 0 && bottom >= 0 && left >= 0 && right >= 0)
        self.name = name
        self.kind = kind
        self.top = top; self.bottom = bottom; self.left = left; self.right = right
    }

    public func outputShape(for s: [Int]) throws -> [Int] {
        guard s.count == 3 else { throw RuntimeError("expects (height, width, channels) input, got \(s)") }
        if kind == .crop {
            guard s[0] > top + bottom, s[1] > left + right else {
                throw RuntimeError("cropping (\(top), \(bottom)), (\(left), \(right)) leaves nothing of a \(s[0])x\(s[1]) input")
            }
        }
        return outputShape(validated: s)
    }

    /// The output shape for a sample shape `outputShape(for:)` accepted
    /// (forward and backward passes). No checks.
    func outputShape(validated s: [Int]) -> [Int] {
        kind == .zeroPad ? [s[0] + top + bottom, s[1] + left + right, s[2]] : [s[0] - top - bottom, s[1] - left - right, s[2]]
    }

    public func forward(_ input: Tensor) -> Tensor {
        let (n, h, w, c) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
        let out = outputShape(validated: [h, w, c])
        var output = Tensor(zeros: [n] + out)
        let (oh, ow) = (out[0], out[1])
        // Offsets of the output's origin in input coordinates.
        let dy = kind == .zeroPad ? -top : top, dx = kind == .zeroPad ? -left : left
        // The columns that come from the input, copied as one contiguous run per row.
        let firstX = max(0, -dx), lastX = min(ow, w - dx)
        guard firstX < lastX else { return output }
        let run = (lastX - firstX) * c
        input.scalars.withUnsafeBufferPointer { x in
            output.scalars.withUnsafeMutableBufferPointer { y in
                for b in 0..<n {
                    for oy in 0..<oh {
                        let iy = oy + dy
                        guard iy >= 0, iy < h else { continue }
                        let src = ((b * h + iy) * w + firstX + dx) * c, dst = ((b * oh + oy) * ow + firstX) * c
                        (y.baseAddress! + dst).update(from: x.baseAddress! + src, count: run)
                    }
                }
            }
        }
        return output
    }
}

// MARK: - Training

extension Padding2D: TrainableLayer {
    /// Only the input shape: the gradient is the output gradient cropped
    /// back (zero padding) or padded back with zeros (cropping).
    public struct Cache: LayerCache { public let inputShape: [Int] }

    public func forward(_ input: Tensor, context: TrainingContext) -> (output: Tensor, cache: any LayerCache) {
        (forward(input), Cache(inputShape: input.shape))
    }

    public func backward(_ outputGradient: Tensor, cache: any LayerCache, gradients: Gradients) -> Tensor {
        let shape = (cache as! Cache).inputShape
        let (n, h, w, c) = (shape[0], shape[1], shape[2], shape[3])
        let out = outputShape(validated: [h, w, c])
        let (oh, ow) = (out[0], out[1])
        precondition(outputGradient.shape == [n] + out, "\(name): gradient shape \(outputGradient.shape)")
        let dy = kind == .zeroPad ? -top : top, dxOff = kind == .zeroPad ? -left : left
        var dx = Tensor(zeros: shape)
        for b in 0..<n {
            for oy in 0..<oh {
                let iy = oy + dy
                guard iy >= 0, iy < h else { continue }
                for ox in 0..<ow {
                    let ix = ox + dxOff
                    guard ix >= 0, ix < w else { continue }
                    let src = ((b * oh + oy) * ow + ox) * c, dst = ((b * h + iy) * w + ix) * c
                    for ch in 0..<c { dx.scalars[dst + ch] = outputGradient.scalars[src + ch] }
                }
            }
        }
        return dx
    }
}

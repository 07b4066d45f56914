/// Nearest-neighbour upsampling of NHWC input by integer factors.
public final class UpSampling2D: Layer, @unchecked Sendable {
    public let name: String
    public var typeName: String { "UpSampling2D" }
    public let size: (y: Int, x: Int)

    public init(name: String, size: (Int, Int)) {
        precondition(size.0 > 0 && size.1 > 0)
        self.name = name
        self.size = size
    }

    public func outputShape(for s: [Int]) throws -> [Int] {
        guard s.count == 3 else { throw RuntimeError("expects (height, width, channels) input, got \(s)") }
        return [s[0] * size.y, s[1] * size.x, s[2]]
    }

    public func forward(_ input: Tensor) -> Tensor {
        let (n, h, w, c) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
        let (oh, ow) = (h * size.y, w * size.x)
        var output = Tensor(zeros: [n, oh, ow, c])
        for b in 0..<n {
            for oy in 0..<oh {
                for ox in 0..<ow {
                    let src = ((b * h + oy / size.y) * w + ox / size.x) * c, dst = ((b * oh + oy) * ow + ox) * c
                    for ch in 0..<c { output.scalars[dst + ch] = input.scalars[src + ch] }
                }
            }
        }
        return output
    }
}

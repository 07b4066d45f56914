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
        if kind == .zeroPad { return [s[0] + top + bottom, s[1] + left + right, s[2]] }
        guard s[0] > top + bottom, s[1] > left + right else {
            throw RuntimeError("cropping (\(top), \(bottom)), (\(left), \(right)) leaves nothing of a \(s[0])x\(s[1]) input")
        }
        return [s[0] - top - bottom, s[1] - left - right, s[2]]
    }

    public func forward(_ input: Tensor) -> Tensor {
        let (n, h, w, c) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
        let out = try! outputShape(for: [h, w, c])
        var output = Tensor(zeros: [n] + out)
        let (oh, ow) = (out[0], out[1])
        // Offsets of the output's origin in input coordinates.
        let dy = kind == .zeroPad ? -top : top, dx = kind == .zeroPad ? -left : left
        for b in 0..<n {
            for oy in 0..<oh {
                let iy = oy + dy
                guard iy >= 0, iy < h else { continue }
                for ox in 0..<ow {
                    let ix = ox + dx
                    guard ix >= 0, ix < w else { continue }
                    let src = ((b * h + iy) * w + ix) * c, dst = ((b * oh + oy) * ow + ox) * c
                    for ch in 0..<c { output.scalars[dst + ch] = input.scalars[src + ch] }
                }
            }
        }
        return output
    }
}

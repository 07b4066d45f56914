/// Global average or max pooling over the spatial axes of NHWC input:
/// `(h, w, c) -> (c)`, or `(1, 1, c)` with `keepDims`.
public final class GlobalPooling2D: Layer, @unchecked Sendable {
    public enum Kind: Sendable { case average, max }
    public let name: String
    public let kind: Kind
    public let keepDims: Bool
    public var typeName: String { kind == .average ? "GlobalAveragePooling2D" : "GlobalMaxPooling2D" }

    public init(name: String, kind: Kind, keepDims: Bool = false) {
        self.name = name
        self.kind = kind
        self.keepDims = keepDims
    }

    public func outputShape(for inputShape: [Int]) throws -> [Int] {
        guard inputShape.count == 3 else { throw RuntimeError("expects (height, width, channels) input, got \(inputShape)") }
        return keepDims ? [1, 1, inputShape[2]] : [inputShape[2]]
    }

    public func forward(_ input: Tensor) -> Tensor {
        let (n, h, w, c) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
        var output = Tensor(zeros: keepDims ? [n, 1, 1, c] : [n, c])
        let pixels = h * w
        for b in 0..<n {
            let base = b * pixels * c
            for ch in 0..<c {
                if kind == .average {
                    var sum: Float = 0
                    for p in 0..<pixels { sum += input.scalars[base + p * c + ch] }
                    output.scalars[b * c + ch] = sum / Float(pixels)
                } else {
                    var m = -Float.infinity
                    for p in 0..<pixels { m = max(m, input.scalars[base + p * c + ch]) }
                    output.scalars[b * c + ch] = m
                }
            }
        }
        return output
    }
}

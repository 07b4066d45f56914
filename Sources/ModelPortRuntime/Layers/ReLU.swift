/// Keras's configurable `ReLU` layer (and the fixed-slope `LeakyReLU`):
/// `y = min(x, maxValue)` for `x >= threshold`, else `negativeSlope * (x - threshold)`.
public final class ReLU: Layer, @unchecked Sendable {
    public let name: String
    public let typeName: String
    public let maxValue: Float?
    public let negativeSlope: Float
    public let threshold: Float

    /// - Parameter typeName: "ReLU" or "LeakyReLU", as the Keras class was.
    public init(name: String, maxValue: Float? = nil, negativeSlope: Float = 0, threshold: Float = 0, typeName: String = "ReLU") {
        self.name = name
        self.maxValue = maxValue
        self.negativeSlope = negativeSlope
        self.threshold = threshold
        self.typeName = typeName
    }

    public func outputShape(for inputShape: [Int]) throws -> [Int] { inputShape }

    @inline(__always)
    func value(_ x: Float) -> Float {
        var y = x >= threshold ? x : negativeSlope * (x - threshold)
        if let maxValue { y = min(y, maxValue) }
        return y
    }

    public func forward(_ input: Tensor) -> Tensor {
        var output = input
        for i in 0..<output.count { output.scalars[i] = value(output.scalars[i]) }
        return output
    }
}
